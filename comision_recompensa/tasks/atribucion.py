"""Attribution tasks (queue `atribucion`).

- `atribuir_eventos(evento_ids)`: attribute those events (if still pending).
- `atribuir_pendientes()`: drain the pending queue in batches of ATRIBUCION_LOTE.
- `barrer_eventos_pendientes()` (beat): the safety net — events still `pendiente` after
  BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS (a lost task, a broker outage) are re-queued.

The hot path (`programar_atribucion`, called on commit of every ingestion) costs one Redis
``SET NX`` at most: while a drain task is queued and not yet started, further registrations
publish nothing, because that task will see their events. The drain deletes the key when it
starts, so anything committed after that queues a new drain. When a batch comes back full the
drain queues one more drain, so idle workers join in (they never overlap: SKIP LOCKED).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from comision_recompensa.services.atribucion import eventos_atribuir, eventos_pendientes_atribuir
from eventos_medios.models import EstadoAtribucion, Evento

__all__ = [
    "atribuir_eventos",
    "atribuir_pendientes",
    "barrer_eventos_pendientes",
    "programar_atribucion",
]

logger = logging.getLogger(__name__)

# Set while a drain task is queued but not started (debounce of the hot path).
CLAVE_DRENADO_EN_COLA = "atribucion:drenado-en-cola"
TTL_DRENADO_EN_COLA = 10  # seconds; if the task is lost the sweep covers the gap
# A drain task gives the worker back after this long and re-queues itself.
PRESUPUESTO_DRENADO_SEGUNDOS = 20.0
# The sweep re-queues at most this many batches per run.
LOTES_POR_BARRIDO = 20

_OPCIONES_TAREA: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "queue": "atribucion",
    # Only transient database errors are retried; a bug raises and is visible.
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 10,
}


@shared_task(name="comision_recompensa.tasks.atribuir_eventos", **_OPCIONES_TAREA)
def atribuir_eventos(evento_ids: Sequence[str]) -> int:
    """Attribute the given events that are still pending. Returns how many were processed."""
    return eventos_atribuir(evento_ids=list(evento_ids)).reclamados


@shared_task(name="comision_recompensa.tasks.atribuir_pendientes", **_OPCIONES_TAREA)
def atribuir_pendientes() -> int:
    """Drain pending events batch by batch (oldest first) until none are left or the time
    budget runs out (then re-queue). Returns how many events were processed."""
    _olvidar_drenado_en_cola()
    lote = settings.ATRIBUCION_LOTE
    limite = time.monotonic() + PRESUPUESTO_DRENADO_SEGUNDOS
    total = 0
    while True:
        resumen = eventos_pendientes_atribuir(lote=lote)
        total += resumen.reclamados
        if resumen.reclamados < lote:
            return total
        # More is waiting: let another idle worker join (at most one queued drain at a time).
        _publicar_drenado()
        if time.monotonic() > limite:
            return total


@shared_task(name="comision_recompensa.tasks.barrer_eventos_pendientes", **_OPCIONES_TAREA)
def barrer_eventos_pendientes() -> int:
    """Re-queue events still pending BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS after reception."""
    limite = timezone.now() - dt.timedelta(seconds=settings.BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS)
    lote = settings.ATRIBUCION_LOTE
    ids = [
        str(i)
        for i in Evento.objects.filter(
            estado_atribucion=EstadoAtribucion.PENDIENTE, recibido_en__lt=limite
        )
        .order_by("recibido_en")
        .values_list("id", flat=True)[: lote * LOTES_POR_BARRIDO]
    ]
    if ids:
        logger.warning("Attribution sweep: %d events still pending, re-queued", len(ids))
    for inicio in range(0, len(ids), lote):
        atribuir_eventos.delay(ids[inicio : inicio + lote])
    return len(ids)


def programar_atribucion(*, evento_ids: Sequence[Any]) -> None:
    """Make sure newly committed events get attributed soon. Never raises.

    Embedded mode (eager Celery): attribute the ids right away, in process. With a broker:
    queue a drain task unless one is already queued. If the broker (or Redis) is down, log
    and carry on — the events are rows in the database and the sweep will pick them up.
    """
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            atribuir_eventos.delay([str(i) for i in evento_ids])
        else:
            _publicar_drenado()
    except Exception:
        logger.warning(
            "Could not queue attribution of %d events; the sweep will retry",
            len(evento_ids),
            exc_info=True,
        )


def _publicar_drenado() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # in process there is nobody else to hand the work to
    if not cache.add(CLAVE_DRENADO_EN_COLA, 1, timeout=TTL_DRENADO_EN_COLA):
        return
    try:
        atribuir_pendientes.apply_async()
    except Exception:
        _olvidar_drenado_en_cola()
        raise


def _olvidar_drenado_en_cola() -> None:
    try:
        cache.delete(CLAVE_DRENADO_EN_COLA)
    except Exception:
        logger.warning("Could not clear the attribution debounce key", exc_info=True)
