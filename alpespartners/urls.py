"""Top-level routes. Each feature owns its own urls module; this file only mounts them."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from alpespartners.views import health

api_v1: list[URLPattern | URLResolver] = [
    path("", include("eventos_medios.api.catalogo_urls")),
    path("", include("eventos_medios.api.eventos_urls")),
    path("", include("comision_recompensa.asociaciones.urls")),
    path("", include("comision_recompensa.contratos.urls")),
    path("", include("comision_recompensa.perfiles.urls")),
    path("", include("comision_recompensa.creditos.urls")),
    path("", include("comision_recompensa.pagos.urls")),
    path("", include("comision_recompensa.reportes.urls")),
    path("", include("comision_recompensa.webhooks.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (no inline script: the page's CSP
    # allows scripts from this origin only), with Swagger UI's assets from our static files.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("health", health, name="health"),
    path("", include("eventos_medios.tracking_urls")),
    path("admin/tablero/", include("comision_recompensa.reportes.tablero_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # The partner portal (server-rendered pages, PRODUCT.md §12).
    path("portal/", include("comision_recompensa.portal.urls")),
    # Seed (legacy prototype) endpoints, PRODUCT.md §7.
    path("", include("eventos_medios.legacy.urls")),
    path("", include("comision_recompensa.legacy.urls")),
]

# API and legacy paths answer JSON errors, never an HTML page (alpespartners.middleware).
handler404 = "alpespartners.views.no_encontrado"
handler500 = "alpespartners.views.error_del_servidor"
