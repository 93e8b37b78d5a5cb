"""Admin registrations live with their subdomain (`<subdomain>/admin.py`); Django discovers
this module, which imports them and adds the site-wide CSV export action."""

from django.contrib import admin

from comision_recompensa.asociaciones import admin as _asociaciones  # noqa: F401
from comision_recompensa.atribucion import admin as _atribucion  # noqa: F401
from comision_recompensa.contratos import admin as _contratos  # noqa: F401
from comision_recompensa.correos import admin as _correos  # noqa: F401
from comision_recompensa.creditos import admin as _creditos  # noqa: F401
from comision_recompensa.pagos import admin as _pagos  # noqa: F401
from comision_recompensa.perfiles import admin as _perfiles  # noqa: F401
from comision_recompensa.reportes.exportacion import exportar_csv
from comision_recompensa.solicitudes import admin as _solicitudes  # noqa: F401
from comision_recompensa.webhooks import admin as _webhooks  # noqa: F401

# Every changelist (eventos, comisiones, recompensas, pagos, …) can export its selection as a
# streamed CSV. Registered site-wide from here because tracking must not import this app.
admin.site.add_action(exportar_csv, "exportar_csv")
