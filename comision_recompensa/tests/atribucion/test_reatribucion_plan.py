"""Re-attribution's pure step: old credits versus new credits → a plan (no database: these
tests are not marked `django_db`, so any query would fail them)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal as D
from typing import Any

from comision_recompensa.atribucion.contexto import EventoAtribuible
from comision_recompensa.atribucion.motor import CreditoCalculado, ResultadoAtribucion
from comision_recompensa.atribucion.reatribucion_plan import (
    CreditoActual,
    PlanReatribucion,
    plan_evento,
)
from comision_recompensa.models import Comision, EstadoCredito
from eventos_medios.models import EstadoAtribucion, TipoEvento

AHORA = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
A, B = uuid.uuid4(), uuid.uuid4()


def _evento(socio: uuid.UUID | None = A) -> EventoAtribuible:
    return EventoAtribuible(
        id=uuid.uuid4(),
        tipo=TipoEvento.VENTA,
        ocurrido_en=AHORA,
        marca_id=uuid.uuid4(),
        publicacion_id=None,
        socio_id=socio,
        click_id=None,
        visitante_id="v1",
        codigo_referido="",
        valor=D("100.00"),
        moneda="EUR",
        estado_atribucion=EstadoAtribucion.ATRIBUIDO,
    )


def _nuevo(socio: uuid.UUID, parte: str, monto: str) -> CreditoCalculado:
    detalle: Any = {"credito": parte, "monto": monto}
    return CreditoCalculado(
        socio_id=socio,
        es_recompensa=False,
        participacion=D(parte),
        monto=D(monto),
        moneda="EUR",
        asociacion_id=None,
        regla_id=None,
        motivo="pagado",
        detalle=detalle,
    )


def _viejo(
    ev: EventoAtribuible, socio: uuid.UUID, parte: str, monto: str, estado: str
) -> CreditoActual:
    return CreditoActual(
        modelo=Comision,
        id=uuid.uuid4(),
        evento_id=ev.id,
        socio_id=socio,
        participacion=D(parte),
        monto=D(monto),
        moneda="EUR",
        asociacion_id=None,
        regla_id=None,
        estado=estado,
        pago_id=None,
        detalle_atribucion={"credito": parte, "monto": monto},
    )


def _resultado(ev: EventoAtribuible, *creditos: CreditoCalculado) -> ResultadoAtribucion:
    return ResultadoAtribucion(
        evento_id=ev.id,
        metodo="visitante_id",
        socios=tuple(c.socio_id for c in creditos),
        creditos=tuple(creditos),
    )


def _plan(ev, resultado, viejos, *, solo_socio=None, ajustes=None) -> PlanReatribucion:
    plan = PlanReatribucion(ahora=AHORA, ejecucion_id=None)
    plan_evento(
        plan,
        ev,
        resultado,
        {v.socio_id: v for v in viejos},
        ajustes_previos=ajustes if ajustes is not None else {},
        solo_socio=solo_socio,
    )
    return plan


def test_sin_cambios_no_hay_plan():
    ev = _evento()
    plan = _plan(
        ev, _resultado(ev, _nuevo(A, "1", "10.00")), [_viejo(ev, A, "1", "10.00", "pendiente")]
    )
    assert plan.balance.cambios == 0 and not plan.tocados and not plan.estados


def test_de_un_socio_a_un_reparto_cambia_crea_y_suelta_el_socio_del_evento():
    ev = _evento()
    viejo = _viejo(ev, A, "1", "10.00", EstadoCredito.APROBADA)
    plan = _plan(ev, _resultado(ev, _nuevo(A, "0.5", "5.00"), _nuevo(B, "0.5", "5.00")), [viejo])
    (actualizada,) = plan.actualizar[Comision]
    assert actualizada["id"] == viejo.id and actualizada["monto"] == D("5.00")
    (creada,) = plan.crear[Comision]
    assert creada["socio_id"] == B and creada["participacion"] == D("0.5")
    assert [c["accion"] for c in plan.cambios] == ["cambiada", "creada"]
    assert plan.cambios[0]["detalle"]["detalle_anterior"] == viejo.detalle_atribucion
    assert plan.estados == [(ev.id, EstadoAtribucion.ATRIBUIDO, None, "")]  # a split: no socio
    assert plan.tocados == [ev.id]
    assert plan.balance.por_socio[str(B)]["delta"] == {"EUR": "5.00"}


def test_lo_pagado_no_se_toca_se_ajusta_contando_ajustes_previos():
    ev = _evento()
    pagado = _viejo(ev, A, "1", "10.00", EstadoCredito.PAGADA)
    ajustes = {pagado.id: D("-2.00")}
    plan = _plan(ev, _resultado(ev, _nuevo(A, "0.5", "5.00")), [pagado], ajustes=ajustes)
    assert not plan.actualizar and not plan.revertir
    (ajuste,) = plan.ajustes
    assert ajuste["monto"] == D("-3.00") and ajuste["comision_id"] == pagado.id
    assert ajustes[pagado.id] == D("-5.00")  # updated for the next event of the chunk


def test_quien_pierde_el_credito_se_revierte_y_el_evento_queda_sin_atribucion():
    ev = _evento()
    viejo = _viejo(ev, A, "1", "10.00", EstadoCredito.PENDIENTE)
    plan = _plan(ev, _resultado(ev), [viejo])
    assert plan.revertir[Comision] == [viejo.id]
    assert plan.estados == [(ev.id, EstadoAtribucion.SIN_ATRIBUCION, None, "")]


def test_con_un_solo_socio_no_se_toca_el_evento_ni_los_demas():
    ev = _evento()
    viejos = [_viejo(ev, A, "1", "10.00", EstadoCredito.PENDIENTE)]
    nuevo = _resultado(ev, _nuevo(A, "0.5", "5.00"), _nuevo(B, "0.5", "5.00"))
    plan = _plan(ev, nuevo, viejos, solo_socio=B)
    assert not plan.actualizar and [f["socio_id"] for f in plan.crear[Comision]] == [B]
    assert not plan.estados
