"""Webhook delivery tasks, on the `webhooks` queue: the fast path (one delivery, queued after
the commit that wrote it) and the safety-net sweep (beat).

Retries live on the row (backoff, dead letter), not in Celery: a short wait is re-queued here
with a countdown, a longer one is left to the sweep; a lost task leaves the row `pendiente` and
the sweep sends it when due.
"""

from __future__ import annotations

import uuid

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from comision_recompensa.webhooks.entrega import (
    Resultado,
    entrega_enviar,
    entregas_enviar_pendientes,
)

_ERRORES_TRANSITORIOS = (OperationalError, InterfaceError)


@shared_task(
    name="comision_recompensa.tasks.webhooks_entregar",
    acks_late=True,
    ignore_result=True,
    autoretry_for=_ERRORES_TRANSITORIOS,
    retry_backoff=True,
    max_retries=3,
)
def webhooks_entregar(entrega_id: str) -> str:
    """One attempt of one delivery; a retry due soon is queued again with a countdown."""
    intento = entrega_enviar(entrega_id=uuid.UUID(str(entrega_id)))
    limite = float(settings.WEBHOOKS_REINTENTO_EN_TAREA_MAX_SEGUNDOS)
    espera = intento.espera
    if intento.resultado == Resultado.REINTENTO and espera is not None and espera <= limite:
        webhooks_entregar.apply_async((str(entrega_id),), countdown=espera)
    return intento.resultado.value


@shared_task(
    name="comision_recompensa.tasks.webhooks_barrer",
    acks_late=True,
    ignore_result=True,
)
def webhooks_barrer(limite: int = 500) -> str:
    """Safety net (beat): one attempt of every due delivery."""
    return str(entregas_enviar_pendientes(limite=limite))
