"""Running the compliance controls of a Pago and the transitions they drive (PRODUCT.md §9).

    pendiente ──a control fails──► retenido ──all pass again (periodic re-check)──► pendiente
                                      └──staff release with a reason (pagos.services)──► pendiente

The controls run when a Pago is generated, inside every delivery claim (so a hold that
arrived since generation stops it) and in the periodic re-check of held Pagos. Each run stores
the latest result of every control (ControlCumplimiento: control, paso, detalle, evaluado_en).
A released Pago is still evaluated (staff and the partner see what still fails) but never held
again.

Consistency: the evaluation locks the rows of the Pago's agreements (`FOR NO KEY UPDATE`, in id
order, after the Pago's own row), as publishing a contract version does; a check therefore sees
a version entirely before or entirely after its publication. A credit put under review after
the delivery claim committed does not stop that delivery (the window is the HTTP request; the
credit under review is not in the Pago: only approved credits are); the next Pago of that
partner and brand is held.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from alpespartners.errors import NoEncontrado
from alpespartners.senales import enviar_en_transaccion
from comision_recompensa import signals
from comision_recompensa.contratos.selectors import hoy
from comision_recompensa.models import (
    Ajuste,
    AsociacionEstrategica,
    Comision,
    ControlCumplimiento,
    EstadoPago,
    Pago,
    Recompensa,
)
from comision_recompensa.pagos.controles import CONTROLES, ContextoControl

MAX_DETALLE = 500


def _asociaciones_del_pago(pago_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
    """The agreements the Pago's items were earned under (its adjustments' credits too)."""
    ids: set[uuid.UUID] = set()
    for modelo in (Comision, Recompensa):
        ids.update(
            modelo.objects.filter(pago_id=pago_id, asociacion__isnull=False)
            .values_list("asociacion_id", flat=True)
            .distinct()
        )
    for campo in ("comision__asociacion_id", "recompensa__asociacion_id"):
        ids.update(
            i for i in Ajuste.objects.filter(pago_id=pago_id).values_list(campo, flat=True) if i
        )
    return tuple(sorted(ids, key=str))


def _bloquear_asociaciones(ids: tuple[uuid.UUID, ...]) -> None:
    """Serialise with `contrato_publicar` (same lock, taken in id order)."""
    if ids:
        list(
            AsociacionEstrategica.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def controles_evaluar(*, pago: Pago) -> list[str]:
    """Run every registered control on `pago` (locked by the caller, in its transaction) and
    store each result. Returns the names of the controls that failed, in registry order."""
    asociaciones = _asociaciones_del_pago(pago.id)
    _bloquear_asociaciones(asociaciones)
    contexto = ContextoControl(
        pago_id=pago.id,
        socio_id=pago.socio_id,
        marca_id=pago.marca_id,
        moneda=pago.moneda,
        asociacion_ids=asociaciones,
        hoy=hoy(),
    )
    ahora = timezone.now()
    filas = []
    for nombre, funcion in CONTROLES.items():
        resultado = funcion(contexto)
        filas.append(
            ControlCumplimiento(
                pago_id=pago.id,
                control=nombre,
                paso=resultado.paso,
                detalle=resultado.detalle[:MAX_DETALLE],
                evaluado_en=ahora,
            )
        )
    ControlCumplimiento.objects.bulk_create(
        filas,
        update_conflicts=True,
        unique_fields=["pago", "control"],
        update_fields=["paso", "detalle", "evaluado_en"],
    )
    return [f.control for f in filas if not f.paso]


def pago_controlar(*, pago: Pago, origen: str) -> list[str]:
    """Evaluate a `pendiente` or `retenido` Pago (locked by the caller) and move it:
    pendiente + a failure (not released) → `retenido` (`pago_retenido`); retenido + no failure
    → `pendiente`, due now (`pago_reanudado`). Other states are left alone (nothing is
    evaluated). Updates `pago.estado`. Returns the failed controls."""
    if pago.estado not in (EstadoPago.PENDIENTE, EstadoPago.RETENIDO):
        return []
    fallidos = controles_evaluar(pago=pago)
    ahora = timezone.now()
    if pago.estado == EstadoPago.PENDIENTE and fallidos and pago.liberado_en is None:
        Pago.objects.filter(id=pago.id, estado=EstadoPago.PENDIENTE).update(
            estado=EstadoPago.RETENIDO, actualizado_en=ahora
        )
        pago.estado = EstadoPago.RETENIDO
        enviar_en_transaccion(
            signals.pago_retenido,
            sender=Pago,
            pago_id=pago.id,
            controles_fallidos=fallidos,
            estado_anterior=EstadoPago.PENDIENTE.value,
            origen=origen,
        )
    elif pago.estado == EstadoPago.RETENIDO and not fallidos:
        Pago.objects.filter(id=pago.id, estado=EstadoPago.RETENIDO).update(
            estado=EstadoPago.PENDIENTE, proximo_intento_en=ahora, actualizado_en=ahora
        )
        pago.estado = EstadoPago.PENDIENTE
        enviar_en_transaccion(signals.pago_reanudado, sender=Pago, pago_id=pago.id, origen=origen)
    return fallidos


def pago_aplicar_controles(*, pago_id: uuid.UUID, origen: str) -> Pago:
    """Lock the Pago and run `pago_controlar` in one transaction. Raises `NoEncontrado`."""
    with transaction.atomic():
        pago = Pago.objects.select_for_update().filter(id=pago_id).first()
        if pago is None:
            raise NoEncontrado("Pago not found.", codigo="not_found")
        pago_controlar(pago=pago, origen=origen)
    return pago


@dataclass
class ConteoRevision:
    """What one re-check of held Pagos did."""

    revisados: int = 0
    reanudados: int = 0
    retenidos: int = 0

    def __str__(self) -> str:
        return (
            f"{self.revisados} held Pagos re-checked: {self.reanudados} back in the outbox, "
            f"{self.retenidos} still held"
        )


def pagos_revisar_retenidos(*, limite: int = 500, origen: str) -> ConteoRevision:
    """Re-check up to `limite` held Pagos (least recently changed first), each in its own
    transaction; a Pago another worker is handling is skipped. Those whose controls all pass
    go back to `pendiente` and are delivered (`pago_reanudado` queues the fast path)."""
    conteo = ConteoRevision()
    ids = list(
        Pago.objects.filter(estado=EstadoPago.RETENIDO)
        .order_by("actualizado_en", "id")
        .values_list("id", flat=True)[:limite]
    )
    for pago_id in ids:
        with transaction.atomic():
            pago = (
                Pago.objects.select_for_update(skip_locked=True)
                .filter(id=pago_id, estado=EstadoPago.RETENIDO)
                .first()
            )
            if pago is None:
                continue
            pago_controlar(pago=pago, origen=origen)
            Pago.objects.filter(id=pago.id, estado=EstadoPago.RETENIDO).update(
                actualizado_en=timezone.now()
            )
        conteo.revisados += 1
        if pago.estado == EstadoPago.PENDIENTE:
            conteo.reanudados += 1
        else:
            conteo.retenidos += 1
    return conteo
