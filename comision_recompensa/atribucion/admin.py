"""Admin of the re-attribution audit trail (runs and their changes), read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString

from alpespartners.admin_comun import SoloLectura
from comision_recompensa.models import CambioAtribucion, EjecucionReatribucion


@admin.register(EjecucionReatribucion)
class EjecucionReatribucionAdmin(SoloLectura, admin.ModelAdmin):
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
class CambioAtribucionAdmin(SoloLectura, admin.ModelAdmin):
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
