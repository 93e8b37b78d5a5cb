"""Admin of payout profiles (PRODUCT.md §9). The reference is shown masked in the list and the
form; the form takes a new reference without ever showing the stored one; "Reveal reference"
(a button on the change page) asks for a reason, shows it once and records who looked
(`perfil_pago_revelado`). Writes go through `perfiles.services`.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from alpespartners import alcance as acceso
from alpespartners.admin_comun import FiltradoPorAlcance
from alpespartners.errors import ErrorDominio
from comision_recompensa.models import PerfilPago
from comision_recompensa.perfiles.selectors import perfil_datos, perfil_estado
from comision_recompensa.perfiles.services import perfil_pago_guardar, perfil_pago_revelar
from comision_recompensa.perfiles.validacion import (
    CAMPOS_PERFIL,
    perfil_enmascarado,
    perfil_validar,
    referencia_enmascarar,
)
from comision_recompensa.reportes.exportacion import celda_csv


class PerfilPagoForm(forms.ModelForm):
    nueva_referencia = forms.CharField(
        required=False,
        max_length=254,
        label="New reference",
        help_text="IBAN (transferencia) or e-mail (paypal). Leave empty to keep the current one "
        "(never shown here).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 40}),
    )

    class Meta:
        model = PerfilPago
        fields = ["socio", "titular", "metodo", "pais", "identificacion_fiscal"]

    def clean(self) -> dict[str, Any]:
        datos = super().clean() or {}
        propuesto = {**perfil_datos(self.instance if self.instance.pk else None)}
        for campo in ("titular", "metodo", "pais", "identificacion_fiscal"):
            if campo in datos:
                propuesto[campo] = datos[campo] or ""
        if datos.get("nueva_referencia"):
            propuesto["referencia"] = datos["nueva_referencia"]
        _, errores = perfil_validar(propuesto)
        for campo, mensajes in errores.items():
            destino = "nueva_referencia" if campo == "referencia" else campo
            for mensaje in mensajes:
                self.add_error(destino if destino in self.fields else None, mensaje)
        return datos


class RevelarForm(forms.Form):
    motivo = forms.CharField(
        max_length=300, help_text="Why you need the reference in clear (recorded with your user)."
    )


@admin.register(PerfilPago)
class PerfilPagoAdmin(FiltradoPorAlcance, admin.ModelAdmin):
    filtro_alcance = staticmethod(acceso.q_perfiles_pago)
    form = PerfilPagoForm
    list_display = ["socio", "titular", "metodo", "referencia_enmascarada", "pais", "completo"]
    list_filter = ["metodo", "pais"]
    list_select_related = ["socio"]
    search_fields = ["socio__nombre", "titular"]
    raw_id_fields = ["socio"]
    exclude = ["referencia"]
    actions = ["exportar_csv"]  # replaces the site-wide export: the reference goes out masked

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        base = ["referencia_enmascarada", "completo", "revelar", "actualizado_en"]
        return ["socio", *base] if obj is not None else base

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="reference (masked)")
    def referencia_enmascarada(self, obj: PerfilPago) -> str:
        return referencia_enmascarar(obj.metodo, obj.referencia) or "—"

    @admin.display(description="complete", boolean=True)
    def completo(self, obj: PerfilPago) -> bool:
        return perfil_estado(obj).completo

    @admin.display(description="reveal")
    def revelar(self, obj: PerfilPago) -> str:
        if obj.pk is None or not obj.referencia:
            return "—"
        url = reverse("admin:comision_recompensa_perfilpago_revelar", args=[obj.pk])
        return format_html('<a class="button" href="{}">Reveal reference…</a>', url)

    def save_model(self, request: HttpRequest, obj: PerfilPago, form: Any, change: bool) -> None:
        datos = {
            c: form.cleaned_data.get(c) or ""
            for c in ("titular", "metodo", "pais", "identificacion_fiscal")
        }
        if form.cleaned_data.get("nueva_referencia"):
            datos["referencia"] = form.cleaned_data["nueva_referencia"]
        socio_id = obj.socio_id if change else form.cleaned_data["socio"].pk
        guardado = perfil_pago_guardar(
            socio_id=socio_id, datos=datos, parcial=True, por=request.user.pk, origen="admin"
        )
        obj.pk = guardado.pk
        obj._state.adding = False

    @admin.action(description="Exportar CSV de los seleccionados", permissions=["view"])
    def exportar_csv(self, request: HttpRequest, queryset: QuerySet[PerfilPago]) -> HttpResponse:
        """The selected profiles as CSV, the reference masked like everywhere else."""
        salida = io.StringIO()
        escritor = csv.writer(salida)
        escritor.writerow(["socio_id", "socio", *CAMPOS_PERFIL, "completo", "actualizado_en"])
        for perfil in queryset.select_related("socio").order_by("pk"):
            datos = perfil_enmascarado(perfil_datos(perfil))
            escritor.writerow(
                [
                    perfil.socio_id,
                    perfil.socio.nombre,
                    *(celda_csv(datos[c]) for c in CAMPOS_PERFIL),
                    perfil_estado(perfil).completo,
                    perfil.actualizado_en.isoformat(),
                ]
            )
        respuesta = HttpResponse(salida.getvalue(), content_type="text/csv; charset=utf-8")
        respuesta["Content-Disposition"] = 'attachment; filename="perfiles_de_pago.csv"'
        respuesta["Cache-Control"] = "no-store"
        return respuesta

    def get_urls(self) -> list[URLPattern]:
        propias = [
            path(
                "<uuid:object_id>/revelar/",
                self.admin_site.admin_view(self.revelar_view),
                name="comision_recompensa_perfilpago_revelar",
            )
        ]
        return [*propias, *super().get_urls()]

    def revelar_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """GET: ask for a reason. POST: record the reveal and show the reference once."""
        perfil = get_object_or_404(self.get_queryset(request), pk=object_id)
        form = RevelarForm(request.POST if request.method == "POST" else None)
        claro: dict[str, str] | None = None
        if form.is_bound and form.is_valid():
            try:
                claro = perfil_pago_revelar(
                    socio_id=perfil.socio_id,
                    por=request.user.pk,
                    es_staff=bool(request.user.is_staff),
                    motivo=form.cleaned_data["motivo"],
                    origen="admin",
                )
            except ErrorDominio as exc:
                self.message_user(request, exc.mensaje, messages.ERROR)
        contexto = {
            **self.admin_site.each_context(request),
            "title": f"Payout reference of {perfil.socio}",
            "opts": self.model._meta,
            "perfil": perfil,
            "enmascarada": referencia_enmascarar(perfil.metodo, perfil.referencia),
            "form": form,
            "claro": claro,
        }
        respuesta = TemplateResponse(
            request, "admin/comision_recompensa/perfilpago/revelar.html", contexto
        )
        respuesta["Cache-Control"] = "no-store"
        return respuesta
