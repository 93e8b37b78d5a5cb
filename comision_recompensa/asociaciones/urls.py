"""Routes of the agreements API (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import DefaultRouter

from comision_recompensa.asociaciones.api import AsociacionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("asociaciones", AsociacionViewSet, basename="asociacion")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
