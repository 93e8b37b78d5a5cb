"""A marca's programme as tracking's access rules see it: agreements make partners members.

Tracking never looks up this app's relations; this module registers them with the access
scope module at start-up (`ComisionRecompensaConfig.ready()`): a brand user sees the partners
it has an agreement with, and a partner may publish for the brands it has one with.
"""

from __future__ import annotations

import uuid

from django.db.models import Q

from alpespartners.alcance import registrar_programa


def socios_con_asociacion(marca_ids: frozenset[uuid.UUID]) -> Q:
    """Q on Socio: partners with an agreement with any of `marca_ids`."""
    return Q(asociaciones__marca_id__in=marca_ids)


def marcas_con_asociacion(socio_id: uuid.UUID) -> Q:
    """Q on Marca: brands the partner has an agreement with."""
    return Q(asociaciones__socio_id=socio_id)


def registrar() -> None:
    registrar_programa(
        socios_de_marcas=socios_con_asociacion, marcas_de_socio=marcas_con_asociacion
    )
