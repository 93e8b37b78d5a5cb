"""Payouts (PRODUCT.md §4, §9): grouping approved money into Pagos per (socio, marca, moneda),
holding, releasing, confirming and retrying them.

    approved credits + free Ajustes ──pagos_generar──► `pendiente` ──a control fails──► `retenido`
    `retenido` ──controls pass (re-check) / staff release with a reason──► `pendiente`
    `pendiente` ──entrega (outbox, controls re-checked in the claim)──► `enviado`
    `enviado` ──signed callback──► `pagado`        (or `fallido`: rejected by the component)
    `pendiente` ──too many failed attempts──► `fallido` (dead letter)
    `fallido` ──pago_reintentar (staff)──► `pendiente`

Each group is one brand's programme: a hold on one brand's Pago never blocks another brand's
Pago of the same partner. A group whose total is under its minimum (`PAGO_MINIMO`, per
currency `PAGO_MINIMO_POR_MONEDA`) produces no Pago and claims nothing: the balance waits for a
later run (a clawback larger than what the partner earned since is carried the same way).

Each item lands in exactly one Pago: candidate rows are locked (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so a concurrent run skips them instead of waiting) and claimed with a conditional
`UPDATE … SET pago_id = … WHERE pago_id IS NULL` in the same transaction that inserts the Pago.
The Pago row is the outbox: `pago_generado` (sent inside that transaction) makes
`pagos.receivers` queue the fast-path delivery once it commits, and the periodic sweep sends
whatever the fast path missed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from alpespartners.dinero import DineroInvalido, dinero_parsear
from alpespartners.errors import Conflicto, ErrorDominio, NoEncontrado
from alpespartners.senales import enviar_en_transaccion
from comision_recompensa import signals
from comision_recompensa.models import (
    Ajuste,
    Comision,
    ControlCumplimiento,
    EstadoCredito,
    EstadoPago,
    Pago,
    Recompensa,
)
from comision_recompensa.pagos.cumplimiento import pago_controlar

logger = logging.getLogger(__name__)

CERO = Decimal("0.00")
CENTIMO = Decimal("0.01")
Grupo = tuple[uuid.UUID, uuid.UUID | None, str]  # (socio, marca, moneda)


class _GrupoNoPagable(Exception):
    """Internal: roll back a group whose claimed total fell under the minimum."""


def pago_minimo(moneda: str) -> Decimal:
    """The smallest Pago generated in `moneda` (settings PAGO_MINIMO, PAGO_MINIMO_POR_MONEDA)."""
    minimos: dict[str, Decimal] = settings.PAGO_MINIMO_POR_MONEDA
    return minimos.get(moneda, settings.PAGO_MINIMO)


def _creditos_libres(modelo: type[Any]) -> Any:
    return modelo.objects.filter(estado=EstadoCredito.APROBADA, pago__isnull=True, monto__gt=0)


def _ajustes_completar_marca() -> None:
    """Safety net: an unassigned Ajuste written without a brand by a code path that knows its
    credit takes the brand of that credit's event (so it is deducted from that brand's Pago)."""
    for campo, modelo in (("comision", Comision), ("recompensa", Recompensa)):
        marca = Subquery(
            modelo.objects.filter(pk=OuterRef(f"{campo}_id")).values("evento__marca_id")[:1]
        )
        Ajuste.objects.filter(
            pago__isnull=True, marca__isnull=True, **{f"{campo}__isnull": False}
        ).update(marca_id=marca)


def grupos_candidatos(*, socio_id: uuid.UUID | None = None) -> list[Grupo]:
    """(socio, marca, moneda) groups with something to pay or deduct, in a stable order."""
    grupos: set[Grupo] = set()
    for modelo in (Comision, Recompensa):
        qs = _creditos_libres(modelo).exclude(moneda="")
        if socio_id is not None:
            qs = qs.filter(socio_id=socio_id)
        grupos.update(qs.values_list("socio_id", "evento__marca_id", "moneda").distinct())
    ajustes = Ajuste.objects.filter(pago__isnull=True)
    if socio_id is not None:
        ajustes = ajustes.filter(socio_id=socio_id)
    grupos.update(ajustes.values_list("socio_id", "marca_id", "moneda").distinct())
    return sorted(grupos, key=lambda g: (str(g[0]), str(g[1] or ""), g[2]))


def _bloquear_grupo(grupo: Grupo) -> dict[type[Any], dict[uuid.UUID, Decimal]]:
    """Lock the group's free items (skipping rows another run holds): {model: {id: monto}}."""
    socio_id, marca_id, moneda = grupo
    filas: dict[type[Any], dict[uuid.UUID, Decimal]] = {}
    for modelo in (Comision, Recompensa):
        qs = _creditos_libres(modelo).filter(
            socio_id=socio_id, moneda=moneda, evento__marca_id=marca_id
        )
        filas[modelo] = dict(
            qs.select_for_update(skip_locked=True, of=("self",)).values_list("id", "monto")
        )
    filas[Ajuste] = dict(
        Ajuste.objects.select_for_update(skip_locked=True)
        .filter(socio_id=socio_id, moneda=moneda, pago__isnull=True)
        .filter(Q(marca_id=marca_id) if marca_id else Q(marca_id__isnull=True))
        .values_list("id", "monto")
    )
    return filas


def _reclamar(pago: Pago, filas: dict[type[Any], dict[uuid.UUID, Decimal]]) -> Decimal:
    """Claim the locked items into `pago` (conditional UPDATEs); the total actually claimed."""
    ahora = timezone.now()
    total = CERO
    for modelo, items in filas.items():
        qs = modelo.objects.filter(id__in=list(items), pago__isnull=True)
        if modelo is Ajuste:
            qs.update(pago=pago)
        else:
            qs.filter(estado=EstadoCredito.APROBADA).update(pago=pago, actualizado_en=ahora)
        total += sum(
            (m for m in modelo.objects.filter(pago=pago).values_list("monto", flat=True)), CERO
        )
    return total.quantize(CENTIMO)


def _generar_grupo(grupo: Grupo, origen: str) -> Pago | None:
    """One group's Pago (one transaction), or None when there is nothing to pay or the total is
    under the minimum (nothing claimed)."""
    socio_id, marca_id, moneda = grupo
    try:
        with transaction.atomic():
            filas = _bloquear_grupo(grupo)
            if not filas[Comision] and not filas[Recompensa]:
                return None  # only adjustments: nothing positive to pay them against
            minimo = pago_minimo(moneda)
            if sum((m for items in filas.values() for m in items.values()), CERO) < minimo:
                logger.info(
                    "Balance of %s/%s under %s %s: carried over", socio_id, marca_id, minimo, moneda
                )
                return None
            pago = Pago.objects.create(
                socio_id=socio_id, marca_id=marca_id, moneda=moneda, monto=CERO
            )
            pago.monto = _reclamar(pago, filas)
            if pago.monto < minimo:  # a concurrent run without row locks took some (SQLite)
                raise _GrupoNoPagable
            pago.save(update_fields=["monto", "actualizado_en"])
            enviar_en_transaccion(
                signals.pago_generado,
                sender=Pago,
                pago_id=pago.id,
                socio_id=socio_id,
                marca_id=marca_id,
                monto=pago.monto,
                moneda=moneda,
                origen=origen,
            )
            pago_controlar(pago=pago, origen=origen)
            return pago
    except _GrupoNoPagable:
        return None


def pagos_generar(
    *, socio_id: uuid.UUID | None = None, origen: str = "sistema:generar_pagos"
) -> list[Pago]:
    """Group approved, unpaid Comisiones/Recompensas (monto > 0) and unassigned Ajustes per
    (socio, marca of the event, moneda) into one new Pago each, run its compliance controls
    (a failure leaves it `retenido`), and queue the delivery of the others on commit.

    A group under its minimum is left untouched for a later run. Safe to run concurrently:
    every item ends up in exactly one Pago. `socio_id` limits the run to one partner. Sends
    `pago_generado` (and `pago_retenido` for a held one) inside each Pago's transaction.
    Returns the new Pagos.
    """
    _ajustes_completar_marca()
    generados: list[Pago] = []
    for grupo in grupos_candidatos(socio_id=socio_id):
        pago = _generar_grupo(grupo, origen)
        if pago is not None:
            generados.append(pago)
    return generados


def pago_liberar(*, pago_id: uuid.UUID, por: int | None, motivo: str, origen: str) -> Pago:
    """Staff: release a held Pago with a reason. It goes back to `pendiente` and is delivered
    even if a control still fails (that is the point); who, when and why are stored on it.
    Raises `ErrorDominio` (field `motivo`) without a reason, `NoEncontrado`, and `Conflicto`
    when the Pago is not `retenido`. Sends `pago_liberado` inside the transaction."""
    motivo = (motivo or "").strip()
    if not motivo:
        raise ErrorDominio("A reason is required to release a held Pago.", campo="motivo")
    if len(motivo) > 500:
        raise ErrorDominio("must be at most 500 characters.", campo="motivo")
    ahora = timezone.now()
    with transaction.atomic():
        pago = Pago.objects.select_for_update().filter(id=pago_id).first()
        if pago is None:
            raise NoEncontrado("Pago not found.", codigo="not_found")
        if pago.estado != EstadoPago.RETENIDO:
            raise Conflicto(
                f"Pago {pago.id} is {pago.estado}; only a retenido Pago can be released.",
                codigo="transicion_invalida",
                extra={"estado_actual": pago.estado},
            )
        fallidos = list(
            ControlCumplimiento.objects.filter(pago=pago, paso=False)
            .order_by("control")
            .values_list("control", flat=True)
        )
        Pago.objects.filter(id=pago.id).update(
            estado=EstadoPago.PENDIENTE,
            liberado_en=ahora,
            liberado_por_id=por,
            motivo_liberacion=motivo,
            proximo_intento_en=ahora,
            actualizado_en=ahora,
        )
        enviar_en_transaccion(
            signals.pago_liberado,
            sender=Pago,
            pago_id=pago.id,
            por=por,
            motivo=motivo,
            controles_fallidos=fallidos,
            origen=origen,
        )
    logger.info("Pago %s released by %s (%s): %s", pago_id, por, origen, motivo)
    pago.refresh_from_db()
    return pago


@dataclass(frozen=True)
class ResultadoConfirmacion:
    """Outcome of a confirmation callback: the Pago and whether this call changed anything."""

    pago: Pago
    cambiado: bool


ESTADOS_CONFIRMACION = ("pagado", "fallido")


def _validar_confirmacion(pago: Pago, monto: Any, moneda: Any) -> None:
    """The callback must name the Pago's exact amount and currency (400 malformed, 409 other)."""
    if monto is None:
        raise ErrorDominio("is required: the amount the component confirms.", campo="monto")
    try:
        valor = dinero_parsear(monto)
    except DineroInvalido as exc:
        raise ErrorDominio(str(exc), campo="monto") from None
    if not isinstance(moneda, str) or not moneda:
        raise ErrorDominio("is required: the currency the component confirms.", campo="moneda")
    if moneda != pago.moneda:
        raise Conflicto(
            f"moneda {moneda} does not match the Pago's ({pago.moneda}).",
            campo="moneda",
            codigo="moneda_distinta",
        )
    if valor != pago.monto:
        raise Conflicto(
            f"monto {valor} does not match the Pago's ({pago.monto}).",
            campo="monto",
            codigo="monto_distinto",
        )


def pago_confirmar(
    *, pago_id: uuid.UUID, estado: str, monto: Any, moneda: Any, motivo: str = ""
) -> ResultadoConfirmacion:
    """Apply the payments component's confirmation of Pago `pago_id` (PRODUCT.md §8).

    `monto` and `moneda` must equal the Pago's (`ErrorDominio` 400 when missing or malformed,
    `Conflicto` 409 naming the field when different). Only a delivered (`enviado`) Pago moves:
    `pagado` marks it and its `aprobada` items paid (items reversed meanwhile stay `revertida`;
    their clawback is an Ajuste); `fallido` (the component rejected it) dead-letters it for
    staff. A replay — the Pago already in the state asked for, or `pagado` — changes nothing
    (`cambiado=False`). Anything else (not delivered yet, held, dead-lettered) is a 409. Sends
    `comision_pagada` / `recompensa_pagada`, `pago_confirmado` or `pago_fallido` inside the
    transaction.
    """
    if estado not in ESTADOS_CONFIRMACION:
        raise ErrorDominio(f"must be one of {', '.join(ESTADOS_CONFIRMACION)}.", campo="estado")
    with transaction.atomic():
        pago = Pago.objects.select_for_update().filter(id=pago_id).first()
        if pago is None:
            raise NoEncontrado("Pago not found.", campo="pago_id", codigo="not_found")
        _validar_confirmacion(pago, monto, moneda)
        if pago.estado == EstadoPago.PAGADO or pago.estado == estado:
            return ResultadoConfirmacion(pago=pago, cambiado=False)
        if pago.estado != EstadoPago.ENVIADO:
            raise Conflicto(
                f"Pago {pago.id} is {pago.estado}: only a delivered (enviado) Pago can be "
                "confirmed.",
                campo="estado",
                codigo="pago_no_enviado",
                extra={"estado_actual": pago.estado},
            )
        if estado == "fallido":
            _rechazar(pago, motivo)
        else:
            _marcar_pagado(pago)
    pago.refresh_from_db()
    return ResultadoConfirmacion(pago=pago, cambiado=True)


def _rechazar(pago: Pago, motivo: str) -> None:
    razon = (motivo or "").strip()[:200] or "no reason given"
    error = f"rejected by the payments component: {razon}"
    Pago.objects.filter(id=pago.id, estado=EstadoPago.ENVIADO).update(
        estado=EstadoPago.FALLIDO, ultimo_error=error, actualizado_en=timezone.now()
    )
    enviar_en_transaccion(
        signals.pago_fallido, sender=Pago, pago_id=pago.id, error=error, origen="componente"
    )


def _marcar_pagado(pago: Pago) -> None:
    ahora = timezone.now()
    Pago.objects.filter(id=pago.id, estado=EstadoPago.ENVIADO).update(
        estado=EstadoPago.PAGADO, confirmado_en=ahora, actualizado_en=ahora
    )
    for modelo, senal in (
        (Comision, signals.comision_pagada),
        (Recompensa, signals.recompensa_pagada),
    ):
        qs = modelo.objects.filter(pago_id=pago.id, estado=EstadoCredito.APROBADA)
        credito_ids = list(qs.values_list("id", flat=True))
        modelo.objects.filter(id__in=credito_ids).update(
            estado=EstadoCredito.PAGADA, pagado_en=ahora, actualizado_en=ahora
        )
        for credito_id in credito_ids:
            enviar_en_transaccion(senal, sender=modelo, credito_id=credito_id, pago_id=pago.id)
    enviar_en_transaccion(
        signals.pago_confirmado, sender=Pago, pago_id=pago.id, monto=pago.monto, moneda=pago.moneda
    )


def pago_reintentar(*, pago: Pago, por: int | None = None, origen: str = "admin") -> Pago:
    """Staff: put a dead-lettered (`fallido`) Pago back in the outbox with its attempt count
    reset, and queue its delivery (its controls run again in the delivery claim). The last
    error stays on the row until the next attempt. Raises `Conflicto` if the Pago is not
    `fallido`. Sends `pago_reintentado` inside the transaction. Returns the refreshed Pago."""
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
                extra={"estado_actual": actual},
            )
        enviar_en_transaccion(
            signals.pago_reintentado, sender=Pago, pago_id=pago.id, por=por, origen=origen
        )
    pago.refresh_from_db()
    return pago
