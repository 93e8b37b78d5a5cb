"""The admin dashboard, mounted at /admin/tablero/ (staff only through admin_view)."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, path

from comision_recompensa.reportes.tablero import tablero_view

urlpatterns: list[URLPattern | URLResolver] = [
    path("", admin.site.admin_view(tablero_view), name="admin-tablero"),
]
