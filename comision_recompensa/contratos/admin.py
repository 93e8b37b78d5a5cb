"""Admin of contract versions (PRODUCT.md §9): staff write a draft, preview exactly what the
partner will read, publish it; published versions are read-only (new text = new version).
Acceptances are read-only records. The agreement's admin lists its versions inline.

Writes go through `contratos.services`; the form runs the same validation first.
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
from django.utils.html import format_html, format_html_join

from alpespartners import alcance as acceso
from alpespartners.admin_comun import FiltradoPorAlcance, SoloLectura
from alpespartners.errors import ErrorDominio
from comision_recompensa.contratos.selectors import (
    aceptaciones_de,
    contrato_estado,
    contrato_vigente,
    hoy,
    texto_hash,
)
from comision_recompensa.contratos.services import (
    contrato_borrar_borrador,
    contrato_crear,
    contrato_editar,
    contrato_publicar,
    contrato_validar,
)
from comision_recompensa.models import AceptacionContrato, Contrato

CAMPOS_SOLO_LECTURA = [
    "version",
    "estado",
    "hash_texto",
    "publicado_en",
    "publicado_por",
    "creado_por",
    "creado_en",
    "vista_previa",
    "aceptacion",
]


class ContratoForm(forms.ModelForm):
    class Meta:
        model = Contrato
        fields = ["asociacion", "vigente_desde", "texto"]
        widgets = {"texto": forms.Textarea(attrs={"rows": 20, "cols": 100})}

    def clean(self) -> dict[str, Any]:
        datos = super().clean() or {}
        errores = contrato_validar(
            texto=datos.get("texto", self.instance.texto if self.instance.pk else None),
            vigente_desde=datos.get("vigente_desde"),
        )
        for campo, mensajes in errores.items():
            if campo in self.fields and campo not in self.errors:
                for mensaje in mensajes:
                    self.add_error(campo, mensaje)
        asociacion = datos.get("asociacion")
        borrador = Contrato.objects.filter(asociacion=asociacion, publicado_en__isnull=True)
        if self.instance._state.adding and asociacion is not None and borrador.exists():
            self.add_error(
                "asociacion", "This agreement already has a draft: edit or publish it first."
            )
        return datos


def _estado(contrato: Contrato) -> str:
    dia = hoy()
    return contrato_estado(contrato, contrato_vigente(asociacion_id=contrato.asociacion_id), dia)


@admin.register(Contrato)
class ContratoAdmin(FiltradoPorAlcance, admin.ModelAdmin):
    filtro_alcance = staticmethod(acceso.q_contratos)
    form = ContratoForm
    list_display = [
        "asociacion",
        "version",
        "estado",
        "vigente_desde",
        "publicado_en",
        "aceptacion",
    ]
    list_filter = ["asociacion__marca", ("publicado_en", admin.EmptyFieldListFilter)]
    list_select_related = ["asociacion", "asociacion__marca", "asociacion__socio"]
    search_fields = ["asociacion__marca__nombre", "asociacion__socio__nombre", "texto"]
    raw_id_fields = ["asociacion"]
    ordering = ["asociacion", "-version"]
    actions = ["publicar"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["vista_previa"]
        if obj.publicado_en is not None:
            return ["asociacion", "vigente_desde", "texto", *CAMPOS_SOLO_LECTURA]
        return ["asociacion", *CAMPOS_SOLO_LECTURA]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        base = super().has_delete_permission(request, obj)
        return base and (obj is None or obj.publicado_en is None)

    def get_actions(self, request: HttpRequest) -> Any:
        acciones = super().get_actions(request)
        acciones.pop("delete_selected", None)  # drafts are deleted one by one, through the service
        return acciones

    @admin.display(description="state")
    def estado(self, obj: Contrato) -> str:
        return _estado(obj)

    @admin.display(description="accepted by the partner")
    def aceptacion(self, obj: Contrato) -> str:
        aceptacion = aceptaciones_de(contrato_ids=[obj.pk]).get(obj.pk)
        return f"✔ {aceptacion.aceptado_en:%Y-%m-%d %H:%M} UTC" if aceptacion else "—"

    @admin.display(description="preview")
    def vista_previa(self, obj: Contrato | None) -> str:
        if obj is None or obj.pk is None:
            return "Save the draft to preview it as the partner will read it."
        url = reverse("admin:comision_recompensa_contrato_vista_previa", args=[obj.pk])
        return format_html('<a class="button" href="{}">Preview as the partner sees it</a>', url)

    def save_model(self, request: HttpRequest, obj: Contrato, form: Any, change: bool) -> None:
        datos = form.cleaned_data
        if change and obj.publicado_en is not None:
            return  # published: nothing is editable
        if change:
            guardado = contrato_editar(
                contrato=obj, texto=datos["texto"], vigente_desde=datos["vigente_desde"]
            )
        else:
            guardado = contrato_crear(
                asociacion_id=datos["asociacion"].pk,
                texto=datos["texto"],
                vigente_desde=datos["vigente_desde"],
                por=request.user.pk,
            )
        obj.pk = guardado.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Contrato) -> None:
        contrato_borrar_borrador(contrato=obj)

    @admin.action(description="Publish selected drafts")
    def publicar(self, request: HttpRequest, queryset: QuerySet[Contrato]) -> None:
        hechos, errores = 0, []
        for contrato in queryset.order_by("asociacion", "version"):
            try:
                contrato_publicar(contrato_id=contrato.pk, por=request.user.pk, origen="admin")
                hechos += 1
            except ErrorDominio as exc:
                errores.append(f"v{contrato.version}: {exc.mensaje}")
        self.message_user(request, f"{hechos} versions published.", messages.SUCCESS)
        if errores:
            self.message_user(request, "Not published: " + "; ".join(errores), messages.WARNING)

    def get_urls(self) -> list[URLPattern]:
        propias = [
            path(
                "<uuid:object_id>/vista-previa/",
                self.admin_site.admin_view(self.vista_previa_view),
                name="comision_recompensa_contrato_vista_previa",
            )
        ]
        return [*propias, *super().get_urls()]

    def vista_previa_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """What the partner reads (GET /api/v1/contratos/{id}/), rendered read-only; a draft
        can be published from here."""
        contrato = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, contrato):
            return HttpResponseRedirect(reverse("admin:index"))
        if request.method == "POST" and contrato.publicado_en is None:
            try:
                contrato_publicar(contrato_id=contrato.pk, por=request.user.pk, origen="admin")
                self.message_user(request, f"Version {contrato.version} published.")
            except ErrorDominio as exc:
                self.message_user(request, exc.mensaje, messages.ERROR)
            return HttpResponseRedirect(request.path)
        contexto = {
            **self.admin_site.each_context(request),
            "title": f"Contract v{contrato.version} — preview",
            "opts": self.model._meta,
            "contrato": contrato,
            "estado": _estado(contrato),
            "hash_texto": texto_hash(contrato.texto),
            "puede_publicar": contrato.publicado_en is None
            and self.has_change_permission(request, contrato),
        }
        return TemplateResponse(
            request, "admin/comision_recompensa/contrato/vista_previa.html", contexto
        )


@admin.register(AceptacionContrato)
class AceptacionContratoAdmin(SoloLectura, admin.ModelAdmin):
    list_display = ["contrato", "socio", "usuario", "aceptado_en", "hash_texto"]
    list_filter = ["contrato__asociacion__marca"]
    list_select_related = ["contrato", "socio", "usuario"]
    search_fields = ["socio__nombre", "=hash_texto"]
    readonly_fields = ["contrato", "socio", "usuario", "aceptado_en", "ip_hash", "hash_texto"]


def contratos_de_asociacion_html(asociacion_id: Any) -> str:
    """The agreement's contract versions as a small table with links, for the agreement's
    change page (read-only: versions are written and published in the contracts admin)."""
    if asociacion_id is None:
        return "Save the agreement first."
    versiones = list(Contrato.objects.filter(asociacion_id=asociacion_id).order_by("-version"))
    vigente = contrato_vigente(asociacion_id=asociacion_id)
    aceptadas = aceptaciones_de(contrato_ids=[c.pk for c in versiones])
    dia = hoy()
    nueva = reverse("admin:comision_recompensa_contrato_add") + f"?asociacion={asociacion_id}"
    filas = format_html_join(
        "",
        '<tr><td><a href="{}">v{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:comision_recompensa_contrato_change", args=[c.pk]),
                c.version,
                contrato_estado(c, vigente, dia),
                c.vigente_desde,
                "✔ accepted" if c.pk in aceptadas else "—",
            )
            for c in versiones
        ),
    )
    return format_html(
        "<table><thead><tr><th>version</th><th>state</th><th>in force from</th>"
        '<th>partner</th></tr></thead><tbody>{}</tbody></table><p><a href="{}">'
        "Write a new version…</a></p>",
        filas,
        nueva,
    )
