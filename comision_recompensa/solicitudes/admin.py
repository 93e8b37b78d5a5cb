"""Admin of applications and of the marcas' default terms.

Staff approve or reject applications with the list actions (rejecting asks for a reason on an
intermediate page) or with the buttons of an application's page. Every path calls the services;
their Conflicto (already resolved, e-mail taken, no default terms) is shown as an admin error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from alpespartners.errors import ErrorDominio
from comision_recompensa.models import (
    EstadoSolicitud,
    ReglaTerminos,
    Solicitud,
    TerminosPorDefecto,
)
from comision_recompensa.solicitudes.services import solicitud_aprobar, solicitud_rechazar


class MotivoRechazoForm(forms.Form):
    motivo = forms.CharField(
        label="Reason (sent to the applicant)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


def _error(exc: ErrorDominio) -> str:
    return getattr(exc, "mensaje", str(exc))


@admin.register(Solicitud)
class SolicitudAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("creado_en", "nombre", "email", "marca", "tipo_socio", "estado", "socio")
    list_filter = ("estado", "marca", "tipo_socio")
    search_fields = ("nombre", "=email")
    list_select_related = ("marca", "socio")
    date_hierarchy = "creado_en"
    ordering = ("-creado_en",)
    change_form_template = "admin/comision_recompensa/solicitud/change_form.html"
    actions = ("aprobar_seleccionadas", "rechazar_seleccionadas")
    fields = (
        "id",
        "marca",
        "estado",
        "nombre",
        "email",
        "tipo_socio",
        "medio_plataforma",
        "medio_url",
        "mensaje",
        "acepta_terminos",
        "idioma",
        "creado_en",
        "resuelta_en",
        "resuelta_por",
        "motivo_rechazo",
        "socio",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields  # changes go through the approve / reject services only

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        vista = self.admin_site.admin_view
        return [
            path(
                "<uuid:pk>/aprobar/",
                vista(require_POST(self.aprobar_vista)),
                name="comision_recompensa_solicitud_aprobar",
            ),
            path(
                "<uuid:pk>/rechazar/",
                vista(require_POST(self.rechazar_vista)),
                name="comision_recompensa_solicitud_rechazar",
            ),
            *super().get_urls(),
        ]

    def _volver(self, pk: Any) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:comision_recompensa_solicitud_change", args=[pk])
        )

    def aprobar_vista(self, request: HttpRequest, pk: Any) -> HttpResponse:
        solicitud = get_object_or_404(Solicitud, pk=pk)
        if not self.has_change_permission(request, solicitud):
            return HttpResponse(status=403)
        try:
            solicitud_aprobar(solicitud_id=solicitud.pk, por=request.user)
        except ErrorDominio as exc:
            self.message_user(request, f"Not approved: {_error(exc)}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"Approved: {solicitud.email} is a partner now and was sent an invitation.",
                messages.SUCCESS,
            )
        return self._volver(pk)

    def rechazar_vista(self, request: HttpRequest, pk: Any) -> HttpResponse:
        solicitud = get_object_or_404(Solicitud, pk=pk)
        if not self.has_change_permission(request, solicitud):
            return HttpResponse(status=403)
        formulario = MotivoRechazoForm(request.POST)
        motivo = formulario.cleaned_data["motivo"] if formulario.is_valid() else ""
        try:
            solicitud_rechazar(solicitud_id=solicitud.pk, motivo=motivo, por=request.user)
        except ErrorDominio as exc:
            self.message_user(request, f"Not rejected: {_error(exc)}", messages.ERROR)
        else:
            self.message_user(request, f"Rejected; {solicitud.email} was told.", messages.SUCCESS)
        return self._volver(pk)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        contexto = {**(extra_context or {}), "motivo_form": MotivoRechazoForm()}
        return super().change_view(request, object_id, form_url, extra_context=contexto)

    @admin.action(description="Approve the selected applications", permissions=["change"])
    def aprobar_seleccionadas(self, request: HttpRequest, queryset: QuerySet[Solicitud]) -> None:
        hechas = 0
        for solicitud in queryset:
            try:
                solicitud_aprobar(solicitud_id=solicitud.pk, por=request.user)
                hechas += 1
            except ErrorDominio as exc:
                self.message_user(request, f"{solicitud.email}: {_error(exc)}", messages.ERROR)
        if hechas:
            self.message_user(request, f"{hechas} approved and invited.", messages.SUCCESS)

    @admin.action(description="Reject the selected applications…", permissions=["change"])
    def rechazar_seleccionadas(
        self, request: HttpRequest, queryset: QuerySet[Solicitud]
    ) -> HttpResponse | None:
        if "confirmar" not in request.POST:
            return TemplateResponse(
                request,
                "admin/comision_recompensa/solicitud/rechazar.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Reject applications",
                    "solicitudes": queryset,
                    "motivo_form": MotivoRechazoForm(),
                    "opts": self.model._meta,
                    "accion": "rechazar_seleccionadas",
                },
            )
        formulario = MotivoRechazoForm(request.POST)
        motivo = formulario.cleaned_data["motivo"] if formulario.is_valid() else ""
        hechas = 0
        for solicitud in queryset.filter(estado=EstadoSolicitud.PENDIENTE):
            try:
                solicitud_rechazar(solicitud_id=solicitud.pk, motivo=motivo, por=request.user)
                hechas += 1
            except ErrorDominio as exc:
                self.message_user(request, f"{solicitud.email}: {_error(exc)}", messages.ERROR)
        self.message_user(request, f"{hechas} rejected.", messages.SUCCESS)
        return None


class ReglaTerminosInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ReglaTerminos
    extra = 1
    fields = ("tipo_evento", "modalidad", "valor", "moneda", "tope")


@admin.register(TerminosPorDefecto)
class TerminosPorDefectoAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("marca", "tipo", "dias_retencion", "acepta_solicitudes", "formulario")
    list_filter = ("acepta_solicitudes", "tipo")
    search_fields = ("marca__nombre",)
    autocomplete_fields = ("marca",)
    list_select_related = ("marca",)
    inlines = (ReglaTerminosInline,)
    fields = ("marca", "tipo", "dias_retencion", "acepta_solicitudes", "texto_contrato")

    @admin.display(description="application form")
    def formulario(self, obj: TerminosPorDefecto) -> str:
        if not obj.marca.slug:
            return "— (the marca has no slug)"
        ruta = reverse("portal:solicitar", kwargs={"slug": obj.marca.slug})
        return format_html('<a href="{}">{}</a>', ruta, ruta)
