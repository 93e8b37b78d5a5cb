"""Receivers that keep the report rollup exact: whatever changes an event's socio or a credit
invalidates the rollup of that event's day (read live until the next refresh rebuilds it).

Each signal is sent after its change commits (`enviar_al_confirmar`); invalidating costs one or
two indexed queries per batch (attribution) or per credit (approval, payment, reversal), never
on the tracking hot path.
"""

from __future__ import annotations

from typing import Any

from comision_recompensa import signals
from comision_recompensa.models import Comision, Recompensa
from comision_recompensa.reportes.resumen_diario import (
    resumen_invalidar,
    resumen_invalidar_creditos,
)


def invalidar_resumen_atribuidos(sender: Any, evento_ids: list[Any], **kwargs: Any) -> None:
    """Attribution may set `Evento.socio` and creates credits: forget those days' rollup."""
    resumen_invalidar(evento_ids=evento_ids)


_SENALES_RECOMPENSA = (
    signals.recompensa_aprobada,
    signals.recompensa_pagada,
    signals.recompensa_revertida,
)
_SENALES_COMISION = (
    signals.comision_aprobada,
    signals.comision_pagada,
    signals.comision_revertida,
)


def invalidar_resumen_credito(sender: Any, credito_id: Any, **kwargs: Any) -> None:
    """A credit was approved, paid or reversed: forget its event's day in the rollup. (The
    sender is not always the credit model, so the signal tells which table to look in.)"""
    modelo = Recompensa if kwargs.get("signal") in _SENALES_RECOMPENSA else Comision
    resumen_invalidar_creditos(modelo=modelo, credito_ids=[credito_id])


def conectar() -> None:
    """Connect this subdomain's receivers (from `AppConfig.ready()`)."""
    signals.eventos_atribuidos.connect(
        invalidar_resumen_atribuidos, dispatch_uid="comision_recompensa.resumen_atribuidos"
    )
    for i, senal in enumerate((*_SENALES_COMISION, *_SENALES_RECOMPENSA)):
        senal.connect(invalidar_resumen_credito, dispatch_uid=f"comision_recompensa.resumen.{i}")
