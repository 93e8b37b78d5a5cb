"""Routes of the catalogue API v1: /socios/, /marcas/, /medios/, /publicaciones/."""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from eventos_medios.api.catalogo import (
    MarcaViewSet,
    MedioViewSet,
    PublicacionViewSet,
    SocioViewSet,
)

router = SimpleRouter()
router.register("socios", SocioViewSet, basename="socio")
router.register("marcas", MarcaViewSet, basename="marca")
router.register("medios", MedioViewSet, basename="medio")
router.register("publicaciones", PublicacionViewSet, basename="publicacion")

urlpatterns: list[URLPattern | URLResolver] = [path("", include(router.urls))]
