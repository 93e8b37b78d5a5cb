"""Routes of commissions, rewards and refunds (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import DefaultRouter

from comision_recompensa.creditos.api import ComisionViewSet, RecompensaViewSet, ReembolsoView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("comisiones", ComisionViewSet, basename="comision")
router.register("recompensas", RecompensaViewSet, basename="recompensa")

urlpatterns: list[URLPattern | URLResolver] = [
    # About money, so it lives here even though it sits on an event (STYLE.md §12).
    path("eventos/<uuid:pk>/reembolso/", ReembolsoView.as_view(), name="evento-reembolso"),
    *router.urls,
]
