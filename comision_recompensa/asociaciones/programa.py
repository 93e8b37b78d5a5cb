"""A marca's programme as tracking's rules see it: agreements make partners members.

Tracking never looks up this app's relations; this module registers them at start-up
(`ComisionRecompensaConfig.ready()`):

- with the access scope module (`alpespartners.alcance`): a brand user sees the partners it has
  an agreement with, and a partner may publish for the brands it has one with;
- with tracking's ingestion (`eventos_medios.programa`): an event's `codigo_referido` must be
  that of a partner with an agreement with the event's marca (PRODUCT.md §8).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Q

from alpespartners.alcance import registrar_programa
from comision_recompensa.models import AsociacionEstrategica
from eventos_medios.programa import registrar_codigos_referido


def socios_con_asociacion(marca_ids: frozenset[uuid.UUID]) -> Q:
    """Q on Socio: partners with an agreement with any of `marca_ids`."""
    return Q(asociaciones__marca_id__in=marca_ids)


def marcas_con_asociacion(socio_id: uuid.UUID) -> Q:
    """Q on Marca: brands the partner has an agreement with."""
    return Q(asociaciones__socio_id=socio_id)


def codigos_con_asociacion(
    codigos: frozenset[str], marca_ids: frozenset[uuid.UUID]
) -> Iterable[tuple[str, uuid.UUID, uuid.UUID]]:
    """(codigo_referido, marca_id, socio_id) for each code among `codigos` whose partner has an
    agreement (any, past or present) with a marca among `marca_ids`: one query."""
    return (
        AsociacionEstrategica.objects.filter(
            marca_id__in=marca_ids, socio__codigo_referido__in=codigos
        )
        .values_list("socio__codigo_referido", "marca_id", "socio_id")
        .distinct()
    )


def registrar() -> None:
    registrar_programa(
        socios_de_marcas=socios_con_asociacion, marcas_de_socio=marcas_con_asociacion
    )
    registrar_codigos_referido(codigos_con_asociacion)
