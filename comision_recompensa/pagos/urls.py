"""Routes of the payouts API: /api/v1/pagos/ and the confirmation callback."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from comision_recompensa.pagos.api import ConfirmacionPagoView, PagoViewSet

router = SimpleRouter()
router.register("pagos", PagoViewSet, basename="pago")

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "pagos/<uuid:pk>/confirmacion/",
        ConfirmacionPagoView.as_view(),
        name="pago-confirmacion",
    ),
    *router.urls,
]
