"""Routes of webhook endpoints and their deliveries (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import DefaultRouter

from comision_recompensa.webhooks.api import EndpointWebhookViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("webhooks", EndpointWebhookViewSet, basename="webhook")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
