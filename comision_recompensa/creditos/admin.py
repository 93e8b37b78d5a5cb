"""Admin of comisiones and recompensas: read-only rows, their explanation, lifecycle actions.

Credits are read-mostly: their state changes only through the lifecycle services (the
"approve selected" / "reverse selected" actions). Changelists avoid COUNT(*) over big tables
(`show_full_result_count = False`) and join what they display (`list_select_related`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from alpespartners import alcance as acceso
from alpespartners.admin_comun import FiltradoPorAlcance
from comision_recompensa.atribucion.explicacion import credito_explicar
from comision_recompensa.creditos.services import (
    ResultadoLote,
    creditos_aprobar,
    creditos_revertir,
)
from comision_recompensa.models import Comision, Recompensa

# How many refused items an action names in its message before summarising the rest.
_MAX_RECHAZOS_LISTADOS = 10


def _pares(datos: dict[str, Any] | None) -> str | None:
    if not datos:
        return None
    return ", ".join(f"{k}: {v}" for k, v in datos.items() if v not in (None, ""))


def explicacion_html(credito: Comision | Recompensa) -> SafeString:
    """The readable explanation as HTML; every value is escaped."""
    exp = credito_explicar(credito=credito)
    partes = [format_html("<p><strong>{}</strong></p>", exp["texto"])]
    if exp["touchpoints"]:
        filas = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    t["posicion"],
                    t["tipo"],
                    t["ocurrido_en"] or "",
                    t["peso"] or "",
                    "✔ this partner" if t["propio"] else (t["socio_id"] or ""),
                )
                for t in exp["touchpoints"]
            ),
        )
        partes.append(
            format_html(
                "<table><thead><tr><th>#</th><th>type</th><th>at</th><th>weight</th>"
                "<th>partner</th></tr></thead><tbody>{}</tbody></table>",
                filas,
            )
        )
    datos = [
        ("method", exp["metodo"]),
        ("model", exp["modelo"]),
        ("window (days)", exp["ventana_dias"]),
        ("credit", exp["credito"]),
        ("rule", _pares(exp["regla"])),
        ("agreement", _pares(exp["asociacion"])),
    ]
    partes.append(
        format_html(
            "<dl>{}</dl>",
            format_html_join(
                "", "<dt>{}</dt><dd>{}</dd>", ((k, v if v is not None else "—") for k, v in datos)
            ),
        )
    )
    return format_html("{}" * len(partes), *partes)


def _informar(
    modeladmin: admin.ModelAdmin, request: HttpRequest, r: ResultadoLote, verbo: str
) -> None:
    if r.cambiados:
        modeladmin.message_user(request, f"{len(r.cambiados)} {verbo}.", messages.SUCCESS)
    if r.rechazados:
        listados = "; ".join(motivo for _, motivo in r.rechazados[:_MAX_RECHAZOS_LISTADOS])
        resto = len(r.rechazados) - _MAX_RECHAZOS_LISTADOS
        extra = f" (and {resto} more)" if resto > 0 else ""
        modeladmin.message_user(
            request,
            f"{len(r.rechazados)} refused: {listados}{extra}",
            messages.WARNING,
        )


class CreditoAdmin(FiltradoPorAlcance, admin.ModelAdmin):
    """Shared admin of Comision and Recompensa: read-only rows, lifecycle actions."""

    filtro_alcance = staticmethod(acceso.q_creditos)

    list_display = [
        "id",
        "socio",
        "marca",
        "tipo_evento",
        "monto",
        "moneda",
        "participacion",
        "estado",
        "creado_en",
    ]
    list_filter = ["estado", "socio", "evento__marca"]
    list_select_related = ["socio", "evento", "evento__marca"]
    raw_id_fields = ["socio", "evento", "asociacion", "regla", "pago"]
    search_fields = ["=id", "=evento__id"]
    show_full_result_count = False
    ordering = ["-creado_en"]
    actions = ["aprobar_seleccionados", "revertir_seleccionados"]
    readonly_fields = ["explicacion"]
    fieldsets = [
        (None, {"fields": ["explicacion"]}),
        (
            "Credit",
            {
                "fields": [
                    "socio",
                    "evento",
                    "asociacion",
                    "regla",
                    "participacion",
                    "monto",
                    "moneda",
                    "estado",
                    "motivo_reversion",
                    "pago",
                ]
            },
        ),
        (
            "Timeline",
            {"fields": ["creado_en", "aprobado_en", "pagado_en", "revertido_en"]},
        ),
        ("Raw attribution detail", {"fields": ["detalle_atribucion"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .select_related("socio", "evento", "evento__marca", "asociacion", "regla")
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        campos = [f.name for f in self.model._meta.fields]
        return ["explicacion", *campos]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_cambiar_estado_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return bool(request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))

    @admin.display(description="marca", ordering="evento__marca__nombre")
    def marca(self, obj: Any) -> str:
        return str(obj.evento.marca) if obj.evento.marca_id else "—"

    @admin.display(description="event", ordering="evento__tipo")
    def tipo_evento(self, obj: Any) -> str:
        return str(obj.evento.tipo)

    @admin.display(description="why this amount")
    def explicacion(self, obj: Any) -> SafeString:
        return explicacion_html(obj)

    @admin.action(description="Approve selected", permissions=["cambiar_estado"])
    def aprobar_seleccionados(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _informar(self, request, creditos_aprobar(creditos=queryset, por=request.user), "approved")

    @admin.action(description="Reverse selected", permissions=["cambiar_estado"])
    def revertir_seleccionados(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        motivo = f"Reversed by {request.user} in the admin"
        resultado = creditos_revertir(creditos=queryset, motivo=motivo, por=request.user)
        _informar(self, request, resultado, "reversed")


@admin.register(Comision)
class ComisionAdmin(CreditoAdmin):
    pass


@admin.register(Recompensa)
class RecompensaAdmin(CreditoAdmin):
    list_display = [*CreditoAdmin.list_display, "descripcion"]
    fieldsets = [
        (None, {"fields": ["explicacion", "descripcion"]}),
        *CreditoAdmin.fieldsets[1:],
    ]
