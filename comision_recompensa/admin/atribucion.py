"""Admin for asociaciones, reglas, comisiones, recompensas and the re-attribution audit.

Credits are read-mostly: their state changes only through the lifecycle services (the
"approve selected" / "reverse selected" actions). Changelists avoid COUNT(*) over big tables
(`show_full_result_count = False`) and join what they display (`list_select_related`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from comision_recompensa.models import (
    AsociacionEstrategica,
    CambioAtribucion,
    Comision,
    EjecucionReatribucion,
    Recompensa,
    ReglaPago,
)
from comision_recompensa.selectors.explicacion import credito_explicar
from comision_recompensa.services.asociaciones import (
    CAMPOS_REGLA,
    asociacion_actualizar,
    asociacion_crear,
    asociacion_validar_terminos,
    regla_validar,
)
from comision_recompensa.services.ciclo_vida import (
    ResultadoLote,
    creditos_aprobar,
    creditos_revertir,
)

# How many refused items an action names in its message before summarising the rest.
_MAX_RECHAZOS_LISTADOS = 10


# --- Agreements -------------------------------------------------------------------------------


class ReglaPagoForm(forms.ModelForm):
    """Checks a rule with the same function the API's service uses."""

    class Meta:
        model = ReglaPago
        fields = ["tipo_evento", "modalidad", "valor", "moneda", "tope"]

    def clean(self) -> dict[str, Any]:
        datos = super().clean() or {}
        limpio, errores = regla_validar(datos)
        for campo, mensajes in errores.items():
            if campo not in self.errors:
                for mensaje in mensajes:
                    self.add_error(campo if campo in self.fields else None, mensaje)
        if not errores:
            datos["moneda"] = limpio["moneda"]
        return datos


class ReglaPagoInline(admin.TabularInline):
    model = ReglaPago
    form = ReglaPagoForm
    extra = 1


class AsociacionForm(forms.ModelForm):
    """Checks the terms (vigencia order, no overlap for the same marca and socio) with the
    service's validator."""

    class Meta:
        model = AsociacionEstrategica
        fields = ["marca", "socio", "tipo", "dias_retencion", "vigencia_inicio", "vigencia_fin"]

    def clean(self) -> dict[str, Any]:
        datos = super().clean() or {}
        if self.errors:
            return datos
        existente = not self.instance._state.adding
        errores = asociacion_validar_terminos(
            # On change, marca and socio are read-only (an agreement never changes hands).
            marca=self.instance.marca if existente else datos.get("marca"),
            socio=self.instance.socio if existente else datos.get("socio"),
            tipo=datos.get("tipo"),
            dias_retencion=datos.get("dias_retencion"),
            vigencia_inicio=datos.get("vigencia_inicio"),
            vigencia_fin=datos.get("vigencia_fin"),
            excluir_id=self.instance.pk if existente else None,
        )
        for campo, mensajes in errores.items():
            for mensaje in mensajes:
                self.add_error(campo if campo in self.fields else None, mensaje)
        return datos


@admin.register(AsociacionEstrategica)
class AsociacionAdmin(admin.ModelAdmin):
    form = AsociacionForm
    inlines = [ReglaPagoInline]
    list_display = ["__str__", "marca", "socio", "tipo", "vigencia_inicio", "vigencia_fin"]
    list_filter = ["tipo", "marca"]
    list_select_related = ["marca", "socio"]
    search_fields = ["marca__nombre", "socio__nombre"]
    raw_id_fields = ["socio"]
    readonly_fields = ["creado_en", "actualizado_en"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        base = ["creado_en", "actualizado_en"]
        return [*base, "marca", "socio"] if obj is not None else base

    # Writes go through the services (one place for the rules); the forms above already ran
    # the same validators, so the service call does not fail on input the form accepted.
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved together with its rules in `save_related`, through the service."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        reglas = [
            {campo: f.cleaned_data.get(campo) for campo in CAMPOS_REGLA}
            for formset in formsets
            for f in formset.forms
            if f.cleaned_data.get("tipo_evento") and not f.cleaned_data.get("DELETE")
        ]
        datos = {
            campo: form.cleaned_data[campo]
            for campo in ("tipo", "dias_retencion", "vigencia_inicio", "vigencia_fin")
        }
        if change:
            asociacion_actualizar(asociacion=form.instance, reglas=reglas, **datos)
        else:
            nueva = asociacion_crear(
                marca=form.cleaned_data["marca"],
                socio=form.cleaned_data["socio"],
                reglas=reglas,
                **datos,
            )
            form.instance.pk = nueva.pk
        for formset in formsets:  # read by the admin's change message
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- Commissions and rewards ------------------------------------------------------------------


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


class CreditoAdmin(admin.ModelAdmin):
    """Shared admin of Comision and Recompensa: read-only rows, lifecycle actions."""

    list_display = [
        "id",
        "socio",
        "marca",
        "tipo_evento",
        "monto",
        "moneda",
        "credito",
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
                    "credito",
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


# --- Re-attribution audit trail (read-only) ---------------------------------------------------


class SoloLecturaAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EjecucionReatribucion)
class EjecucionReatribucionAdmin(SoloLecturaAdmin):
    list_display = [
        "iniciada_en",
        "terminada_en",
        "dry_run",
        "eventos_procesados",
        "usuario",
        "cambios_link",
    ]
    list_filter = ["dry_run"]
    list_select_related = ["usuario"]
    show_full_result_count = False

    @admin.display(description="changes")
    def cambios_link(self, obj: EjecucionReatribucion) -> SafeString:
        return format_html(
            '<a href="../cambioatribucion/?ejecucion__id__exact={}">changes</a>', obj.pk
        )


@admin.register(CambioAtribucion)
class CambioAtribucionAdmin(SoloLecturaAdmin):
    list_display = [
        "creado_en",
        "accion",
        "socio",
        "evento",
        "monto_anterior",
        "monto_nuevo",
        "moneda",
        "ejecucion",
    ]
    list_filter = ["accion"]
    list_select_related = ["socio", "evento", "ejecucion"]
    raw_id_fields = ["socio", "evento", "ejecucion"]
    search_fields = ["=evento__id", "=socio__id"]
    show_full_result_count = False
