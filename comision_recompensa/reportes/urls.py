"""Reports and CSV exports (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path, re_path

from comision_recompensa.reportes import api as reportes

urlpatterns: list[URLPattern | URLResolver] = [
    path("reportes/resumen/", reportes.TotalesView.as_view(), name="reporte-resumen"),
    path("reportes/serie/", reportes.SerieView.as_view(), name="reporte-serie"),
    path(
        "reportes/publicaciones/",
        reportes.RendimientoPublicacionesView.as_view(),
        name="reporte-publicaciones",
    ),
    re_path(
        r"^exportaciones/(?P<recurso>eventos|comisiones|recompensas|pagos)/$",
        reportes.ExportacionView.as_view(),
        name="exportacion",
    ),
]
