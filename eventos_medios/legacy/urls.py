"""The seed prototype's routes (PRODUCT.md §7), mounted at the site root."""

from django.urls import URLPattern, URLResolver, path

from eventos_medios.legacy import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("medios_marketing/medio-comando", views.MedioComando.as_view(), name="legado-medio"),
    path(
        "medios_marketing/publicacion-comando",
        views.PublicacionComando.as_view(),
        name="legado-publicacion",
    ),
    path("eventos/evento-comando", views.EventoComando.as_view(), name="legado-evento"),
    path("eventos/evento-query", views.EventoQuery.as_view(), name="legado-eventos"),
    path(
        "eventos/evento-query/<str:evento_id>",
        views.EventoQueryDetalle.as_view(),
        name="legado-evento-detalle",
    ),
]
