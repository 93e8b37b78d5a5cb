"""The real routes plus the B0 baseline views, served by the same gunicorn configuration."""

from django.urls import URLPattern, URLResolver, include, path

from bench import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/constante", views.constante, name="bench-constante"),
    path("bench/insertar", views.insertar, name="bench-insertar"),
    path("", include("alpespartners.urls")),
]
