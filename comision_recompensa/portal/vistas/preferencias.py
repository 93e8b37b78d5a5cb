"""Settings: the portal's (and e-mails') language and the optional e-mails; and the one-click
unsubscribe link of those e-mails."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from comision_recompensa.correos.baja import baja_leer
from comision_recompensa.correos.services import baja_aplicar, preferencias_de, preferencias_guardar
from comision_recompensa.portal.acceso import pagina, socio_id_de, solo_socios
from comision_recompensa.portal.forms import PreferenciasForm
from comision_recompensa.portal.idioma import fijar_cookie_idioma


@solo_socios
@require_http_methods(["GET", "POST"])
def preferencias(request: HttpRequest) -> HttpResponse:
    socio_id = socio_id_de(request)
    actuales = preferencias_de(socio_id=socio_id)
    if request.method == "POST":
        form = PreferenciasForm(request.POST)
        if form.is_valid():
            guardadas = preferencias_guardar(socio_id=socio_id, **form.cleaned_data)
            with translation.override(guardadas.idioma):  # said in the language just chosen
                messages.success(request, _("Your settings were saved."))
            respuesta = redirect("portal:preferencias")
            fijar_cookie_idioma(respuesta, guardadas.idioma)
            return respuesta
    else:
        form = PreferenciasForm(
            initial={
                "idioma": actuales.idioma,
                "correo_creditos": actuales.correo_creditos,
                "correo_pagos": actuales.correo_pagos,
            }
        )
    return pagina(request, "portal/preferencias.html", {"form": form})


# The link's signed token is the authority here, not a session: mail clients send RFC 8058's
# one-click POST without any cookie or CSRF token, and all it can do is turn an e-mail off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def baja(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with one button (link scanners follow GETs; they must not unsubscribe
    anyone). POST: unsubscribe, idempotently."""
    leido = baja_leer(token)
    if leido is None:
        return render(request, "portal/baja.html", {"valido": False}, status=404)
    hecho = request.method == "POST" and baja_aplicar(token=token) is not None
    return render(request, "portal/baja.html", {"valido": True, "hecho": hecho, "tipo": leido[1]})
