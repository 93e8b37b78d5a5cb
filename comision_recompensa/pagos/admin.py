"""Admin for Pagos (outbox state, compliance controls, holds, releases, dead letters) and
adjustments.

Money is never edited here: Pagos and Ajustes are read-only, and the actions call the payout
services ("release held Pagos" with a reason, "re-check controls", "retry delivery" for dead
letters, "deliver now" for anything undelivered).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from alpespartners import alcance as acceso
from alpespartners.admin_comun import FiltradoPorAlcance, SoloLectura
from alpespartners.errors import Conflicto, ErrorDominio
from comision_recompensa.models import Ajuste, ControlCumplimiento, EstadoPago, Pago
from comision_recompensa.pagos.cumplimiento import pago_aplicar_controles
from comision_recompensa.pagos.entrega import ResultadoEntrega, pago_entregar
from comision_recompensa.pagos.selectors import pago_items
from comision_recompensa.pagos.services import pago_liberar, pago_reintentar


class ControlInline(admin.TabularInline):
    """Why a Pago is held: the latest result of each control."""

    model = ControlCumplimiento
    fields = ["control", "paso", "detalle", "evaluado_en"]
    readonly_fields = ["control", "paso", "detalle", "evaluado_en"]
    extra = 0
    can_delete = False
    verbose_name_plural = "compliance controls (latest evaluation)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LiberarForm(forms.Form):
    motivo = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Stored on the Pago with your user and the time; the partner sees that it "
        "was released.",
    )


@admin.register(Pago)
class PagoAdmin(FiltradoPorAlcance, SoloLectura, admin.ModelAdmin):
    filtro_alcance = staticmethod(acceso.q_pagos)
    list_display = [
        "id",
        "socio",
        "marca",
        "monto",
        "moneda",
        "estado",
        "controles_fallidos",
        "intentos",
        "ultimo_error",
        "proximo_intento_en",
        "enviado_en",
        "confirmado_en",
        "creado_en",
    ]
    list_filter = ["estado", "moneda", "marca"]
    search_fields = ["id", "socio__nombre", "socio__email"]
    list_select_related = ["socio", "marca"]
    date_hierarchy = "creado_en"
    ordering = ["-creado_en"]
    inlines = [ControlInline]
    readonly_fields = [
        "id",
        "socio",
        "marca",
        "monto",
        "moneda",
        "estado",
        "intentos",
        "ultimo_error",
        "proximo_intento_en",
        "enviado_en",
        "confirmado_en",
        "liberado_en",
        "liberado_por",
        "motivo_liberacion",
        "creado_en",
        "actualizado_en",
        "items",
    ]
    exclude = ["beneficiario"]  # never shown: it holds the payout reference in clear
    actions = ["liberar", "revisar_controles", "reintentar_entrega", "entregar_ahora"]

    def has_cambiar_estado_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("comision_recompensa.change_pago"))

    @admin.display(description="failing controls")
    def controles_fallidos(self, obj: Pago) -> str:
        nombres = [c.control for c in obj.controles.all() if not c.paso]
        return ", ".join(nombres) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pago]:
        return super().get_queryset(request).prefetch_related("controles")

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

    @admin.action(description="Release held Pagos (with a reason)…", permissions=["cambiar_estado"])
    def liberar(self, request: HttpRequest, queryset: QuerySet[Pago]) -> TemplateResponse | None:
        form = LiberarForm(request.POST if "confirmar" in request.POST else None)
        if form.is_bound and form.is_valid():
            hechos, rechazados = 0, []
            for pago in queryset:
                try:
                    pago_liberar(
                        pago_id=pago.id,
                        por=request.user.pk,
                        motivo=form.cleaned_data["motivo"],
                        origen="admin",
                    )
                    hechos += 1
                except (Conflicto, ErrorDominio) as exc:
                    rechazados.append(exc.mensaje)
            self.message_user(request, f"{hechos} Pagos released.", messages.SUCCESS)
            if rechazados:
                self.message_user(request, "Skipped: " + " ".join(rechazados), messages.WARNING)
            return None
        contexto = {
            **self.admin_site.each_context(request),
            "title": "Release held Pagos",
            "opts": self.model._meta,
            "pagos": queryset,
            "form": form,
            "accion": "liberar",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/comision_recompensa/pago/liberar.html", contexto)

    @admin.action(description="Re-check compliance controls now")
    def revisar_controles(self, request: HttpRequest, queryset: QuerySet[Pago]) -> None:
        estados: dict[str, int] = {}
        for pago in queryset:
            actual = pago_aplicar_controles(pago_id=pago.id, origen="admin")
            estados[actual.estado] = estados.get(actual.estado, 0) + 1
        hecho = ", ".join(f"{k}: {v}" for k, v in sorted(estados.items())) or "nothing selected"
        self.message_user(request, f"Controls re-checked ({hecho}).", messages.INFO)

    @admin.action(description="Retry delivery (dead letter → pendiente, attempts reset)")
    def reintentar_entrega(self, request: HttpRequest, queryset: QuerySet[Pago]) -> None:
        hechos, rechazados = 0, 0
        for pago in queryset:
            try:
                pago_reintentar(pago=pago, por=request.user.pk, origen="admin")
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
                pago = pago_reintentar(pago=pago, por=request.user.pk, origen="admin")
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
    list_display = ["id", "socio", "marca", "monto", "moneda", "motivo", "pago", "creado_en"]
    list_filter = ["moneda", "marca"]
    search_fields = ["id", "socio__nombre", "motivo"]
    list_select_related = ["socio", "marca", "pago"]
    readonly_fields = [
        "id",
        "socio",
        "marca",
        "monto",
        "moneda",
        "motivo",
        "comision",
        "recompensa",
        "pago",
        "creado_en",
    ]
