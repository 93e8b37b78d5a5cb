"""Receivers of the payout signals: queue the fast-path delivery of a Pago.

The payout signals are sent inside the transaction of the change (PRODUCT.md §9), so the
queueing receiver is wrapped with `receptor_al_confirmar`: it runs once the Pago row (the
outbox) is committed, never for a rolled-back one, and a broker outage is logged and ignored —
the periodic sweep (`barrer_pagos_pendientes`) sends the Pago when it is due.
"""

from __future__ import annotations

import logging
from typing import Any

from alpespartners.senales import receptor_al_confirmar
from comision_recompensa import signals
from comision_recompensa.pagos.tasks import enviar_pago

logger = logging.getLogger(__name__)


def encolar_entrega(sender: Any, pago_id: Any, **kwargs: Any) -> None:
    """A Pago is (back) in the outbox: try to deliver it now (one Celery task). Never raises.
    A Pago that was generated held makes the task find nothing to send: harmless."""
    try:
        enviar_pago.delay(str(pago_id))
    except Exception:  # noqa: BLE001 - the sweep is the safety net
        logger.warning("could not queue delivery of Pago %s; the sweep will send it", pago_id)


encolar_entrega_al_confirmar = receptor_al_confirmar(encolar_entrega)

# Every signal after which a Pago is `pendiente` and due.
SENALES_A_LA_COLA = (
    signals.pago_generado,
    signals.pago_reintentado,
    signals.pago_liberado,
    signals.pago_reanudado,
)


def conectar() -> None:
    """Connect this subdomain's receivers (from `AppConfig.ready()`)."""
    for i, senal in enumerate(SENALES_A_LA_COLA):
        senal.connect(
            encolar_entrega_al_confirmar,
            weak=False,
            dispatch_uid=f"comision_recompensa.pagos.encolar.{i}",
        )
