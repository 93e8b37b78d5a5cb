"""Routes of the contracts API (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from comision_recompensa.contratos.api import ContratoViewSet

router = SimpleRouter()
router.register("contratos", ContratoViewSet, basename="contrato")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
