"""Admin registrations, one module per feature, and the site-wide CSV export action."""

from django.contrib import admin

from comision_recompensa.exportacion import exportar_csv

from . import atribucion, pagos  # noqa: F401

# Every changelist (eventos, comisiones, recompensas, pagos, …) can export its selection as a
# streamed CSV. Registered site-wide from here because tracking must not import this app.
admin.site.add_action(exportar_csv, "exportar_csv")
