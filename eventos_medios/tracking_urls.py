"""The public tracking link, mounted at the site root: `/t/<codigo>`."""

from django.urls import URLPattern, URLResolver, path

from eventos_medios.tracking import enlace_tracking

urlpatterns: list[URLPattern | URLResolver] = [
    path("t/<str:codigo>", enlace_tracking, name="enlace-tracking"),
]
