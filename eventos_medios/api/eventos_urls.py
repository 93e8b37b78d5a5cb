"""Routes of the eventos API: `eventos/`, `eventos/<id>/`, `eventos/lote/`."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from eventos_medios.api.eventos import EventoViewSet

router = SimpleRouter()
router.register("eventos", EventoViewSet, basename="evento")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
