"""`detalle_atribucion`: why a credit pays what it pays (PRODUCT.md §3), in one versioned shape.

Every Comision and Recompensa keeps one `DetalleAtribucion`, built by `detalle_construir`:
the attribution engine (live and re-attribution, `motor.py`) and the seed's legacy endpoint
(`legacy/services.py`) both write through it, and the explanation (`explicacion.py`) reads
exactly these keys. The API shows it as `detalle_atribucion`. Every value is JSON-native and
the dict is deterministic, so re-attribution compares a stored detail with a recomputed one.

Version 1:

    version, metodo, modelo, ventana_dias,
    evento{id, tipo, ocurrido_en, valor, moneda, visitante_id},
    touchpoints[{evento_id, tipo, socio_id, publicacion_id, ocurrido_en, peso, credito,
                 propio}],
    credito (the partner's 0–1 share, 6 places), asociacion{…} | null, regla{…} | null,
    calculo{base, total_regla, tope_aplicado, total} (or the reason's partial form),
    monto, moneda, motivo, nota

(`credito` keeps its name here: it is a stored and published format. In the code the share is
`participacion`.)
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Protocol, TypedDict

VERSION = 1


class Metodo:
    """How the credited partners were found (the precedence step), `detalle.metodo`."""

    PUBLICACION = "publicacion"
    CODIGO_REFERIDO = "codigo_referido"
    CLICK_ID = "click_id"
    VISITANTE_ID = "visitante_id"
    MANUAL_LEGADO = "manual_legado"  # entered by hand through the seed's endpoint


class Motivo:
    """Why a credit pays what it pays, `detalle.motivo`."""

    PAGADO = "pagado"
    SIN_ASOCIACION = "sin_asociacion_vigente"
    SIN_REGLA = "sin_regla_para_tipo"
    LEAD_YA_PAGADO = "lead_ya_pagado"
    EVENTO_SIN_VALOR = "evento_sin_valor"
    MONEDA_DISTINTA = "moneda_distinta"
    MANUAL = "manual"


NOTAS = {
    Motivo.PAGADO: "Paid under the rule of the asociacion active when the event occurred.",
    Motivo.SIN_ASOCIACION: "Credited, but no asociacion between the brand and the partner was "
    "active when the event occurred: nothing is owed.",
    Motivo.SIN_REGLA: "Credited, but the active asociacion has no payment rule for this event "
    "type: nothing is owed.",
    Motivo.LEAD_YA_PAGADO: "Credited, but a lead of this visitor was already paid for this "
    "brand: a lead pays at most once per (marca, visitante_id).",
    Motivo.EVENTO_SIN_VALOR: "Credited, but the rule pays a percentage and the event has no "
    "valor: nothing is owed.",
    Motivo.MONEDA_DISTINTA: "Credited, but the rule's currency differs from the event's and "
    "no exchange rate is applied: nothing is owed.",
}


class EventoDetalle(TypedDict):
    id: str
    tipo: str
    ocurrido_en: str
    valor: str | None
    moneda: str
    visitante_id: str


class TouchpointDetalle(TypedDict):
    evento_id: str
    tipo: str
    socio_id: str | None
    publicacion_id: str | None
    ocurrido_en: str
    peso: str
    credito: str
    propio: bool


class AsociacionDetalle(TypedDict):
    id: str
    tipo: str
    vigencia_inicio: str
    vigencia_fin: str | None
    dias_retencion: int


class ReglaDetalle(TypedDict):
    id: str
    tipo_evento: str
    modalidad: str
    valor: str
    moneda: str
    tope: str | None


class CalculoDetalle(TypedDict, total=False):
    """The rule's arithmetic; empty without a rule, partial when the rule pays nothing."""

    base: str | None
    total_regla: str
    tope_aplicado: bool
    total: str
    moneda_evento: str


class DetalleAtribucion(TypedDict):
    version: int
    metodo: str
    modelo: str | None
    ventana_dias: int | None
    evento: EventoDetalle
    touchpoints: list[TouchpointDetalle]
    credito: str
    asociacion: AsociacionDetalle | None
    regla: ReglaDetalle | None
    calculo: CalculoDetalle
    monto: str
    moneda: str
    motivo: str
    nota: str


class _Asociacion(Protocol):
    @property
    def id(self) -> Any: ...

    @property
    def tipo(self) -> str: ...

    @property
    def vigencia_inicio(self) -> dt.date: ...

    @property
    def vigencia_fin(self) -> dt.date | None: ...

    @property
    def dias_retencion(self) -> int: ...


class _Regla(Protocol):
    @property
    def id(self) -> Any: ...

    @property
    def tipo_evento(self) -> str: ...

    @property
    def modalidad(self) -> str: ...

    @property
    def valor(self) -> Decimal: ...

    @property
    def moneda(self) -> str: ...

    @property
    def tope(self) -> Decimal | None: ...


class _Evento(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def tipo(self) -> str: ...

    @property
    def ocurrido_en(self) -> dt.datetime: ...

    @property
    def valor(self) -> Decimal | None: ...

    @property
    def moneda(self) -> str: ...

    @property
    def visitante_id(self) -> str: ...


def detalle_asociacion(asociacion: _Asociacion) -> AsociacionDetalle:
    """An agreement (a model row or the engine's snapshot) as the detail records it."""
    return {
        "id": str(asociacion.id),
        "tipo": asociacion.tipo,
        "vigencia_inicio": asociacion.vigencia_inicio.isoformat(),
        "vigencia_fin": asociacion.vigencia_fin.isoformat() if asociacion.vigencia_fin else None,
        "dias_retencion": asociacion.dias_retencion,
    }


def detalle_regla(regla: _Regla) -> ReglaDetalle:
    """A payment rule (a model row or the engine's snapshot) as the detail records it."""
    return {
        "id": str(regla.id),
        "tipo_evento": regla.tipo_evento,
        "modalidad": regla.modalidad,
        "valor": str(regla.valor),
        "moneda": regla.moneda,
        "tope": None if regla.tope is None else str(regla.tope),
    }


def detalle_evento(evento: _Evento) -> EventoDetalle:
    return {
        "id": str(evento.id),
        "tipo": evento.tipo,
        "ocurrido_en": evento.ocurrido_en.isoformat(),
        "valor": None if evento.valor is None else str(evento.valor),
        "moneda": evento.moneda,
        "visitante_id": evento.visitante_id,
    }


class BaseDetalle(TypedDict):
    """What every credit of one event shares (computed once per event)."""

    version: int
    metodo: str
    modelo: str | None
    ventana_dias: int | None
    evento: EventoDetalle


def detalle_base(
    *, metodo: str, modelo: str | None, ventana_dias: int | None, evento: EventoDetalle
) -> BaseDetalle:
    return {
        "version": VERSION,
        "metodo": metodo,
        "modelo": modelo,
        "ventana_dias": ventana_dias,
        "evento": evento,
    }


def detalle_construir(
    base: BaseDetalle,
    *,
    touchpoints: list[dict[str, Any]],
    socio_id: str,
    participacion: str,
    asociacion: AsociacionDetalle | None,
    regla: ReglaDetalle | None,
    calculo: CalculoDetalle,
    monto: str,
    moneda: str,
    motivo: str,
    nota: str | None = None,
) -> DetalleAtribucion:
    """One partner's detail. `touchpoints` are the event's touchpoints without `propio` (shared
    by its partners); each partner's copy marks its own. `nota` defaults to the motivo's."""
    return {
        **base,
        "touchpoints": [
            {**tp, "propio": tp["socio_id"] == socio_id}  # type: ignore[typeddict-item]
            for tp in touchpoints
        ],
        "credito": participacion,
        "asociacion": asociacion,
        "regla": regla,
        "calculo": calculo,
        "monto": monto,
        "moneda": moneda,
        "motivo": motivo,
        "nota": nota if nota is not None else NOTAS[motivo],
    }
