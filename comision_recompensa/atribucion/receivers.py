"""Receivers of eventos_medios' signals: queue attribution once the events are committed.

This runs on the tracking hot path (every click). `eventos_registrados` is sent after commit
(`enviar_al_confirmar`), so the receiver queues at once; `programar_atribucion` costs no Redis
round trip per event and never raises (see `comision_recompensa.atribucion.tasks`).
"""

from __future__ import annotations

from typing import Any

from comision_recompensa.atribucion.tasks import programar_atribucion
from eventos_medios.signals import eventos_registrados


def atribuir_eventos_registrados(sender: Any, evento_ids: list[Any], **kwargs: Any) -> None:
    """eventos_registrados (after commit) → attribution queued."""
    programar_atribucion(evento_ids=list(evento_ids))


def conectar() -> None:
    """Connect this subdomain's receivers (from `AppConfig.ready()`)."""
    eventos_registrados.connect(
        atribuir_eventos_registrados,
        dispatch_uid="comision_recompensa.atribuir_eventos_registrados",
    )
