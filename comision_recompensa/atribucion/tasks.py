"""Attribution tasks (queue `atribucion`).

- `atribuir_eventos(evento_ids)`: attribute those events (if still pending).
- `atribuir_pendientes()`: drain the pending queue in batches of ATRIBUCION_LOTE.
- `barrer_eventos_pendientes()` (beat): the safety net — events still `pendiente` after
  BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS (a lost task, a broker outage) are re-queued.

The hot path (`programar_atribucion`, called on commit of every ingestion) costs nothing per
event: each process publishes at most one drain per short window, delayed by that window, so
the drain sees every event the process committed in it. Follow-up drains (`_publicar_drenado`)
use a Redis ``SET NX`` key: while one is queued and not yet started, nothing more is published;
the drain deletes the key when it starts. When a batch comes back full the drain queues one
more drain, so idle workers join in (they never overlap: SKIP LOCKED).
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

from comision_recompensa.atribucion.services import eventos_atribuir, eventos_pendientes_atribuir
from eventos_medios import almacen

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
        conteo = eventos_pendientes_atribuir(lote=lote)
        total += conteo.reclamados
        if conteo.reclamados < lote:
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
        for i in almacen.eventos_pendientes_ids(
            recibidos_antes=limite, limite=lote * LOTES_POR_BARRIDO
        )
    ]
    if ids:
        logger.warning("Attribution sweep: %d events still pending, re-queued", len(ids))
    for inicio in range(0, len(ids), lote):
        atribuir_eventos.delay(ids[inicio : inicio + lote])
    return len(ids)


# Hot-path debounce, per process: at most one drain published per window. The drain is
# published with a countdown of one window, so it cannot start before the window ends and
# therefore sees every event this process committed during the window (each event commits
# before `programar_atribucion` runs, on commit). No Redis round trip per event.
VENTANA_PROGRAMAR_SEGUNDOS = 0.2
_programado_hasta = 0.0  # time.monotonic() until which this process's queued drain covers us


def programar_atribucion(*, evento_ids: Sequence[Any]) -> None:
    """Make sure newly committed events get attributed soon. Never raises.

    Embedded mode (eager Celery): attribute the ids right away, in process. With a broker: at
    most one `atribuir_pendientes` per process every `VENTANA_PROGRAMAR_SEGUNDOS`, published
    with that countdown (so the drain starts after every event of the window is committed and
    takes them all). An event waits at most one window longer than before; no Redis round trip
    per event (only one publish per window). If the broker is down, log and carry on — the
    events are rows in the database and the periodic sweep picks them up. (A worker clock
    running ahead of this host's by more than the window could start a drain early; the sweep
    covers that too.)
    """
    global _programado_hasta
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            atribuir_eventos.delay([str(i) for i in evento_ids])
            return
        ahora = time.monotonic()
        if ahora < _programado_hasta:
            return
        atribuir_pendientes.apply_async(countdown=VENTANA_PROGRAMAR_SEGUNDOS)
        _programado_hasta = ahora + VENTANA_PROGRAMAR_SEGUNDOS
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
