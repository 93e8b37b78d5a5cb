"""Lifecycle tasks (approval after the hold period)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from comision_recompensa.creditos.services import creditos_aprobar_vencidos

__all__ = ["aprobar_creditos_vencidos"]


@shared_task(
    name="comision_recompensa.tasks.aprobar_creditos_vencidos",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),  # transient only
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def aprobar_creditos_vencidos() -> int:
    """Approve pending commissions and rewards whose hold period has elapsed (beat, every 15
    minutes). Idempotent: rows are claimed with a conditional UPDATE, so overlapping runs never
    approve one twice. Returns how many were approved."""
    return creditos_aprobar_vencidos()
