"""Admin of the re-attribution audit trail (runs and their changes), read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from comision_recompensa.models import CambioAtribucion, EjecucionReatribucion


class SoloLecturaAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EjecucionReatribucion)
class EjecucionReatribucionAdmin(SoloLecturaAdmin):
    list_display = [
        "iniciada_en",
        "terminada_en",
        "dry_run",
        "eventos_procesados",
        "usuario",
        "cambios_link",
    ]
    list_filter = ["dry_run"]
    list_select_related = ["usuario"]
    show_full_result_count = False

    @admin.display(description="changes")
    def cambios_link(self, obj: EjecucionReatribucion) -> SafeString:
        return format_html(
            '<a href="../cambioatribucion/?ejecucion__id__exact={}">changes</a>', obj.pk
        )


@admin.register(CambioAtribucion)
class CambioAtribucionAdmin(SoloLecturaAdmin):
    list_display = [
        "creado_en",
        "accion",
        "socio",
        "evento",
        "monto_anterior",
        "monto_nuevo",
        "moneda",
        "ejecucion",
    ]
    list_filter = ["accion"]
    list_select_related = ["socio", "evento", "ejecucion"]
    raw_id_fields = ["socio", "evento", "ejecucion"]
    search_fields = ["=evento__id", "=socio__id"]
    show_full_result_count = False
