"""Lifecycle of commissions and rewards (PRODUCT.md §4, payouts excluded).

    pendiente ──(hold period elapsed / staff)──► aprobada ──(payments confirm)──► pagada
        └──────────────┴─────────────────┴──(refund / staff)──► revertida

Every transition is a conditional UPDATE (`WHERE estado = <expected>`) that must change exactly
one row, so two concurrent requests can never both win. Illegal transitions raise `Conflicto`
(HTTP 409) with the reason. Domain signals (`comision_aprobada`, `recompensa_revertida`, …) are
sent with `enviar_al_confirmar`: once the transaction commits; a failing receiver is logged and
never undoes the change.

Comision and Recompensa share these functions: the model class of the credit picks the table and
the signals.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

from alpespartners.errors import Conflicto
from alpespartners.senales import enviar_al_confirmar
from comision_recompensa import signals
from comision_recompensa.models import (
    Ajuste,
    AsociacionEstrategica,
    CambioAtribucion,
    Comision,
    EstadoCredito,
    Recompensa,
)
from eventos_medios import almacen
from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento

logger = logging.getLogger(__name__)

CreditoModelo = Comision | Recompensa
MODELOS_CREDITO: tuple[type[Comision], type[Recompensa]] = (Comision, Recompensa)

# Hold period for credits that have no asociacion (nothing owed, amount 0): the model default.
DIAS_RETENCION_SIN_ASOCIACION = 30

_SENALES: dict[type[Any], dict[str, Signal]] = {
    Comision: {
        EstadoCredito.APROBADA: signals.comision_aprobada,
        EstadoCredito.REVERTIDA: signals.comision_revertida,
    },
    Recompensa: {
        EstadoCredito.APROBADA: signals.recompensa_aprobada,
        EstadoCredito.REVERTIDA: signals.recompensa_revertida,
    },
}

# Why a credit in a given state cannot be approved / reversed (the 409 reason).
_MOTIVO_NO_APROBABLE: dict[str, str] = {
    EstadoCredito.APROBADA: "is already approved",
    EstadoCredito.PAGADA: "is already paid",
    EstadoCredito.REVERTIDA: "was reversed and cannot be approved",
}
_MOTIVO_NO_REVERSIBLE: dict[str, str] = {
    EstadoCredito.REVERTIDA: "is already reversed",
}
ESTADOS_REVERSIBLES = (EstadoCredito.PENDIENTE, EstadoCredito.APROBADA, EstadoCredito.PAGADA)


@dataclass
class ResultadoLote:
    """Outcome of a transition applied to many credits: who changed and who was refused why."""

    cambiados: list[CreditoModelo] = field(default_factory=list)
    rechazados: list[tuple[CreditoModelo, str]] = field(default_factory=list)


def _nombre(credito: CreditoModelo) -> str:
    return "comisión" if isinstance(credito, Comision) else "recompensa"


def _describir(credito: CreditoModelo) -> str:
    return f"{_nombre(credito).capitalize()} {credito.pk}"


def _estado_actual(credito: CreditoModelo) -> str | None:
    modelo = type(credito)
    return modelo.objects.filter(pk=credito.pk).values_list("estado", flat=True).first()


def credito_aprobar(*, credito: CreditoModelo, por: Any = None) -> CreditoModelo:
    """Approve a `pendiente` Comision or Recompensa (staff, or the hold period elapsed).

    `por` is the approving user (logged), None for the periodic task. Raises `Conflicto` when
    the credit is already approved, paid or reversed. Sends `comision_aprobada` /
    `recompensa_aprobada` (credito_id) after commit. Returns the refreshed credit.
    """
    modelo = type(credito)
    ahora = timezone.now()
    with transaction.atomic():
        cambiadas = modelo.objects.filter(pk=credito.pk, estado=EstadoCredito.PENDIENTE).update(
            estado=EstadoCredito.APROBADA, aprobado_en=ahora, actualizado_en=ahora
        )
        if cambiadas != 1:
            actual = _estado_actual(credito)
            motivo = _MOTIVO_NO_APROBABLE.get(actual or "", "does not exist")
            raise Conflicto(
                f"{_describir(credito)} {motivo}.",
                codigo="transicion_invalida",
                extra={"estado_actual": actual},
            )
        enviar_al_confirmar(
            _SENALES[modelo][EstadoCredito.APROBADA], sender=modelo, credito_id=credito.pk
        )
    logger.info("%s approved by %s", _describir(credito), getattr(por, "pk", None) or "the system")
    credito.refresh_from_db()
    return credito


@dataclass(frozen=True)
class _Reversible:
    """The locked row of a credit about to be reversed."""

    estado: str
    monto: Decimal
    moneda: str
    pago_id: uuid.UUID | None
    socio_id: uuid.UUID
    evento_id: uuid.UUID

    @property
    def comprometido(self) -> bool:
        """Its money is already in a payout (paid, or claimed by a Pago)."""
        return self.estado == EstadoCredito.PAGADA or self.pago_id is not None


def _bloquear_reversible(credito: CreditoModelo) -> _Reversible:
    """Lock the row, so that the state the clawback is based on is the state that changes;
    `Conflicto` unless it can be reversed."""
    actual = (
        type(credito)
        .objects.select_for_update()
        .filter(pk=credito.pk)
        .values_list("estado", "monto", "moneda", "pago_id", "socio_id", "evento_id")
        .first()
    )
    if actual is None or actual[0] not in ESTADOS_REVERSIBLES:
        estado = actual[0] if actual else None
        razon = _MOTIVO_NO_REVERSIBLE.get(estado or "", "does not exist")
        raise Conflicto(
            f"{_describir(credito)} {razon}.",
            codigo="transicion_invalida",
            extra={"estado_actual": estado},
        )
    return _Reversible(*actual)


def _clawback(credito: CreditoModelo, fila: _Reversible, motivo: str) -> Ajuste | None:
    """Money already committed to a payout comes back through the partner's next Pago."""
    if not (fila.comprometido and fila.monto > 0):
        return None
    return Ajuste.objects.create(
        socio_id=fila.socio_id,
        marca_id=Evento.objects.filter(pk=fila.evento_id).values_list("marca_id", flat=True)[0],
        monto=-fila.monto,
        moneda=fila.moneda,
        motivo=f"Clawback of {_nombre(credito)} {credito.pk}: {motivo}"[:300],
        comision=credito if isinstance(credito, Comision) else None,
        recompensa=credito if isinstance(credito, Recompensa) else None,
    )


def credito_revertir(*, credito: CreditoModelo, motivo: str, por: Any = None) -> CreditoModelo:
    """Reverse a Comision or Recompensa (refund, fraud, staff decision).

    Legal from `pendiente`, `aprobada` and `pagada`. Money already committed to a payout (the
    credit is `pagada`, or it is already claimed by a Pago) is recovered with a negative Ajuste
    (clawback) that the partner's next Pago deducts. The reversal is recorded in the audit trail
    (CambioAtribucion, accion `revertida`). Raises `Conflicto` when the credit is already
    reversed. Sends `comision_revertida` / `recompensa_revertida` (credito_id, motivo) after
    commit. Returns the refreshed credit.
    """
    motivo = (motivo or "").strip()[:300] or "Reversed."
    modelo = type(credito)
    ahora = timezone.now()
    with transaction.atomic():
        fila = _bloquear_reversible(credito)
        cambiadas = modelo.objects.filter(pk=credito.pk, estado=fila.estado).update(
            estado=EstadoCredito.REVERTIDA,
            motivo_reversion=motivo,
            revertido_en=ahora,
            actualizado_en=ahora,
        )
        if cambiadas != 1:  # pragma: no cover - the row is locked; defensive
            raise Conflicto(
                f"{_describir(credito)} changed concurrently; retry.",
                codigo="transicion_invalida",
            )
        ajuste = _clawback(credito, fila, motivo)
        CambioAtribucion.objects.create(
            evento_id=fila.evento_id,
            socio_id=fila.socio_id,
            accion=CambioAtribucion.Accion.REVERTIDA,
            monto_anterior=fila.monto,
            monto_nuevo=Decimal("0.00"),
            moneda=fila.moneda,
            detalle={
                "tipo_credito": _nombre(credito),
                "credito_id": str(credito.pk),
                "estado_anterior": fila.estado,
                "motivo": motivo,
                "ajuste_id": str(ajuste.pk) if ajuste else None,
                "por": str(getattr(por, "pk", "")) or None,
            },
        )
        senal = _SENALES[modelo][EstadoCredito.REVERTIDA]
        enviar_al_confirmar(senal, sender=modelo, credito_id=credito.pk, motivo=motivo)
    logger.info("%s reversed (%s) by %s", _describir(credito), motivo, getattr(por, "pk", None))
    credito.refresh_from_db()
    return credito


def _en_lote(creditos: Iterable[CreditoModelo], accion: Any, **kwargs: Any) -> ResultadoLote:
    resultado = ResultadoLote()
    for credito in creditos:
        try:
            resultado.cambiados.append(accion(credito=credito, **kwargs))
        except Conflicto as exc:
            resultado.rechazados.append((credito, exc.mensaje))
    return resultado


def creditos_aprobar(*, creditos: Iterable[CreditoModelo], por: Any = None) -> ResultadoLote:
    """Approve many credits (the admin action). Each is its own transition: one refusal does not
    stop the others. Returns which changed and which were refused, with the reason."""
    return _en_lote(creditos, credito_aprobar, por=por)


def creditos_revertir(
    *, creditos: Iterable[CreditoModelo], motivo: str, por: Any = None
) -> ResultadoLote:
    """Reverse many credits (the admin action), each independently; see `credito_revertir`."""
    return _en_lote(creditos, credito_revertir, motivo=motivo, por=por)


def creditos_de_evento(*, evento: Evento) -> list[CreditoModelo]:
    """Every Comision and Recompensa (any state) of one event."""
    creditos: list[CreditoModelo] = []
    for modelo in MODELOS_CREDITO:
        creditos.extend(modelo.objects.filter(evento=evento).order_by("creado_en", "id"))
    return creditos


def evento_reembolsar(*, evento: Evento, motivo: str = "", por: Any = None) -> list[CreditoModelo]:
    """A venta was refunded: reverse everything it earned (PRODUCT.md §4), all or nothing.

    Paid credits get a clawback Ajuste (see `credito_revertir`). Raises `Conflicto` when the
    event is not a venta, is still waiting for attribution (refunding now could be overtaken by
    credits created afterwards: retry once attributed), or was already refunded (it has credits
    and all are reversed). An event that earned nothing returns an empty list. Returns the
    reversed credits.
    """
    if evento.tipo != TipoEvento.VENTA:
        raise Conflicto(
            f"Only a venta can be refunded; this event is a {evento.tipo}.",
            codigo="evento_no_reembolsable",
        )
    motivo = (motivo or "").strip() or f"Refund of venta {evento.pk}"
    with transaction.atomic():
        estado_atribucion = almacen.evento_bloquear(evento_id=evento.pk)
        if estado_atribucion == EstadoAtribucion.PENDIENTE:
            raise Conflicto(
                "This venta has not been attributed yet; retry the refund in a moment.",
                codigo="atribucion_pendiente",
            )
        creditos = creditos_de_evento(evento=evento)
        vivos = [c for c in creditos if c.estado != EstadoCredito.REVERTIDA]
        if creditos and not vivos:
            raise Conflicto("This venta was already refunded.", codigo="ya_reembolsado")
        return [credito_revertir(credito=c, motivo=motivo, por=por) for c in vivos]


def _ids_vencidos(modelo: type[CreditoModelo], *, ahora: dt.datetime, lote: int) -> list[uuid.UUID]:
    """Ids of up to `lote` pending credits whose hold period has elapsed, locked for update
    (skipping rows another worker holds). The hold counts from the event's `ocurrido_en`."""
    pendientes: QuerySet[Any] = modelo.objects.filter(estado=EstadoCredito.PENDIENTE)
    dias_vigentes = set(
        AsociacionEstrategica.objects.values_list("dias_retencion", flat=True).distinct()
    )
    ids: list[uuid.UUID] = []
    grupos: list[tuple[int, dict[str, Any]]] = [
        (dias, {"asociacion__dias_retencion": dias}) for dias in sorted(dias_vigentes)
    ]
    grupos.append((DIAS_RETENCION_SIN_ASOCIACION, {"asociacion__isnull": True}))
    for dias, filtro in grupos:
        if len(ids) >= lote:
            break
        limite = ahora - dt.timedelta(days=dias)
        ids.extend(
            pendientes.filter(evento__ocurrido_en__lte=limite, **filtro)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by()
            .values_list("id", flat=True)[: lote - len(ids)]
        )
    return ids


def creditos_aprobar_vencidos(*, ahora: dt.datetime | None = None, lote: int = 500) -> int:
    """Approve every `pendiente` credit whose asociacion's `dias_retencion` has elapsed since the
    event occurred (`Evento.ocurrido_en`: the refund window starts with the sale, as in Impact's
    locking period). Credits without an asociacion (nothing owed) use the default 30 days.

    Works in bounded batches, each its own transaction with rows claimed by
    `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent runs never approve a credit twice; each
    approval sends its `*_aprobada` signal after commit. Returns how many were approved.
    """
    ahora = ahora or timezone.now()
    total = 0
    for modelo in MODELOS_CREDITO:
        while True:
            with transaction.atomic():
                ids = _ids_vencidos(modelo, ahora=ahora, lote=lote)
                if not ids:
                    break
                momento = timezone.now()
                cambiadas = modelo.objects.filter(
                    pk__in=ids, estado=EstadoCredito.PENDIENTE
                ).update(estado=EstadoCredito.APROBADA, aprobado_en=momento, actualizado_en=momento)
                if cambiadas != len(ids):
                    # Only without row locks (SQLite): another run won some; signal ours only.
                    ids = list(
                        modelo.objects.filter(pk__in=ids, aprobado_en=momento).values_list(
                            "id", flat=True
                        )
                    )
                senal = _SENALES[modelo][EstadoCredito.APROBADA]
                for credito_id in ids:
                    enviar_al_confirmar(senal, sender=modelo, credito_id=credito_id)
            total += cambiadas
            if cambiadas < lote:
                break
    if total:
        logger.info("Approved %d credits whose hold period elapsed", total)
    return total
