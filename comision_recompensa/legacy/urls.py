"""The seed prototype's commission/reward test routes (PRODUCT.md §7), mounted at the root."""

from django.urls import URLPattern, URLResolver, path

from comision_recompensa.legacy import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("prueba/comision-comando", views.ComisionComando.as_view(), name="legado-comision"),
    path("prueba/recompensa-comando", views.RecompensaComando.as_view(), name="legado-recompensa"),
]
