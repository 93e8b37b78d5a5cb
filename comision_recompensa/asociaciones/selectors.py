"""Reads of agreements, scoped by who is asking (PRODUCT.md §6)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Prefetch, Q, QuerySet

from alpespartners import alcance as acceso
from alpespartners.alcance import Alcance
from comision_recompensa.models import AsociacionEstrategica, Contrato


def asociaciones_visibles(*, alcance: Alcance) -> QuerySet[AsociacionEstrategica]:
    """Staff: all. Brand user: its marcas' agreements. Partner: its own. Else: none. Rules and
    published contract versions (with their acceptances) prefetched."""
    publicados = (
        Contrato.objects.filter(publicado_en__isnull=False)
        .prefetch_related("aceptaciones")
        .order_by("-version")
    )
    qs = AsociacionEstrategica.objects.select_related("marca", "socio").prefetch_related(
        "reglas", Prefetch("contratos", queryset=publicados, to_attr="contratos_publicados")
    )
    return acceso.filtrar(qs, acceso.q_asociaciones(alcance))


def asociacion_vigente(
    *, marca_id: uuid.UUID, socio_id: uuid.UUID, fecha: dt.date
) -> AsociacionEstrategica | None:
    """The agreement between marca and socio active on `fecha` (at most one: overlaps are
    refused by the services), with its rules prefetched."""
    return (
        AsociacionEstrategica.objects.filter(
            marca_id=marca_id, socio_id=socio_id, vigencia_inicio__lte=fecha
        )
        .filter(Q(vigencia_fin__isnull=True) | Q(vigencia_fin__gte=fecha))
        .prefetch_related("reglas")
        .order_by("-vigencia_inicio")
        .first()
    )
