"""Periodic refresh of the report rollup."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from comision_recompensa.reportes.resumen_diario import resumen_refrescar

__all__ = ["refrescar_resumen_diario"]


@shared_task(
    name="comision_recompensa.tasks.refrescar_resumen_diario",
    autoretry_for=(OperationalError, InterfaceError),  # transient only
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def refrescar_resumen_diario() -> dict[str, int]:
    """Rebuild the rollup of past days not summarised (or invalidated) and of the last
    `RESUMEN_VENTANA_DIAS` days (beat), at most `RESUMEN_MAX_DIAS_POR_EJECUCION` per run.
    Idempotent; never runs twice at once (an overlapping run returns `en_curso` at once)."""
    return resumen_refrescar()
