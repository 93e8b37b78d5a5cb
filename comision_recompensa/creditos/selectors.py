"""Reads of commissions and rewards, scoped by who is asking (PRODUCT.md §6).

- staff: everything;
- a brand user: the credits of its marcas' events;
- a partner: only its own;
- anyone else: nothing (`alpespartners.alcance.q_creditos`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

from django.db.models import QuerySet

from alpespartners import alcance as acceso
from alpespartners.alcance import Alcance
from comision_recompensa.models import Comision, Recompensa

C = TypeVar("C", Comision, Recompensa)


def _creditos_visibles(modelo: type[C], alcance: Alcance) -> QuerySet[C]:
    qs = modelo.objects.select_related("socio", "evento", "evento__marca", "asociacion", "regla")
    return acceso.filtrar(qs, acceso.q_creditos(alcance))


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
