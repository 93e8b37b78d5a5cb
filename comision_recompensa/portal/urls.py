"""Routes of the partner portal, mounted at /portal/ (namespace `portal`).

Pages still to come (contracts, payout profile, webhooks and postbacks) add their routes here
and their navigation entry with `navegacion.registrar_entrada`."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from comision_recompensa.portal.vistas import (
    creditos,
    cuenta,
    enlaces,
    pagos,
    preferencias,
    resumen,
    solicitudes,
    token,
)

app_name = "portal"

urlpatterns = [
    path("", resumen.resumen, name="resumen"),
    path("enlaces/", enlaces.enlaces, name="enlaces"),
    path("creditos/", creditos.creditos, name="creditos"),
    path("creditos/<str:clase>/<uuid:pk>/", creditos.credito, name="credito"),
    path("pagos/", pagos.pagos, name="pagos"),
    path("pagos/<uuid:pk>/", pagos.pago, name="pago"),
    path("token/", token.token, name="token"),
    path("ajustes/", preferencias.preferencias, name="preferencias"),
    path("ajustes/clave/", cuenta.cambiar_clave, name="clave_cambiar"),
    path("correo/baja/<str:token>/", preferencias.baja, name="baja"),
    path("idioma/", cuenta.cambiar_idioma, name="idioma"),
    # Account: Django's views with the portal's templates.
    path("entrar/", cuenta.Entrar.as_view(), name="entrar"),
    path("salir/", cuenta.Salir.as_view(), name="salir"),
    path("clave/olvidada/", cuenta.Restablecer.as_view(), name="restablecer"),
    path(
        "clave/olvidada/enviada/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="portal/cuenta/restablecer_enviado.html"
        ),
        name="restablecer_enviado",
    ),
    path(
        "clave/nueva/<uidb64>/<token>/",
        cuenta.RestablecerConfirmar.as_view(),
        name="restablecer_confirmar",
    ),
    path(
        "clave/lista/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="portal/cuenta/clave_lista.html"
        ),
        name="restablecer_completo",
    ),
    path("invitacion/<uidb64>/<token>/", cuenta.Invitacion.as_view(), name="invitacion"),
    # Public: a programme's application form.
    path("programas/<slug:slug>/solicitar/", solicitudes.solicitar, name="solicitar"),
    path(
        "programas/<slug:slug>/solicitar/enviada/",
        solicitudes.solicitud_enviada,
        name="solicitud_enviada",
    ),
]
