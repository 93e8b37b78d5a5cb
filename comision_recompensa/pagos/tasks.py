"""Payout tasks: generation (periodic), the re-check of held Pagos (periodic), the delivery fast
path (per Pago) and the safety-net sweep.

Delivery retries live on the Pago row (backoff, dead letter), not in Celery: a task that fails
or is lost leaves the row `pendiente` and the sweep sends it when it is due.
"""

from __future__ import annotations

import uuid

from celery import shared_task
from django.db import InterfaceError, OperationalError

from comision_recompensa.pagos.cumplimiento import pagos_revisar_retenidos
from comision_recompensa.pagos.entrega import pago_entregar, pagos_entregar_pendientes
from comision_recompensa.pagos.services import pagos_generar

__all__ = [
    "barrer_pagos_pendientes",
    "enviar_pago",
    "generar_pagos_periodico",
    "revisar_pagos_retenidos",
]

_ERRORES_TRANSITORIOS = (OperationalError, InterfaceError)


@shared_task(
    name="comision_recompensa.tasks.enviar_pago",
    acks_late=True,
    ignore_result=True,
    autoretry_for=_ERRORES_TRANSITORIOS,
    retry_backoff=True,
    max_retries=3,
)
def enviar_pago(pago_id: str) -> str:
    """Fast path: one delivery attempt of a Pago right after it is generated or retried."""
    return pago_entregar(pago_id=uuid.UUID(str(pago_id))).value


@shared_task(
    name="comision_recompensa.tasks.barrer_pagos_pendientes",
    acks_late=True,
    ignore_result=True,
)
def barrer_pagos_pendientes(limite: int = 100) -> str:
    """Safety net (beat): send every due `pendiente` Pago."""
    return str(pagos_entregar_pendientes(limite=limite))


@shared_task(
    name="comision_recompensa.tasks.generar_pagos_periodico",
    acks_late=True,
    ignore_result=True,
    autoretry_for=_ERRORES_TRANSITORIOS,
    retry_backoff=True,
    max_retries=3,
)
def generar_pagos_periodico() -> int:
    """Beat: group approved, unpaid money into Pagos. Returns how many were generated."""
    return len(pagos_generar(origen="sistema:generar_pagos_periodico"))


@shared_task(
    name="comision_recompensa.tasks.revisar_pagos_retenidos",
    acks_late=True,
    ignore_result=True,
    autoretry_for=_ERRORES_TRANSITORIOS,
    retry_backoff=True,
    max_retries=3,
)
def revisar_pagos_retenidos(limite: int = 500) -> str:
    """Beat: re-check held Pagos; those whose controls now pass go back to the outbox."""
    return str(pagos_revisar_retenidos(limite=limite, origen="sistema:revisar_pagos_retenidos"))
