"""Reads of commissions and rewards, scoped by who is asking (PRODUCT.md §6).

- staff: everything;
- a brand user: the credits of its marcas' events and of its marcas' agreements;
- a partner: only its own;
- anyone else: nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

from django.db.models import Q, QuerySet

from alpespartners.api.access import Alcance
from comision_recompensa.models import Comision, Recompensa

C = TypeVar("C", Comision, Recompensa)


def _filtro_creditos(alcance: Alcance) -> Q | None:
    """The Q a non-staff caller's credits must match (None: staff, no filter)."""
    if alcance.es_staff:
        return None
    filtro = Q(pk__in=[])
    if alcance.marca_ids:
        filtro |= Q(evento__marca_id__in=alcance.marca_ids)
        filtro |= Q(asociacion__marca_id__in=alcance.marca_ids)
    if alcance.socio_id:
        filtro |= Q(socio_id=alcance.socio_id)
    return filtro


def _creditos_visibles(modelo: type[C], alcance: Alcance) -> QuerySet[C]:
    qs = modelo.objects.select_related("socio", "evento", "evento__marca", "asociacion", "regla")
    filtro = _filtro_creditos(alcance)
    return qs if filtro is None else qs.filter(filtro)


def comisiones_visibles(*, alcance: Alcance) -> QuerySet[Comision]:
    """Comisiones the caller may read (with socio, evento, marca, asociacion and regla joined)."""
    return _creditos_visibles(Comision, alcance)


def recompensas_visibles(*, alcance: Alcance) -> QuerySet[Recompensa]:
    """Recompensas the caller may read (with socio, evento, marca, asociacion and regla joined)."""
    return _creditos_visibles(Recompensa, alcance)


def creditos_visibles(*, modelo: type[C], alcance: Alcance) -> QuerySet[C]:
    """`comisiones_visibles` or `recompensas_visibles`, chosen by model class."""
    return _creditos_visibles(modelo, alcance)


def creditos_filtrar(
    qs: QuerySet[C],
    *,
    socio: uuid.UUID | None = None,
    marca: uuid.UUID | None = None,
    estado: str | None = None,
    evento: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> QuerySet[C]:
    """Narrow an already scoped queryset. desde/hasta bound the event's `ocurrido_en`
    (inclusive); filter values outside the caller's scope simply match nothing."""
    condiciones: dict[str, Any] = {}
    if socio:
        condiciones["socio_id"] = socio
    if marca:
        condiciones["evento__marca_id"] = marca
    if estado:
        condiciones["estado"] = estado
    if evento:
        condiciones["evento_id"] = evento
    if desde:
        condiciones["evento__ocurrido_en__gte"] = desde
    if hasta:
        condiciones["evento__ocurrido_en__lte"] = hasta
    return qs.filter(**condiciones)
