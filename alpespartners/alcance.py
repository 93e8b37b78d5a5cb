"""Who the caller is, and which rows of each entity it may see (PRODUCT.md §6): one module.

- staff: sees and does everything (no filter);
- a user linked to one or more Marcas: sends those brands' events and reads their programme;
- a user linked to a Socio: reads only its own data and creates its own medios/publicaciones;
- a user with both links sees the union; anyone else authenticated sees nothing.

`alcance_de(user)` gives the caller's `Alcance`; each `q_<entidad>(alcance)` turns it into the
`Q` filter of that entity's rows (None for staff: no filter). API lists, reports, CSV exports
and the admin all filter through these functions, so they agree by construction.

The filters name fields only (no model is imported), so both apps use this module. A marca's
programme also includes the partners it has an agreement with, a relation the money app owns:
the money app registers it at start-up (`registrar_programa`), so tracking's rules never look
up the money app's relations themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q


@dataclass(frozen=True)
class Alcance:
    """The scope of one user. Computed once per request (cached on the user object).

    `socio_activo` is False for a deactivated partner (PRODUCT.md §8): its key reads its own
    data and nothing else (`solo_lectura`)."""

    es_staff: bool
    marca_ids: frozenset[uuid.UUID]
    socio_id: uuid.UUID | None
    socio_activo: bool = True

    @property
    def es_marca(self) -> bool:
        return bool(self.marca_ids)

    @property
    def es_socio(self) -> bool:
        return self.socio_id is not None

    @property
    def solo_lectura(self) -> bool:
        """A deactivated partner (and nothing more: not staff, not a brand's user) may only
        read its own data."""
        return self.es_socio and not self.socio_activo and not self.es_staff and not self.es_marca


SIN_ALCANCE = Alcance(es_staff=False, marca_ids=frozenset(), socio_id=None)
NADA = Q(pk__in=[])
"""A filter that matches no row."""


def alcance_de(user: Any) -> Alcance:
    """The Alcance of `user` (anonymous → nothing). Two small queries, once per request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return SIN_ALCANCE
    cacheado = getattr(user, "_alcance_cache", None)
    if cacheado is not None:
        return cacheado
    from eventos_medios.models import Marca, Socio

    socio = Socio.objects.filter(usuario=user).values_list("id", "activo").first()
    alcance = Alcance(
        es_staff=bool(user.is_staff),
        marca_ids=frozenset(Marca.objects.filter(usuarios=user).values_list("id", flat=True)),
        socio_id=socio[0] if socio else None,
        socio_activo=bool(socio[1]) if socio else True,
    )
    user._alcance_cache = alcance
    return alcance


# --- Programme membership registered by other apps -------------------------------------------
ReglaSocios = Callable[[frozenset[uuid.UUID]], Q]
ReglaMarcas = Callable[[uuid.UUID], Q]
_socios_de_marcas: list[ReglaSocios] = []
_marcas_de_socio: list[ReglaMarcas] = []


def registrar_programa(*, socios_de_marcas: ReglaSocios, marcas_de_socio: ReglaMarcas) -> None:
    """Widen a programme (called from an `AppConfig.ready()`; idempotent).

    `socios_de_marcas(marca_ids)` is a Q on Socio for the partners in those brands' programmes
    beyond those publishing for them; `marcas_de_socio(socio_id)` a Q on Marca for the brands
    whose programme the partner belongs to beyond those it publishes for."""
    if socios_de_marcas not in _socios_de_marcas:
        _socios_de_marcas.append(socios_de_marcas)
    if marcas_de_socio not in _marcas_de_socio:
        _marcas_de_socio.append(marcas_de_socio)


def _unir(filtros: Iterable[Q]) -> Q:
    total = NADA
    for filtro in filtros:
        total |= filtro
    return total


def q_socios_de_marcas(marca_ids: frozenset[uuid.UUID]) -> Q:
    """Q on Socio: partners in the programmes of `marca_ids` (publishing for them, or in a
    relation another app registered)."""
    propios = Q(medios__publicaciones__marca_id__in=marca_ids)
    return _unir([propios, *(regla(marca_ids) for regla in _socios_de_marcas)])


def q_marcas_de_socio(socio_id: uuid.UUID) -> Q:
    """Q on Marca: brands whose programme the partner is in (it publishes for them, or a
    relation another app registered)."""
    propios = Q(publicaciones__medio__socio_id=socio_id)
    return _unir([propios, *(regla(socio_id) for regla in _marcas_de_socio)])


# --- One filter per entity (None: staff, no filter) -------------------------------------------
def _por_marca_o_socio(alcance: Alcance, *, marca: str | None, socio: str | None) -> Q | None:
    """Rows of the caller's marcas (field path `marca`) or of its socio (field path `socio`);
    a None path means that link grants nothing on this entity."""
    if alcance.es_staff:
        return None
    filtro = NADA
    if alcance.marca_ids and marca is not None:
        filtro |= Q(**{f"{marca}__in": alcance.marca_ids})
    if alcance.socio_id and socio is not None:
        filtro |= Q(**{socio: alcance.socio_id})
    return filtro


def q_marcas(alcance: Alcance) -> Q | None:
    """Marcas: its own; a partner, those it publishes for (join: use `.distinct()`)."""
    if alcance.es_staff:
        return None
    filtro = Q(id__in=alcance.marca_ids)
    if alcance.socio_id:
        filtro |= Q(publicaciones__medio__socio_id=alcance.socio_id)
    return filtro


def q_socios(alcance: Alcance) -> Q | None:
    """Socios: a brand user, the partners of its programmes; a partner, itself (join:
    `.distinct()`)."""
    if alcance.es_staff:
        return None
    filtro = NADA
    if alcance.marca_ids:
        filtro |= q_socios_de_marcas(alcance.marca_ids)
    if alcance.socio_id:
        filtro |= Q(id=alcance.socio_id)
    return filtro


def q_medios(alcance: Alcance) -> Q | None:
    """Medios: those publishing for the caller's marcas (join: `.distinct()`), or its own."""
    return _por_marca_o_socio(alcance, marca="publicaciones__marca_id", socio="socio_id")


def q_publicaciones(alcance: Alcance) -> Q | None:
    """Publicaciones: for the caller's marcas, or in its own medios."""
    return _por_marca_o_socio(alcance, marca="marca_id", socio="medio__socio_id")


def q_eventos(alcance: Alcance) -> Q | None:
    """Eventos of the caller's marcas, or credited to its socio (`Evento.socio`). Also the
    filter of the daily rollup rows, which carry the same `marca` and `socio`."""
    return _por_marca_o_socio(alcance, marca="marca_id", socio="socio_id")


def q_creditos(alcance: Alcance) -> Q | None:
    """Comisiones and recompensas: on events of the caller's marcas, or its socio's own."""
    return _por_marca_o_socio(alcance, marca="evento__marca_id", socio="socio_id")


def q_asociaciones(alcance: Alcance) -> Q | None:
    """Agreements of the caller's marcas, or of its socio."""
    return _por_marca_o_socio(alcance, marca="marca_id", socio="socio_id")


def q_pagos(alcance: Alcance) -> Q | None:
    """Pagos: a partner's own; a brand user, those of its marcas' programmes (a Pago is per
    socio, marca and moneda). Legacy Pagos without a marca mixed several brands' money: only
    staff and the partner see those."""
    return _por_marca_o_socio(alcance, marca="marca_id", socio="socio_id")


def q_contratos(alcance: Alcance) -> Q | None:
    """Contract versions: those of the caller's marcas' agreements, or of its socio's. Drafts
    are staff's work: the selectors show non-staff callers published versions only."""
    return _por_marca_o_socio(alcance, marca="asociacion__marca_id", socio="asociacion__socio_id")


def q_perfiles_pago(alcance: Alcance) -> Q | None:
    """Payout profiles (bank details): a partner's own; brand users none."""
    return _por_marca_o_socio(alcance, marca=None, socio="socio_id")


def q_endpoints_webhook(alcance: Alcance) -> Q | None:
    """Webhook endpoints: a brand user manages its marcas' endpoints, a partner its own."""
    return _por_marca_o_socio(alcance, marca="marca_id", socio="socio_id")


def filtrar(qs: Any, filtro: Q | None) -> Any:
    """`qs` narrowed by a `q_<entidad>` result (unchanged for staff)."""
    return qs if filtro is None else qs.filter(filtro)
