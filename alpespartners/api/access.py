"""Who the caller is, in domain terms (PRODUCT.md §6).

- staff: sees and does everything;
- a user linked to one or more Marcas: sends those brands' events and reads their programme;
- a user linked to a Socio: reads only its own data and creates its own medios/publicaciones;
- anyone else authenticated: sees nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Alcance:
    """The scope of one user. Computed once per request (cached on the user object)."""

    es_staff: bool
    marca_ids: frozenset[uuid.UUID]
    socio_id: uuid.UUID | None

    @property
    def es_marca(self) -> bool:
        return bool(self.marca_ids)

    @property
    def es_socio(self) -> bool:
        return self.socio_id is not None


SIN_ALCANCE = Alcance(es_staff=False, marca_ids=frozenset(), socio_id=None)


def alcance_de(user: Any) -> Alcance:
    """The Alcance of `user` (anonymous → nothing). Two small queries, once per request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return SIN_ALCANCE
    cacheado = getattr(user, "_alcance_cache", None)
    if cacheado is not None:
        return cacheado
    from eventos_medios.models import Marca, Socio

    alcance = Alcance(
        es_staff=bool(user.is_staff),
        marca_ids=frozenset(Marca.objects.filter(usuarios=user).values_list("id", flat=True)),
        socio_id=Socio.objects.filter(usuario=user).values_list("id", flat=True).first(),
    )
    user._alcance_cache = alcance
    return alcance
