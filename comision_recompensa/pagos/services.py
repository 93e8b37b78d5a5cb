"""Payouts (PRODUCT.md §4): grouping approved money into Pagos, confirming and retrying them.

    approved Comisiones/Recompensas + unassigned Ajustes ──pagos_generar──► Pago `pendiente`
    Pago `pendiente` ──entrega_pagos (outbox)──► `enviado` ──signed callback──► `pagado`
                                       └── too many failed attempts ──► `fallido` (dead letter)
    `fallido` ──pago_reintentar (staff)──► `pendiente`

Each item lands in exactly one Pago: candidate rows are locked (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so a concurrent run skips them instead of waiting) and claimed with a conditional
`UPDATE … SET pago_id = … WHERE pago_id IS NULL` in the same transaction that inserts the Pago.
The Pago row is the outbox: `pago_generado` (sent after commit) makes `pagos.receivers` queue the
fast-path delivery, and the periodic sweep sends whatever the fast path missed.

A (socio, moneda) group whose total is zero or negative (e.g. a clawback larger than what the
partner earned since) does not produce a Pago: nothing is claimed, and its items are carried to a
later run, once new approved credits make the total positive.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from alpespartners.errors import Conflicto, ErrorDominio, NoEncontrado
from alpespartners.senales import enviar_al_confirmar
from comision_recompensa import signals
from comision_recompensa.models import (
    Ajuste,
    Comision,
    EstadoCredito,
    EstadoPago,
    Pago,
    Recompensa,
)

logger = logging.getLogger(__name__)

CERO = Decimal("0.00")
CENTIMO = Decimal("0.01")


class _GrupoNoPagable(Exception):
    """Internal: roll back a group whose claimed total is not positive."""


def _grupos_candidatos(socio_id: uuid.UUID | None) -> list[tuple[uuid.UUID, str]]:
    """(socio, moneda) pairs with something to pay or deduct, in a stable order."""
    grupos: set[tuple[uuid.UUID, str]] = set()
    for modelo in (Comision, Recompensa):
        qs = modelo.objects.filter(
            estado=EstadoCredito.APROBADA, pago__isnull=True, monto__gt=0
        ).exclude(moneda="")
        if socio_id is not None:
            qs = qs.filter(socio_id=socio_id)
        grupos.update(qs.values_list("socio_id", "moneda").distinct())
    ajustes = Ajuste.objects.filter(pago__isnull=True)
    if socio_id is not None:
        ajustes = ajustes.filter(socio_id=socio_id)
    grupos.update(ajustes.values_list("socio_id", "moneda").distinct())
    return sorted(grupos, key=lambda g: (str(g[0]), g[1]))


def _generar_grupo(socio_id: uuid.UUID, moneda: str) -> Pago | None:
    """Claim the group's free items into a new Pago (one transaction). None if nothing to pay."""
    try:
        with transaction.atomic():
            ids: dict[type[Any], list[uuid.UUID]] = {}
            for modelo in (Comision, Recompensa):
                ids[modelo] = list(
                    modelo.objects.select_for_update(skip_locked=True)
                    .filter(
                        socio_id=socio_id,
                        moneda=moneda,
                        estado=EstadoCredito.APROBADA,
                        pago__isnull=True,
                        monto__gt=0,
                    )
                    .values_list("id", flat=True)
                )
            ids[Ajuste] = list(
                Ajuste.objects.select_for_update(skip_locked=True)
                .filter(socio_id=socio_id, moneda=moneda, pago__isnull=True)
                .values_list("id", flat=True)
            )
            if not ids[Comision] and not ids[Recompensa]:
                # Only adjustments: nothing positive to pay them against; carried over.
                return None

            ahora = timezone.now()
            pago = Pago.objects.create(
                socio_id=socio_id,
                moneda=moneda,
                monto=CERO,
                estado=EstadoPago.PENDIENTE,
                proximo_intento_en=ahora,
            )
            total = CERO
            for modelo in (Comision, Recompensa):
                # The conditional UPDATE is the claim: a row another run took is not matched.
                modelo.objects.filter(
                    id__in=ids[modelo], pago__isnull=True, estado=EstadoCredito.APROBADA
                ).update(pago=pago, actualizado_en=ahora)
                total += modelo.objects.filter(pago=pago).aggregate(s=Sum("monto"))["s"] or CERO
            Ajuste.objects.filter(id__in=ids[Ajuste], pago__isnull=True).update(pago=pago)
            total += Ajuste.objects.filter(pago=pago).aggregate(s=Sum("monto"))["s"] or CERO
            if total <= 0:
                raise _GrupoNoPagable
            # Two places: SQLite sums decimals as floats ("24.9900000000000").
            pago.monto = total.quantize(CENTIMO)
            pago.save(update_fields=["monto", "actualizado_en"])
            # Receivers queue the fast-path delivery (pagos.receivers).
            enviar_al_confirmar(signals.pago_generado, sender=Pago, pago_id=pago.id)
            return pago
    except _GrupoNoPagable:
        logger.info(
            "Pago for socio %s (%s) not generated: total is not positive; carried over",
            socio_id,
            moneda,
        )
        return None


def pagos_generar(*, socio_id: uuid.UUID | None = None) -> list[Pago]:
    """Group approved, unpaid Comisiones/Recompensas (monto > 0) and unassigned Ajustes per
    (socio, moneda) into one new `pendiente` Pago each, and queue their delivery on commit.

    Safe to run concurrently: every item ends up in exactly one Pago. A group whose total is
    not positive is left untouched and carried to a later run. `socio_id` limits the run to one
    partner. Sends `pago_generado` (pago_id) after each Pago commits. Returns the new Pagos.
    """
    generados: list[Pago] = []
    for socio, moneda in _grupos_candidatos(socio_id):
        pago = _generar_grupo(socio, moneda)
        if pago is not None:
            generados.append(pago)
    return generados


@dataclass(frozen=True)
class ResultadoConfirmacion:
    """Outcome of a confirmation callback: the Pago and whether this call changed anything."""

    pago: Pago
    cambiado: bool


ESTADOS_CONFIRMACION = ("pagado", "fallido")


def pago_confirmar(
    *, pago_id: uuid.UUID, estado: str = "pagado", motivo: str = ""
) -> ResultadoConfirmacion:
    """Apply the payments component's confirmation of Pago `pago_id`.

    `estado="pagado"` marks the Pago `pagado` (confirmado_en) and its `aprobada` items `pagada`
    (pagado_en); items reversed meanwhile stay `revertida` (their clawback is an Ajuste).
    `estado="fallido"` (the component rejected the payout) moves an unpaid Pago to the dead
    letter for staff to look at. Idempotent: a replay, or anything after `pagado`, changes
    nothing (`cambiado=False`). Raises `NoEncontrado` for an unknown Pago and `ErrorDominio`
    (field `estado`) for an unknown state. Sends `comision_pagada` / `recompensa_pagada`
    (credito_id, pago_id) and `pago_confirmado` (pago_id) after commit.
    """
    if estado not in ESTADOS_CONFIRMACION:
        raise ErrorDominio(
            f"estado must be one of {', '.join(ESTADOS_CONFIRMACION)}.",
            campo="estado",
        )
    ahora = timezone.now()
    with transaction.atomic():
        pago = Pago.objects.select_for_update().filter(id=pago_id).first()
        if pago is None:
            raise NoEncontrado("Pago not found.", campo="pago_id", codigo="not_found")
        if pago.estado == EstadoPago.PAGADO:
            return ResultadoConfirmacion(pago=pago, cambiado=False)

        if estado == "fallido":
            if pago.estado == EstadoPago.FALLIDO:
                return ResultadoConfirmacion(pago=pago, cambiado=False)
            razon = (motivo or "").strip()[:200] or "no reason given"
            Pago.objects.filter(id=pago.id).exclude(estado=EstadoPago.PAGADO).update(
                estado=EstadoPago.FALLIDO,
                ultimo_error=f"rejected by the payments component: {razon}",
                actualizado_en=ahora,
            )
            pago.refresh_from_db()
            return ResultadoConfirmacion(pago=pago, cambiado=True)

        Pago.objects.filter(id=pago.id).exclude(estado=EstadoPago.PAGADO).update(
            estado=EstadoPago.PAGADO, confirmado_en=ahora, actualizado_en=ahora
        )
        for modelo, senal in (
            (Comision, signals.comision_pagada),
            (Recompensa, signals.recompensa_pagada),
        ):
            qs = modelo.objects.filter(pago_id=pago.id, estado=EstadoCredito.APROBADA)
            credito_ids = list(qs.values_list("id", flat=True))
            qs.filter(id__in=credito_ids).update(
                estado=EstadoCredito.PAGADA, pagado_en=ahora, actualizado_en=ahora
            )
            for credito_id in credito_ids:
                enviar_al_confirmar(senal, sender=modelo, credito_id=credito_id, pago_id=pago.id)
        enviar_al_confirmar(signals.pago_confirmado, sender=Pago, pago_id=pago.id)
        pago.refresh_from_db()
        return ResultadoConfirmacion(pago=pago, cambiado=True)


def pago_reintentar(*, pago: Pago) -> Pago:
    """Staff: put a dead-lettered (`fallido`) Pago back in the outbox with its attempt count
    reset, and queue its delivery. The last error stays on the row until the next attempt.
    Raises `Conflicto` if the Pago is not `fallido`. Returns the refreshed Pago."""
    ahora = timezone.now()
    with transaction.atomic():
        cambiadas = Pago.objects.filter(id=pago.id, estado=EstadoPago.FALLIDO).update(
            estado=EstadoPago.PENDIENTE,
            intentos=0,
            proximo_intento_en=ahora,
            actualizado_en=ahora,
        )
        if cambiadas != 1:
            actual = Pago.objects.filter(id=pago.id).values_list("estado", flat=True).first()
            raise Conflicto(
                f"Pago {pago.id} is {actual or 'missing'}; only a fallido Pago can be retried.",
                codigo="transicion_invalida",
                extra={"estado": actual},
            )
        enviar_al_confirmar(signals.pago_reintentado, sender=Pago, pago_id=pago.id)
    pago.refresh_from_db()
    return pago
