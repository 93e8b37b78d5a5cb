"""Receivers of eventos_medios' signals: queue attribution once the events are committed.

This runs on the tracking hot path (every click), so it only registers an on-commit callback;
the callback costs no Redis round trip per event and never raises (see
`comision_recompensa.atribucion.tasks.programar_atribucion`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

# Imported for its side effect too: it connects the receivers that drop cached tokens when a
# user, a marca's usuarios or a socio's usuario change (see its module docstring).
from alpespartners.api import authentication  # noqa: F401
from comision_recompensa.atribucion.tasks import programar_atribucion
from eventos_medios.signals import eventos_registrados


@receiver(eventos_registrados, dispatch_uid="comision_recompensa.atribuir_eventos_registrados")
def atribuir_eventos_registrados(sender: Any, evento_ids: list[Any], **kwargs: Any) -> None:
    """eventos_registrados → attribution queued after commit (immediately if not in a
    transaction)."""
    ids = list(evento_ids)
    transaction.on_commit(lambda: programar_atribucion(evento_ids=ids))


# The report rollup's invalidation (attribution and credit lifecycle signals).
from comision_recompensa.reportes import receivers as receptores_resumen  # noqa: E402, F401
