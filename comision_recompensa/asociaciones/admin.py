"""Admin of agreements (AsociacionEstrategica) with their payment rules inline.

Writes go through the services (one place for the rules); the forms run the same validators
first, so the service call does not fail on input the form accepted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from alpespartners import alcance as acceso
from alpespartners.admin_comun import FiltradoPorAlcance
from comision_recompensa.asociaciones.services import (
    CAMPOS_REGLA,
    asociacion_actualizar,
    asociacion_crear,
    asociacion_validar_terminos,
    regla_validar,
)
from comision_recompensa.contratos.admin import contratos_de_asociacion_html
from comision_recompensa.models import AsociacionEstrategica, ReglaPago


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
class AsociacionAdmin(FiltradoPorAlcance, admin.ModelAdmin):
    filtro_alcance = staticmethod(acceso.q_asociaciones)
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
        return [*base, "marca", "socio", "contratos"] if obj is not None else base

    @admin.display(description="contract versions")
    def contratos(self, obj: AsociacionEstrategica) -> str:
        return contratos_de_asociacion_html(obj.pk)

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
