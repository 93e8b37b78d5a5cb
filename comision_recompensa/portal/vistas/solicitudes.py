"""The public application form of a marca's programme: `/portal/programas/<slug>/solicitar/`.

Open to anyone (no sign-in). An unknown, inactive or closed programme is a 404. Each POST counts
against `RATE_LIMIT_SOLICITUDES` per client IP hash (429 page with Retry-After); a filled
honeypot is answered as a success and stores nothing; a form sent faster than
`SOLICITUD_TIEMPO_MINIMO_SEGUNDOS` after it was served is shown again with a note."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from comision_recompensa.asociaciones.terminos import terminos_de
from comision_recompensa.models import Idioma
from comision_recompensa.portal.forms import SolicitudForm, marca_tiempo_firmar
from comision_recompensa.portal.vistas.comun import ip_hash_de, limite_superado
from comision_recompensa.solicitudes.selectors import marca_con_solicitudes_abiertas
from comision_recompensa.solicitudes.services import solicitud_recibir


@require_http_methods(["GET", "POST"])
def solicitar(request: HttpRequest, slug: str) -> HttpResponse:
    marca = marca_con_solicitudes_abiertas(slug=slug)
    if marca is None:
        raise Http404
    if request.method == "POST":
        if bloqueo := limite_superado(request, ambito="solicitudes"):
            return bloqueo
        form = SolicitudForm(request.POST, marca_id=marca.pk)
        if form.es_trampa():
            return redirect("portal:solicitud_enviada", slug=slug)
        if form.is_valid():
            datos = {k: v for k, v in form.cleaned_data.items() if k not in ("web", "inicio")}
            idioma = get_language() if get_language() in Idioma.values else Idioma.ES
            solicitud_recibir(marca=marca, idioma=idioma, ip_hash=ip_hash_de(request), **datos)
            return redirect("portal:solicitud_enviada", slug=slug)
    else:
        form = SolicitudForm(marca_id=marca.pk)
    return render(
        request,
        "portal/solicitudes/formulario.html",
        {
            "marca": marca,
            "form": form,
            "terminos": terminos_de(marca=marca),
            # Always a fresh serving time: a form shown again after an error restarts the clock.
            "inicio": marca_tiempo_firmar(marca_id=marca.pk),
        },
    )


def solicitud_enviada(request: HttpRequest, slug: str) -> HttpResponse:
    marca = marca_con_solicitudes_abiertas(slug=slug)
    if marca is None:
        raise Http404
    return render(request, "portal/solicitudes/enviada.html", {"marca": marca})
