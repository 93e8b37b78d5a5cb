"""Celery tasks, one module per feature. Task names are explicit (`comision_recompensa.tasks.X`)
so that routes and the beat schedule in settings do not depend on module layout."""

from .atribucion import *  # noqa: F403
from .ciclo_vida import *  # noqa: F403
from .pagos import *  # noqa: F403
from .resumen import *  # noqa: F403
