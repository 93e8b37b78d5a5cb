"""Receivers that keep the report rollup exact: whatever changes an event's socio or a credit
invalidates the rollup of that event's day (read live until the next refresh rebuilds it).

Invalidating is cache work: every receiver here is wrapped with `receptor_al_confirmar`, so it
runs after the change commits whether its signal is sent inside the transaction (payment:
`comision_pagada`, …) or after commit (`enviar_al_confirmar`: it then runs at once), and a
failure never undoes the change. It costs one or two indexed queries per batch (attribution) or
per credit (approval, payment, reversal), never on the tracking hot path.
"""

from __future__ import annotations

from typing import Any

from alpespartners.senales import receptor_al_confirmar
from comision_recompensa import signals
from comision_recompensa.models import Comision, Recompensa
from comision_recompensa.reportes.resumen_diario import (
    resumen_invalidar,
    resumen_invalidar_creditos,
)


@receptor_al_confirmar
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


@receptor_al_confirmar
def invalidar_resumen_comision(sender: Any, credito_id: Any, **kwargs: Any) -> None:
    """A commission was approved, paid or reversed: forget its event's day in the rollup."""
    resumen_invalidar_creditos(modelo=Comision, credito_ids=[credito_id])


@receptor_al_confirmar
def invalidar_resumen_recompensa(sender: Any, credito_id: Any, **kwargs: Any) -> None:
    """A reward was approved, paid or reversed: forget its event's day in the rollup."""
    resumen_invalidar_creditos(modelo=Recompensa, credito_ids=[credito_id])


def conectar() -> None:
    """Connect this subdomain's receivers (from `AppConfig.ready()`). (One receiver per credit
    class: the deferred receiver does not see which signal called it.)"""
    signals.eventos_atribuidos.connect(
        invalidar_resumen_atribuidos, dispatch_uid="comision_recompensa.resumen_atribuidos"
    )
    for i, senal in enumerate(_SENALES_COMISION):
        senal.connect(invalidar_resumen_comision, dispatch_uid=f"comision_recompensa.resumen.c{i}")
    for i, senal in enumerate(_SENALES_RECOMPENSA):
        senal.connect(
            invalidar_resumen_recompensa, dispatch_uid=f"comision_recompensa.resumen.r{i}"
        )
