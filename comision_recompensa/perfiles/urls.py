"""Routes of the payout-profile API (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from comision_recompensa.perfiles.api import (
    PerfilPagoPropioView,
    PerfilPagoRevelarView,
    PerfilPagoSocioView,
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("perfil-pago/", PerfilPagoPropioView.as_view(), name="perfil-pago"),
    path(
        "socios/<uuid:socio_id>/perfil-pago/",
        PerfilPagoSocioView.as_view(),
        name="socio-perfil-pago",
    ),
    path(
        "socios/<uuid:socio_id>/perfil-pago/revelar/",
        PerfilPagoRevelarView.as_view(),
        name="socio-perfil-pago-revelar",
    ),
]
