"""Admin for Pagos (outbox state, attempts, dead letters) and adjustments.

Money is never edited here: Pagos and Ajustes are read-only, and the two actions call the
payout services ("retry delivery" for dead letters, "deliver now" for anything undelivered).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from alpespartners import alcance as acceso
from alpespartners.admin_comun import FiltradoPorAlcance, SoloLectura
from alpespartners.errors import Conflicto
from comision_recompensa.models import Ajuste, EstadoPago, Pago
from comision_recompensa.pagos.entrega import ResultadoEntrega, pago_entregar
from comision_recompensa.pagos.selectors import pago_items
from comision_recompensa.pagos.services import pago_reintentar


@admin.register(Pago)
class PagoAdmin(FiltradoPorAlcance, SoloLectura, admin.ModelAdmin):
    filtro_alcance = staticmethod(acceso.q_pagos)
    list_display = [
        "id",
        "socio",
        "monto",
        "moneda",
        "estado",
        "intentos",
        "ultimo_error",
        "proximo_intento_en",
        "enviado_en",
        "confirmado_en",
        "creado_en",
    ]
    list_filter = ["estado", "moneda"]
    search_fields = ["id", "socio__nombre", "socio__email"]
    list_select_related = ["socio"]
    date_hierarchy = "creado_en"
    ordering = ["-creado_en"]
    readonly_fields = [
        "id",
        "socio",
        "monto",
        "moneda",
        "estado",
        "intentos",
        "ultimo_error",
        "proximo_intento_en",
        "enviado_en",
        "confirmado_en",
        "creado_en",
        "actualizado_en",
        "items",
    ]
    actions = ["reintentar_entrega", "entregar_ahora"]

    @admin.display(description="items")
    def items(self, obj: Pago) -> str:
        filas = pago_items(pago=obj)
        if not filas:
            return "—"
        return format_html(
            "<table><tr><th>tipo</th><th>id</th><th>monto</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((f["tipo"], f["id"], f["monto"]) for f in filas),
            ),
        )

    @admin.action(description="Retry delivery (dead letter → pendiente, attempts reset)")
    def reintentar_entrega(self, request: HttpRequest, queryset: QuerySet[Pago]) -> None:
        hechos, rechazados = 0, 0
        for pago in queryset:
            try:
                pago_reintentar(pago=pago)
                hechos += 1
            except Conflicto:
                rechazados += 1
        self.message_user(request, f"{hechos} Pagos back in the outbox.", messages.SUCCESS)
        if rechazados:
            self.message_user(
                request,
                f"{rechazados} skipped: only fallido Pagos can be retried.",
                messages.WARNING,
            )

    @admin.action(description="Deliver now")
    def entregar_ahora(self, request: HttpRequest, queryset: QuerySet[Pago]) -> None:
        conteo: dict[str, int] = {}
        for pago in queryset:
            if pago.estado == EstadoPago.FALLIDO:
                pago = pago_reintentar(pago=pago)
            resultado = pago_entregar(pago_id=pago.id, forzar=True)
            conteo[resultado.value] = conteo.get(resultado.value, 0) + 1
        hecho = ", ".join(f"{k}: {v}" for k, v in sorted(conteo.items())) or "nothing selected"
        nivel = (
            messages.SUCCESS
            if set(conteo) <= {ResultadoEntrega.ENVIADO.value}
            else messages.WARNING
        )
        self.message_user(request, f"Delivery attempted: {hecho}.", nivel)


@admin.register(Ajuste)
class AjusteAdmin(SoloLectura, admin.ModelAdmin):
    list_display = ["id", "socio", "monto", "moneda", "motivo", "pago", "creado_en"]
    list_filter = ["moneda"]
    search_fields = ["id", "socio__nombre", "motivo"]
    list_select_related = ["socio", "pago"]
    readonly_fields = [
        "id",
        "socio",
        "monto",
        "moneda",
        "motivo",
        "comision",
        "recompensa",
        "pago",
        "creado_en",
    ]
