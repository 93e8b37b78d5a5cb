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
    `RESUMEN_VENTANA_DIAS` days (beat). Idempotent and safe to overlap: days are rebuilt one
    transaction each under a row lock."""
    return resumen_refrescar()
