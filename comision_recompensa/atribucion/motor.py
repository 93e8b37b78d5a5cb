"""The attribution engine (PRODUCT.md §3): who gets credit for an event and what it pays.

`calcular_atribucion(evento, contexto=…)` is a pure computation over a `ContextoAtribucion`
(loaded set-based by `contexto.contexto_cargar`): it returns one `CreditoCalculado` per
credited partner, with its share, its amount and its `detalle_atribucion`. It writes nothing:
the live service (`services.py`) and re-attribution (`reatribucion.py`) store its results.

Precedence: (1) the event names a publicacion or codigo_referido → that partner, 100 %;
(2) it carries a click_id → the partner of that click, 100 %; (3) it carries a visitante_id →
the visitor's `click`/`interaccion` touchpoints of the same marca inside the marca's window
(``ocurrido_en - ventana ≤ t ≤ ocurrido_en``), never `descartado` ones, split by the marca's
model; (4) otherwise `sin_atribucion`. A step that yields no partner falls through to the next.

Deactivation (PRODUCT.md §8): an event of an inactive marca credits nobody
(`sin_atribucion`, motivo `marca_inactiva`); an inactive partner earns nothing new — a step
that names only inactive partners falls through to the next, and its touchpoints are left
out so the split is made over the others. When that leaves nobody, the event is
`sin_atribucion` with motivo `socio_inactivo`.

Money decisions (docs/ARCHITECTURE.md):

- `tope` caps what the event pays under the rule *before* it is split between partners, so
  the parts always add up to the (capped) total and a cap is never exceeded by the sum.
- `porcentaje` is a share of the event's valor in the event's moneda; a rule in another
  currency (no exchange rates) or an event without valor pays 0, with the reason recorded.
- Each partner is paid under its own asociacion's rule: its amount is its cent-exact share of
  that rule's total (largest remainder over the whole share vector), so partners with equal
  terms add up exactly to the rule's total.
- Touchpoint events (`click`, `interaccion`) only produce a credit when an active asociacion
  has a rule for that event type (pay-per-click); otherwise they are just marked `atribuido`
  to their partner, without a zero-amount row per click.
- A `lead` pays at most once per (marca, visitante_id): a later lead of the same visitor is
  still credited (for the record) with monto 0 and motivo `lead_ya_pagado`.

The result names the partner `Evento.socio` takes (`ResultadoAtribucion.socio_evento`): the one
credited partner, or nobody for a split (see the `Evento` model).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from comision_recompensa.atribucion import modelos as ma
from comision_recompensa.atribucion.contexto import (
    ClaveVisitante,
    ContextoAtribucion,
    EventoAtribuible,
    Politica,
    ReglaInfo,
    candidatos_directos,
    contexto_cargar,
    fecha_local,
    socio_directo,
)
from comision_recompensa.atribucion.detalle import (
    BaseDetalle,
    CalculoDetalle,
    DetalleAtribucion,
    Metodo,
    Motivo,
    detalle_base,
    detalle_construir,
    detalle_evento,
)
from comision_recompensa.models import (
    TIPOS_SOCIO_RECOMPENSA,
    Comision,
    EstadoCredito,
    Modalidad,
    Recompensa,
)
from eventos_medios.models import (
    TIPOS_CONVERSION,
    TIPOS_TOUCHPOINT,
    EstadoAtribucion,
    Evento,
    MotivoAtribucion,
    TipoEvento,
)

CERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class CreditoCalculado:
    """One partner's credit for one event: what a Comision/Recompensa row will hold."""

    socio_id: uuid.UUID
    es_recompensa: bool
    participacion: Decimal
    monto: Decimal
    moneda: str
    asociacion_id: uuid.UUID | None
    regla_id: uuid.UUID | None
    motivo: str
    detalle: DetalleAtribucion

    @property
    def clase(self) -> type[Comision] | type[Recompensa]:
        return Recompensa if self.es_recompensa else Comision


@dataclass(frozen=True, slots=True)
class ResultadoAtribucion:
    """The outcome for one event: the method used and one credit per credited partner.
    `motivo` says why nobody is credited when a rule decided it (`MotivoAtribucion`)."""

    evento_id: uuid.UUID
    metodo: str | None
    socios: tuple[uuid.UUID, ...]
    creditos: tuple[CreditoCalculado, ...]
    motivo: str = ""

    @property
    def estado(self) -> str:
        return EstadoAtribucion.ATRIBUIDO if self.socios else EstadoAtribucion.SIN_ATRIBUCION

    @property
    def socio_evento(self) -> uuid.UUID | None:
        """The partner `Evento.socio` names: the one credited partner, or None (nobody, or a
        split between several partners)."""
        return self.socios[0] if len(self.socios) == 1 else None


def touchpoints_en_ventana(
    evento: EventoAtribuible, ctx: ContextoAtribucion
) -> list[ma.Touchpoint]:
    """The visitor's valid touchpoints for this event: same marca, inside the window (those of
    inactive partners included: `ctx.activos` leaves them out)."""
    if not (evento.visitante_id and evento.marca_id):
        return []
    desde = evento.ocurrido_en - dt.timedelta(days=ctx.politica(evento.marca_id).ventana_dias)
    return [
        t
        for t in ctx.touchpoints.get((evento.marca_id, evento.visitante_id), ())
        if desde <= t.ocurrido_en <= evento.ocurrido_en and t.evento_id != evento.id
    ]


def _total_regla(
    regla: ReglaInfo, evento: EventoAtribuible
) -> tuple[Decimal, str, str, CalculoDetalle]:
    """What the event pays under `regla` before the split: (total, moneda, motivo, calculo)."""
    if regla.modalidad == Modalidad.FIJO:
        base = None
        bruto = regla.valor
    else:
        if evento.valor is None:
            return CERO, regla.moneda, Motivo.EVENTO_SIN_VALOR, {"base": None}
        if evento.moneda != regla.moneda:
            calculo: CalculoDetalle = {"base": str(evento.valor), "moneda_evento": evento.moneda}
            return CERO, regla.moneda, Motivo.MONEDA_DISTINTA, calculo
        base = evento.valor
        bruto = (evento.valor * regla.valor / 100).quantize(ma.CENTIMO, rounding=ROUND_HALF_UP)
    total = bruto
    tope_aplicado = regla.tope is not None and bruto > regla.tope
    if tope_aplicado:
        assert regla.tope is not None
        total = regla.tope
    calculo = {
        "base": None if base is None else str(base),
        "total_regla": str(bruto.quantize(ma.CENTIMO)),
        "tope_aplicado": tope_aplicado,
        "total": str(total.quantize(ma.CENTIMO)),
    }
    return total.quantize(ma.CENTIMO), regla.moneda, Motivo.PAGADO, calculo


def _total_con_memo(
    ctx: ContextoAtribucion, regla: ReglaInfo, evento: EventoAtribuible
) -> tuple[Decimal, str, str, CalculoDetalle]:
    """`_total_regla`, memoised per `fijo` rule (its total reads nothing of the event)."""
    if regla.modalidad != Modalidad.FIJO:
        return _total_regla(regla, evento)
    try:
        return ctx.totales_fijos[regla.id]  # type: ignore[no-any-return]
    except KeyError:
        resultado = ctx.totales_fijos[regla.id] = _total_regla(regla, evento)
        return resultado


# --- Who is credited, with which share ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Reparto:
    """The credited partners of one event, in order of first touchpoint, and their shares."""

    metodo: str
    pesos: list[ma.PesoTouchpoint]
    socios: list[uuid.UUID]
    participaciones: list[Decimal]


def _reparto(ev: EventoAtribuible, ctx: ContextoAtribucion, politica: Politica) -> _Reparto | None:
    """Precedence and model: who shares the event and how much each. None: nobody."""
    _, metodo, tp_directo = socio_directo(ev, ctx)
    if tp_directo is not None:
        touchpoints = [tp_directo]
    elif ev.tipo in TIPOS_CONVERSION:
        touchpoints = ctx.activos(touchpoints_en_ventana(ev, ctx))
        metodo = Metodo.VISITANTE_ID
    else:
        touchpoints = []
    if not touchpoints or metodo is None:
        return None
    pesos = ma.pesos_touchpoints(politica.modelo, touchpoints, referencia=ev.ocurrido_en)
    por_socio = ma.participaciones_por_socio(pesos)
    socios: list[uuid.UUID] = list(por_socio)  # type: ignore[arg-type]
    return _Reparto(metodo, pesos, socios, [por_socio[s] for s in socios])


# --- What each one is owed ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Pago:
    """What one credited partner is owed before its cent-exact share of the total."""

    total: Decimal
    moneda: str
    motivo: str
    calculo: CalculoDetalle


def _pago(
    ev: EventoAtribuible,
    asociacion_activa: bool,
    regla: ReglaInfo | None,
    ctx: ContextoAtribucion,
    lead_ya_pagado: bool,
) -> _Pago:
    if not asociacion_activa:
        return _Pago(CERO, ev.moneda, Motivo.SIN_ASOCIACION, {})
    if regla is None:
        return _Pago(CERO, ev.moneda, Motivo.SIN_REGLA, {})
    total, moneda, motivo, calculo = _total_con_memo(ctx, regla, ev)
    if lead_ya_pagado and total > 0:
        return _Pago(CERO, moneda, Motivo.LEAD_YA_PAGADO, calculo)
    return _Pago(total, moneda, motivo, calculo)


def _touchpoints_detalle(
    pesos: list[ma.PesoTouchpoint], ctx: ContextoAtribucion
) -> list[dict[str, Any]]:
    """The event's touchpoints as its credits' details show them (rendered once per event;
    each partner's copy only adds whether the touchpoint is its own)."""
    texto, formato = ctx.texto, ctx.formato
    return [
        {
            "evento_id": str(p.touchpoint.evento_id),
            "tipo": p.touchpoint.tipo,
            "socio_id": texto(p.touchpoint.socio_id),
            "publicacion_id": texto(p.touchpoint.publicacion_id),
            "ocurrido_en": p.touchpoint.ocurrido_en.isoformat(),
            "peso": formato(p.peso),
            "credito": formato(p.participacion),
        }
        for p in pesos
    ]


def _clave_lead(ev: EventoAtribuible) -> ClaveVisitante | None:
    """The (marca, visitante) key of a lead (None for other events)."""
    if ev.tipo == TipoEvento.LEAD and ev.visitante_id and ev.marca_id:
        return (ev.marca_id, ev.visitante_id)
    return None


def calcular_atribucion(
    evento: Evento | EventoAtribuible | dict[str, Any],
    *,
    contexto: ContextoAtribucion | None = None,
    modelo: str | None = None,
) -> ResultadoAtribucion:
    """Who gets credit for `evento` and what each credited partner is owed.

    Without `contexto` the data is loaded for this one event (a few queries); batch callers
    pass a context loaded once with `contexto_cargar`. `modelo` overrides the marca's model
    (only used when the context is loaded here). Writes nothing.
    """
    ev = EventoAtribuible.de(evento)
    ctx = contexto if contexto is not None else contexto_cargar(eventos=[ev], modelo=modelo)
    politica = ctx.politica(ev.marca_id)
    if ev.marca_id is not None and ev.marca_id in ctx.marcas_inactivas:
        return ResultadoAtribucion(
            evento_id=ev.id,
            metodo=None,
            socios=(),
            creditos=(),
            motivo=MotivoAtribucion.MARCA_INACTIVA.value,
        )
    reparto = _reparto(ev, ctx, politica)
    if reparto is None:
        motivo = MotivoAtribucion.SOCIO_INACTIVO.value if _salto_inactivos(ev, ctx) else ""
        return ResultadoAtribucion(
            evento_id=ev.id, metodo=None, socios=(), creditos=(), motivo=motivo
        )
    clave_lead = _clave_lead(ev)
    pagado = clave_lead is not None and bool(ctx.leads_pagados.get(clave_lead, set()) - {ev.id})
    base = detalle_base(
        metodo=reparto.metodo,
        modelo=politica.modelo,
        ventana_dias=politica.ventana_dias,
        evento=detalle_evento(ev),
    )
    creditos = _creditos(ev, ctx, reparto, base, lead_ya_pagado=pagado)
    if clave_lead is not None and any(c.monto > 0 for c in creditos):
        ctx.leads_pagados.setdefault(clave_lead, set()).add(ev.id)
    return ResultadoAtribucion(
        evento_id=ev.id,
        metodo=reparto.metodo,
        socios=tuple(reparto.socios),
        creditos=tuple(creditos),
    )


def _salto_inactivos(ev: EventoAtribuible, ctx: ContextoAtribucion) -> bool:
    """Whether an inactive partner would have been credited (so its deactivation is why
    nobody is): it is named by step 1 or 2, or holds a touchpoint in the window."""
    if not ctx.socios_inactivos:
        return False
    if any(s in ctx.socios_inactivos for s, _, _ in candidatos_directos(ev, ctx)):
        return True
    return ev.tipo in TIPOS_CONVERSION and any(
        t.socio_id in ctx.socios_inactivos for t in touchpoints_en_ventana(ev, ctx)
    )


def _creditos(
    ev: EventoAtribuible,
    ctx: ContextoAtribucion,
    reparto: _Reparto,
    base: BaseDetalle,
    *,
    lead_ya_pagado: bool,
) -> list[CreditoCalculado]:
    """One credit per credited partner under its own agreement, amounts split to the cent."""
    fecha = fecha_local(ev.ocurrido_en)
    touchpoints = _touchpoints_detalle(reparto.pesos, ctx)
    partes_por_total: dict[Decimal, list[Decimal]] = {}
    creditos: list[CreditoCalculado] = []
    for i, sid in enumerate(reparto.socios):
        asociacion = ctx.asociacion_vigente(ev.marca_id, sid, fecha)
        regla = asociacion.reglas.get(ev.tipo) if asociacion else None
        if ev.tipo in TIPOS_TOUCHPOINT and regla is None:
            continue  # clicks only produce a credit when a rule pays for them
        pago = _pago(ev, asociacion is not None, regla, ctx, lead_ya_pagado)
        if pago.total not in partes_por_total:
            partes_por_total[pago.total] = ma.repartir_monto(pago.total, reparto.participaciones)
        monto = partes_por_total[pago.total][i]
        participacion = reparto.participaciones[i]
        detalle = detalle_construir(
            base,
            touchpoints=touchpoints,
            socio_id=ctx.texto(sid) or "",
            participacion=ctx.formato(participacion),
            asociacion=ctx.asociacion_detalle(asociacion),
            regla=ctx.regla_detalle(regla),
            calculo=pago.calculo,
            monto=str(monto),
            moneda=pago.moneda,
            motivo=pago.motivo,
        )
        creditos.append(
            CreditoCalculado(
                socio_id=sid,
                es_recompensa=ctx.tipos_socio.get(sid) in TIPOS_SOCIO_RECOMPENSA,
                participacion=participacion,
                monto=monto,
                moneda=pago.moneda or "",
                asociacion_id=asociacion.id if asociacion else None,
                regla_id=regla.id if regla else None,
                motivo=pago.motivo,
                detalle=detalle,
            )
        )
    return creditos


def credito_campos(*, evento_id: uuid.UUID, calculado: CreditoCalculado) -> dict[str, Any]:
    """The column values (by attname) of a new `pendiente` Comision/Recompensa row."""
    campos: dict[str, Any] = {
        "id": uuid.uuid4(),
        "socio_id": calculado.socio_id,
        "evento_id": evento_id,
        "asociacion_id": calculado.asociacion_id,
        "regla_id": calculado.regla_id,
        "participacion": calculado.participacion,
        "monto": calculado.monto,
        "moneda": calculado.moneda,
        "estado": EstadoCredito.PENDIENTE,
        "detalle_atribucion": calculado.detalle,
    }
    if calculado.es_recompensa:
        tipo = calculado.detalle["evento"]["tipo"]
        campos["descripcion"] = f"{tipo} · {Decimal(100) * calculado.participacion:.2f} % credit"
    return campos


def credito_instanciar(
    *, evento_id: uuid.UUID, calculado: CreditoCalculado
) -> Comision | Recompensa:
    """An unsaved Comision or Recompensa row for a computed credit."""
    return calculado.clase(**credito_campos(evento_id=evento_id, calculado=calculado))
