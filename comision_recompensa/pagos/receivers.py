"""Receivers of the payout signals: queue the fast-path delivery of a Pago.

`pago_generado` and `pago_reintentado` are sent after commit (the Pago row, the outbox, is
already durable), so queueing here never races the row. A broker outage is logged and ignored:
the periodic sweep (`barrer_pagos_pendientes`) sends the Pago when it is due.
"""

from __future__ import annotations

import logging
from typing import Any

from comision_recompensa import signals
from comision_recompensa.pagos.tasks import enviar_pago

logger = logging.getLogger(__name__)


def encolar_entrega(sender: Any, pago_id: Any, **kwargs: Any) -> None:
    """A Pago is in the outbox: try to deliver it now (one Celery task). Never raises."""
    try:
        enviar_pago.delay(str(pago_id))
    except Exception:  # noqa: BLE001 - the sweep is the safety net
        logger.warning("could not queue delivery of Pago %s; the sweep will send it", pago_id)


def conectar() -> None:
    """Connect this subdomain's receivers (from `AppConfig.ready()`)."""
    for senal in (signals.pago_generado, signals.pago_reintentado):
        senal.connect(
            encolar_entrega, dispatch_uid=f"comision_recompensa.pagos.encolar.{id(senal)}"
        )
