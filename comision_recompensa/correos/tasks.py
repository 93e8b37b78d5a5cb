"""E-mail tasks: the fast path (one row, queued after commit) and the periodic sweep.

Retries live on the outbox row (backoff, dead letter), not in Celery: a lost task leaves the row
`pendiente` and the sweep sends it when it is due."""

from __future__ import annotations

import uuid

from celery import shared_task
from django.db import InterfaceError, OperationalError

from comision_recompensa.correos.envio import correo_enviar, correos_enviar_pendientes

__all__ = ["barrer_correos_pendientes", "enviar_correo"]


@shared_task(
    name="comision_recompensa.tasks.enviar_correo",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def enviar_correo(correo_id: str) -> str:
    """Fast path: one attempt right after the row is committed."""
    return correo_enviar(correo_id=uuid.UUID(str(correo_id))).value


@shared_task(
    name="comision_recompensa.tasks.barrer_correos_pendientes", acks_late=True, ignore_result=True
)
def barrer_correos_pendientes(limite: int = 100) -> dict[str, int]:
    """Safety net (beat): send every due `pendiente` e-mail."""
    return correos_enviar_pendientes(limite=limite)
