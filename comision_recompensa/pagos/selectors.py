"""Reads of payouts, scoped by who is asking (PRODUCT.md §6)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from alpespartners import alcance as acceso
from alpespartners.alcance import Alcance
from comision_recompensa.models import (
    Ajuste,
    Comision,
    ControlCumplimiento,
    EstadoPago,
    Pago,
    Recompensa,
)


def pagos_visibles(*, alcance: Alcance) -> QuerySet[Pago]:
    """Staff: all Pagos. Partner: its own. Brand user: those of its marcas' programmes (a Pago
    is per socio, marca and moneda; legacy Pagos without a marca are not shown to brands)."""
    qs = Pago.objects.select_related("socio", "marca", "liberado_por")
    return acceso.filtrar(qs, acceso.q_pagos(alcance))


def pago_controles(*, pago: Pago) -> list[ControlCumplimiento]:
    """The latest result of each control evaluated on the Pago, in name order."""
    return list(ControlCumplimiento.objects.filter(pago_id=pago.id).order_by("control"))


def pagos_por_enviar(*, limite: int = 100) -> list[uuid.UUID]:
    """Ids of `pendiente` Pagos whose next attempt is due, oldest due first."""
    return list(
        Pago.objects.filter(estado=EstadoPago.PENDIENTE, proximo_intento_en__lte=timezone.now())
        .order_by("proximo_intento_en", "id")
        .values_list("id", flat=True)[:limite]
    )


def pago_items(*, pago: Pago) -> list[dict[str, Any]]:
    """The items a Pago pays: [{tipo: comision|recompensa|ajuste, id, monto}], stable order."""
    items: list[dict[str, Any]] = []
    for tipo, modelo in (("comision", Comision), ("recompensa", Recompensa), ("ajuste", Ajuste)):
        for item_id, monto in (
            modelo.objects.filter(pago_id=pago.id).order_by("id").values_list("id", "monto")  # type: ignore[attr-defined]
        ):
            items.append({"tipo": tipo, "id": item_id, "monto": monto})
    return items
