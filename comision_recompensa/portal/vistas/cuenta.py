"""Signing in and out, passwords (change, reset by e-mail, the invitation's first password),
the language switcher and the lockout page. Django's auth views with the portal's templates;
the sign-in goes through django-axes like the admin's (AUTHENTICATION_BACKENDS)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alpespartners.alcance import alcance_de
from comision_recompensa.correos.services import preferencias_de, preferencias_guardar
from comision_recompensa.portal.acceso import solo_socios
from comision_recompensa.portal.forms import IdiomaForm, RestablecerClaveForm
from comision_recompensa.portal.idioma import PREFIJO_PORTAL, fijar_cookie_idioma
from comision_recompensa.portal.vistas.comun import limite_superado
from comision_recompensa.solicitudes.invitacion import generador_invitacion


class Entrar(auth.LoginView):
    template_name = "portal/cuenta/entrar.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("portal:resumen")

    def form_valid(self, form: Any) -> HttpResponse:
        respuesta = super().form_valid(form)
        socio_id = alcance_de(form.get_user()).socio_id
        if socio_id is not None:
            # The partner's saved language follows it to a new browser.
            fijar_cookie_idioma(respuesta, preferencias_de(socio_id=socio_id).idioma)
        return respuesta


class Salir(auth.LogoutView):
    def get_success_url(self) -> str:
        return reverse("portal:entrar")


class CambiarClave(auth.PasswordChangeView):
    template_name = "portal/cuenta/clave_cambiar.html"
    success_url = reverse_lazy("portal:preferencias")

    def form_valid(self, form: Any) -> HttpResponse:
        respuesta = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return respuesta


cambiar_clave = solo_socios(CambiarClave.as_view())


class Restablecer(auth.PasswordResetView):
    template_name = "portal/cuenta/restablecer.html"
    form_class = RestablecerClaveForm
    success_url = reverse_lazy("portal:restablecer_enviado")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return limite_superado(request, ambito="restablecer") or super().post(
            request, *args, **kwargs
        )


class RestablecerConfirmar(auth.PasswordResetConfirmView):
    template_name = "portal/cuenta/clave_nueva.html"
    success_url = reverse_lazy("portal:restablecer_completo")


class Invitacion(auth.PasswordResetConfirmView):
    """The invitation's link: choose your first password (a token of its own generator)."""

    template_name = "portal/cuenta/clave_nueva.html"
    token_generator = generador_invitacion
    success_url = reverse_lazy("portal:restablecer_completo")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "invitacion": True}


@require_POST
def cambiar_idioma(request: HttpRequest) -> HttpResponse:
    """The language switcher (a form on every page): a cookie for the portal and, for a
    partner, its saved preference (the language of its e-mails)."""
    form = IdiomaForm(request.POST)
    siguiente = request.POST.get("siguiente", "")
    if not url_has_allowed_host_and_scheme(
        siguiente, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) or not siguiente.startswith(PREFIJO_PORTAL):
        siguiente = reverse("portal:resumen")
    respuesta = HttpResponseRedirect(siguiente)
    if form.is_valid():
        idioma = form.cleaned_data["idioma"]
        fijar_cookie_idioma(respuesta, idioma)
        socio_id = alcance_de(request.user).socio_id
        if socio_id is not None:
            preferencias_guardar(socio_id=socio_id, idioma=idioma)
    return respuesta


def respuesta_bloqueo(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the portal's page under /portal/,
    axes' own message elsewhere (the admin). 429 with Retry-After in both."""
    from axes.helpers import get_cool_off, get_lockout_message

    espera = get_cool_off(request)
    segundos = int(espera.total_seconds()) if espera else 900
    if request.path_info.startswith(PREFIJO_PORTAL):
        respuesta = render(
            request, "portal/cuenta/bloqueado.html", {"minutos": max(1, segundos // 60)}, status=429
        )
    else:
        respuesta = HttpResponse(get_lockout_message(), status=429)
    respuesta["Retry-After"] = str(segundos)
    return respuesta
