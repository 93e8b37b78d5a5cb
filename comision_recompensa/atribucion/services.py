"""The attribution engine (PRODUCT.md §3): who gets credit for an event and what it pays.

Two layers:

- `calcular_atribucion(evento, contexto=…)` is a pure computation over a `ContextoAtribucion`
  (the marca policies, touchpoints, asociaciones, rules and partner types needed by a batch,
  loaded with a handful of set-based queries by `contexto_cargar`). It returns one
  `CreditoCalculado` per credited partner, with its amount and its `detalle_atribucion`.
  Re-attribution (`reatribucion.py`) reuses it to compare old and new credits.
- `eventos_atribuir(evento_ids=…)` / `eventos_pendientes_atribuir(lote=…)` claim `pendiente`
  events (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never share an event), attribute
  them, ``bulk_create`` the Comision/Recompensa rows and mark the events `atribuido` or
  `sin_atribucion` — all in one transaction. Doing it twice creates nothing twice: only
  `pendiente` events are claimed, the state update is conditional, and the database allows one
  live credit per (evento, socio).

`Evento.socio` after attribution: when the attribution credits exactly one partner (precedence
steps 1–2, a single-winner model such as `ultimo_clic`/`primer_clic`, or a multi-touch model
whose touchpoints all belong to one partner) the event's `socio` is set to that partner in the
same UPDATE that marks it `atribuido`, so partner event lists, partner scoping and statements
(which filter on `Evento.socio`) see the conversions they were paid for. When the credit is
split between several partners `socio` stays null: each partner sees its own share through its
Comision/Recompensa rows. Re-attribution applies the same rule (and clears `socio` when the
new result is a split or nobody). On its own (without a publicacion or codigo_referido) a stored
`socio` is therefore never read back as a direct credit: it is an output of attribution.

Precedence: (1) the event names a publicacion or codigo_referido → that partner, 100 %;
(2) it carries a click_id → the partner of that click, 100 %; (3) it carries a visitante_id →
the visitor's `click`/`interaccion` touchpoints of the same marca inside the marca's window
(``ocurrido_en - ventana ≤ t ≤ ocurrido_en``), never `descartado` ones, split by the marca's
model; (4) otherwise `sin_atribucion`. A step that yields no partner falls through to the next.

Money decisions (documented in docs/ARCHITECTURE.md and the closing note):

- `tope` caps what the event pays under the rule *before* it is split between partners, so
  the parts always add up to the (capped) total and a cap is never exceeded by the sum.
- `porcentaje` is a share of the event's valor in the event's moneda; a rule in another
  currency (no exchange rates) or an event without valor pays 0, with the reason recorded.
- Each partner is paid under its own asociacion's rule: its amount is its cent-exact share of
  that rule's total (largest remainder over the whole credit vector), so partners with equal
  terms add up exactly to the rule's total.
- Touchpoint events (`click`, `interaccion`) only produce a credit when an active asociacion
  has a rule for that event type (pay-per-click); otherwise they are just marked `atribuido`
  to their partner, without a zero-amount row per click.
- A `lead` pays at most once per (marca, visitante_id): a later lead of the same visitor is
  still credited (for the record) with monto 0 and motivo `lead_ya_pagado`.

`detalle_atribucion` (JSON, every value JSON-native, deterministic so re-attribution can
compare it): ``version, metodo, modelo, ventana_dias, evento{…}, touchpoints[{evento_id, tipo,
socio_id, publicacion_id, ocurrido_en, peso, credito, propio}], credito, asociacion{id, tipo,
vigencia_inicio, vigencia_fin, dias_retencion} | null, regla{id, tipo_evento, modalidad, valor,
moneda, tope} | null, calculo{base, total_regla, tope_aplicado, total}, monto, moneda, motivo,
nota``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alpespartners import sql
from alpespartners.senales import enviar_al_confirmar
from comision_recompensa import signals
from comision_recompensa.atribucion import modelos as ma
from comision_recompensa.models import (
    TIPOS_SOCIO_RECOMPENSA,
    AsociacionEstrategica,
    Comision,
    EstadoCredito,
    Modalidad,
    Recompensa,
    ReglaPago,
)
from eventos_medios import almacen
from eventos_medios.models import (
    TIPOS_CONVERSION,
    TIPOS_TOUCHPOINT,
    EstadoAtribucion,
    Evento,
    ModeloAtribucion,
    MotivoDescarte,
    Publicacion,
    Socio,
    TipoEvento,
)

logger = logging.getLogger(__name__)

VERSION_DETALLE = 1
MODELO_POR_DEFECTO = ModeloAtribucion.ULTIMO_CLIC
VENTANA_POR_DEFECTO = 30


class Metodo:
    """How the credited partners were found (precedence step)."""

    PUBLICACION = "publicacion"
    CODIGO_REFERIDO = "codigo_referido"
    CLICK_ID = "click_id"
    VISITANTE_ID = "visitante_id"


class Motivo:
    """Why a credit pays what it pays (`detalle_atribucion.motivo`)."""

    PAGADO = "pagado"
    SIN_ASOCIACION = "sin_asociacion_vigente"
    SIN_REGLA = "sin_regla_para_tipo"
    LEAD_YA_PAGADO = "lead_ya_pagado"
    EVENTO_SIN_VALOR = "evento_sin_valor"
    MONEDA_DISTINTA = "moneda_distinta"


_NOTAS = {
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


# --- Plain data the computation works on ------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EventoAtribuible:
    """The fields of an Evento that attribution reads (from a model or a `.values()` row)."""

    id: uuid.UUID
    tipo: str
    ocurrido_en: dt.datetime
    marca_id: uuid.UUID | None
    publicacion_id: uuid.UUID | None
    socio_id: uuid.UUID | None
    click_id: uuid.UUID | None
    visitante_id: str
    codigo_referido: str
    valor: Decimal | None
    moneda: str
    estado_atribucion: str = EstadoAtribucion.PENDIENTE

    @classmethod
    def de(cls, evento: Evento | EventoAtribuible | dict[str, Any]) -> EventoAtribuible:
        if isinstance(evento, EventoAtribuible):
            return evento
        if isinstance(evento, dict):
            return cls(**{c: evento[c] for c in CAMPOS_EVENTO})
        return cls(**{c: getattr(evento, c) for c in CAMPOS_EVENTO})


CAMPOS_EVENTO: tuple[str, ...] = almacen.columnas_validar(f.name for f in fields(EventoAtribuible))
"""The event columns attribution reads, in `EventoAtribuible` order (rows build it by position)."""


@dataclass(frozen=True, slots=True)
class Politica:
    """A marca's programme-wide attribution policy."""

    modelo: str = MODELO_POR_DEFECTO
    ventana_dias: int = VENTANA_POR_DEFECTO


@dataclass(frozen=True, slots=True)
class ReglaInfo:
    id: uuid.UUID
    tipo_evento: str
    modalidad: str
    valor: Decimal
    moneda: str
    tope: Decimal | None

    def como_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "tipo_evento": self.tipo_evento,
            "modalidad": self.modalidad,
            "valor": str(self.valor),
            "moneda": self.moneda,
            "tope": None if self.tope is None else str(self.tope),
        }


@dataclass(frozen=True, slots=True)
class AsociacionInfo:
    id: uuid.UUID
    tipo: str
    vigencia_inicio: dt.date
    vigencia_fin: dt.date | None
    dias_retencion: int
    reglas: dict[str, ReglaInfo] = field(default_factory=dict)

    def vigente_en(self, fecha: dt.date) -> bool:
        return self.vigencia_inicio <= fecha and (
            self.vigencia_fin is None or fecha <= self.vigencia_fin
        )

    def como_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "tipo": self.tipo,
            "vigencia_inicio": self.vigencia_inicio.isoformat(),
            "vigencia_fin": self.vigencia_fin.isoformat() if self.vigencia_fin else None,
            "dias_retencion": self.dias_retencion,
        }


@dataclass(frozen=True, slots=True)
class ClickInfo:
    id: uuid.UUID
    tipo: str
    socio_id: uuid.UUID | None
    publicacion_id: uuid.UUID | None
    ocurrido_en: dt.datetime
    estado_atribucion: str
    motivo_descarte: str


ClaveVisitante = tuple[uuid.UUID, str]


@dataclass
class ContextoAtribucion:
    """Everything `calcular_atribucion` needs for a batch of events, loaded set-based.

    `leads_pagados` is updated as leads are computed, so two leads of one visitor in the same
    batch pay once (process events in (ocurrido_en, id) order).
    """

    politicas: dict[uuid.UUID, Politica] = field(default_factory=dict)
    clicks: dict[uuid.UUID, ClickInfo] = field(default_factory=dict)
    socios_publicacion: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    socios_codigo: dict[str, uuid.UUID] = field(default_factory=dict)
    touchpoints: dict[ClaveVisitante, list[ma.Touchpoint]] = field(default_factory=dict)
    asociaciones: dict[tuple[uuid.UUID, uuid.UUID], list[AsociacionInfo]] = field(
        default_factory=dict
    )
    tipos_socio: dict[uuid.UUID, str] = field(default_factory=dict)
    leads_pagados: dict[ClaveVisitante, set[uuid.UUID]] = field(default_factory=dict)
    modelo_forzado: str | None = None
    # Rendering caches (partners, publicaciones, rules repeat across a batch).
    _textos: dict[Any, str | None] = field(default_factory=dict, repr=False)
    _dicts: dict[Any, dict[str, Any]] = field(default_factory=dict, repr=False)
    _formatos: dict[Decimal, str] = field(default_factory=dict, repr=False)
    _totales: dict[Any, tuple[Decimal, str, str, dict[str, Any]]] = field(
        default_factory=dict, repr=False
    )

    def texto(self, valor: Any) -> str | None:
        """str(valor) (None stays None), memoised."""
        try:
            return self._textos[valor]
        except KeyError:
            texto = None if valor is None else str(valor)
            self._textos[valor] = texto
            return texto

    def formato(self, valor: Decimal) -> str:
        """A credit or weight with 6 places (`formatear_credito`), memoised: few distinct
        values repeat across a batch."""
        try:
            return self._formatos[valor]
        except KeyError:
            texto = self._formatos[valor] = ma.formatear_credito(valor)
            return texto

    def total_regla(
        self, regla: ReglaInfo, evento: EventoAtribuible
    ) -> tuple[Decimal, str, str, dict[str, Any]]:
        """`_total_regla`, memoised for `fijo` rules (their total reads nothing of the event)."""
        if regla.modalidad != Modalidad.FIJO:
            return _total_regla(regla, evento)
        try:
            return self._totales[regla.id]
        except KeyError:
            resultado = self._totales[regla.id] = _total_regla(regla, evento)
            return resultado

    def como_dict(self, objeto: AsociacionInfo | ReglaInfo | None) -> dict[str, Any] | None:
        if objeto is None:
            return None
        try:
            return self._dicts[objeto.id]
        except KeyError:
            self._dicts[objeto.id] = objeto.como_dict()
            return self._dicts[objeto.id]

    def politica(self, marca_id: uuid.UUID | None) -> Politica:
        base = self.politicas.get(marca_id) if marca_id else None
        base = base or Politica()
        if self.modelo_forzado:
            return Politica(modelo=self.modelo_forzado, ventana_dias=base.ventana_dias)
        return base

    def asociacion_vigente(
        self, marca_id: uuid.UUID | None, socio_id: uuid.UUID, fecha: dt.date
    ) -> AsociacionInfo | None:
        """The asociacion (marca, socio) active on `fecha`; with overlaps, the latest start."""
        if marca_id is None:
            return None
        for asociacion in self.asociaciones.get((marca_id, socio_id), ()):
            if asociacion.vigente_en(fecha):
                return asociacion
        return None


@dataclass(frozen=True, slots=True)
class CreditoCalculado:
    """One partner's credit for one event: what a Comision/Recompensa row will hold."""

    socio_id: uuid.UUID
    es_recompensa: bool
    credito: Decimal
    monto: Decimal
    moneda: str
    asociacion_id: uuid.UUID | None
    regla_id: uuid.UUID | None
    motivo: str
    detalle: dict[str, Any]

    @property
    def clase(self) -> type[Comision] | type[Recompensa]:
        return Recompensa if self.es_recompensa else Comision


@dataclass(frozen=True, slots=True)
class ResultadoAtribucion:
    """The outcome for one event: the method used and one credit per credited partner."""

    evento_id: uuid.UUID
    metodo: str | None
    socios: tuple[uuid.UUID, ...]
    creditos: tuple[CreditoCalculado, ...]

    @property
    def estado(self) -> str:
        return EstadoAtribucion.ATRIBUIDO if self.socios else EstadoAtribucion.SIN_ATRIBUCION

    @property
    def socio_evento(self) -> uuid.UUID | None:
        """The partner `Evento.socio` names: the one credited partner, or None (nobody, or a
        split between several partners)."""
        return self.socios[0] if len(self.socios) == 1 else None


# --- Loading the context (set-based: a fixed number of queries per batch) --------------------
def _fecha(momento: dt.datetime) -> dt.date:
    """The calendar date of `momento` in the project's TIME_ZONE (asociacion validity dates)."""
    if momento.tzinfo is None:
        return momento.date()
    return momento.astimezone(timezone.get_default_timezone()).date()


def contexto_cargar(
    *, eventos: Sequence[EventoAtribuible], modelo: str | None = None
) -> ContextoAtribucion:
    """Load what attributing `eventos` needs with a bounded number of queries (no per-event or
    per-touchpoint query). `modelo` overrides every marca's model (what-if runs)."""
    ctx = ContextoAtribucion(modelo_forzado=modelo)
    if not eventos:
        return ctx
    marca_ids: set[uuid.UUID] = {e.marca_id for e in eventos if e.marca_id}
    from eventos_medios.models import Marca

    for marca_id, modelo_marca, ventana in Marca.objects.filter(id__in=marca_ids).values_list(
        "id", "modelo_atribucion", "ventana_atribucion_dias"
    ):
        ctx.politicas[marca_id] = Politica(modelo=modelo_marca, ventana_dias=ventana)

    # (2) clicks named by click_id.
    click_ids = {e.click_id for e in eventos if e.click_id}
    if click_ids:
        for cid, tipo, sid, pid, ocurrido, estado, motivo in Evento.objects.filter(
            id__in=click_ids
        ).values_list(
            "id",
            "tipo",
            "socio_id",
            "publicacion_id",
            "ocurrido_en",
            "estado_atribucion",
            "motivo_descarte",
        ):
            ctx.clicks[cid] = ClickInfo(
                id=cid,
                tipo=tipo,
                socio_id=sid,
                publicacion_id=pid,
                ocurrido_en=ocurrido,
                estado_atribucion=estado,
                motivo_descarte=motivo,
            )

    # Legacy rows may lack the denormalised socio: resolve it through publicacion or code.
    pubs = {e.publicacion_id for e in eventos if e.publicacion_id and not e.socio_id}
    pubs |= {c.publicacion_id for c in ctx.clicks.values() if c.publicacion_id and not c.socio_id}
    if pubs:
        for pid, sid in Publicacion.objects.filter(id__in=pubs).values_list(
            "id", "medio__socio_id"
        ):
            ctx.socios_publicacion[pid] = sid
    codigos = {e.codigo_referido for e in eventos if e.codigo_referido and not e.socio_id}
    if codigos:
        ctx.socios_codigo = dict(
            Socio.objects.filter(codigo_referido__in=codigos).values_list("codigo_referido", "id")
        )

    # (3) touchpoints of the visitors, for conversions no earlier step credits.
    por_visitante = [
        e
        for e in eventos
        if e.tipo in TIPOS_CONVERSION
        and e.visitante_id
        and e.marca_id
        and _socio_directo(e, ctx)[0] is None
    ]
    if por_visitante:
        _cargar_touchpoints(ctx, por_visitante)

    # Partners that may be credited → their type and their asociaciones with these marcas.
    socios: set[uuid.UUID] = set()
    for e in eventos:
        directo, _, _ = _socio_directo(e, ctx)
        if directo:
            socios.add(directo)
    for tps in ctx.touchpoints.values():
        socios.update(t.socio_id for t in tps)  # type: ignore[misc]
    if socios:
        ctx.tipos_socio = dict(Socio.objects.filter(id__in=socios).values_list("id", "tipo"))
        _cargar_asociaciones(ctx, marca_ids, socios)

    leads = [e for e in eventos if e.tipo == TipoEvento.LEAD and e.visitante_id and e.marca_id]
    if leads:
        _cargar_leads_pagados(ctx, leads)
    return ctx


def _cargar_touchpoints(ctx: ContextoAtribucion, eventos: Sequence[EventoAtribuible]) -> None:
    """The touchpoints of the batch's visitors, each (marca, visitante) over the union of the
    windows of its events (tracking reads them: `almacen.touchpoints_leer`)."""
    ventanas: dict[ClaveVisitante, tuple[dt.datetime, dt.datetime]] = {}
    for e in eventos:
        assert e.marca_id is not None
        inicio = e.ocurrido_en - dt.timedelta(days=ctx.politica(e.marca_id).ventana_dias)
        clave = (e.marca_id, e.visitante_id)
        previa = ventanas.get(clave)
        if previa is not None:
            inicio, fin = min(previa[0], inicio), max(previa[1], e.ocurrido_en)
        else:
            fin = e.ocurrido_en
        ventanas[clave] = (inicio, fin)
    agrupados: dict[ClaveVisitante, list[ma.Touchpoint]] = defaultdict(list)
    for eid, marca_id, visitante, ocurrido, tipo, socio_id, pub_id in almacen.touchpoints_leer(
        ventanas=ventanas
    ):
        agrupados[(marca_id, visitante)].append(
            ma.Touchpoint(eid, socio_id, ocurrido, tipo, pub_id)
        )
    ctx.touchpoints = {k: ma.ordenar_touchpoints(v) for k, v in agrupados.items()}


def _cargar_asociaciones(
    ctx: ContextoAtribucion, marca_ids: set[uuid.UUID], socios: set[uuid.UUID]
) -> None:
    if not marca_ids:
        return
    filas = list(
        AsociacionEstrategica.objects.filter(marca_id__in=marca_ids, socio_id__in=socios)
        .order_by("-vigencia_inicio", "id")
        .values_list(
            "id",
            "marca_id",
            "socio_id",
            "tipo",
            "vigencia_inicio",
            "vigencia_fin",
            "dias_retencion",
        )
    )
    if not filas:
        return
    reglas: dict[uuid.UUID, dict[str, ReglaInfo]] = defaultdict(dict)
    for rid, aid, tipo_evento, modalidad, valor, moneda, tope in ReglaPago.objects.filter(
        asociacion_id__in=[f[0] for f in filas]
    ).values_list("id", "asociacion_id", "tipo_evento", "modalidad", "valor", "moneda", "tope"):
        reglas[aid][tipo_evento] = ReglaInfo(
            id=rid,
            tipo_evento=tipo_evento,
            modalidad=modalidad,
            valor=valor,
            moneda=moneda,
            tope=tope,
        )
    agrupadas: dict[tuple[uuid.UUID, uuid.UUID], list[AsociacionInfo]] = defaultdict(list)
    for aid, marca_id, socio_id, tipo, inicio, fin, retencion in filas:
        agrupadas[(marca_id, socio_id)].append(
            AsociacionInfo(
                id=aid,
                tipo=tipo,
                vigencia_inicio=inicio,
                vigencia_fin=fin,
                dias_retencion=retencion,
                reglas=reglas.get(aid, {}),
            )
        )
    ctx.asociaciones = dict(agrupadas)


def _cargar_leads_pagados(ctx: ContextoAtribucion, leads: Sequence[EventoAtribuible]) -> None:
    """(marca, visitante) → ids of lead events that already earned money (live credit > 0)."""
    marcas = {e.marca_id for e in leads if e.marca_id}
    visitantes = {e.visitante_id for e in leads}
    for modelo in (Comision, Recompensa):
        filas = (
            modelo.objects.filter(
                evento__tipo=TipoEvento.LEAD,
                evento__marca_id__in=marcas,
                evento__visitante_id__in=visitantes,
                monto__gt=0,
            )
            .exclude(estado=EstadoCredito.REVERTIDA)
            .values_list("evento__marca_id", "evento__visitante_id", "evento_id")
        )
        for marca_id, visitante, evento_id in filas:
            ctx.leads_pagados.setdefault((marca_id, visitante), set()).add(evento_id)


# --- The computation ---------------------------------------------------------------------------
def _socio_directo(
    evento: EventoAtribuible, ctx: ContextoAtribucion
) -> tuple[uuid.UUID | None, str | None, ma.Touchpoint | None]:
    """Precedence steps 1 and 2: (partner, method, the touchpoint that names it)."""
    if evento.publicacion_id or evento.codigo_referido:
        # Evento.socio is denormalised from the publicacion or code at ingestion, and filled
        # by attribution for click_id / visitante_id credits: on its own it names no one.
        socio_id = evento.socio_id
        if socio_id is None and evento.publicacion_id:
            socio_id = ctx.socios_publicacion.get(evento.publicacion_id)
        if socio_id is None and evento.codigo_referido:
            socio_id = ctx.socios_codigo.get(evento.codigo_referido)
        if socio_id is not None:
            metodo = Metodo.PUBLICACION if evento.publicacion_id else Metodo.CODIGO_REFERIDO
            tp = ma.Touchpoint(
                evento_id=evento.id,
                socio_id=socio_id,
                ocurrido_en=evento.ocurrido_en,
                tipo=evento.tipo,
                publicacion_id=evento.publicacion_id,
            )
            return socio_id, metodo, tp
    if evento.click_id:
        click = ctx.clicks.get(evento.click_id)
        # A click discarded as a bot earns nothing; a duplicate click still shows where the
        # visitor came from (it was only not counted twice).
        if click is not None and click.motivo_descarte != MotivoDescarte.BOT:
            socio_id = click.socio_id
            if socio_id is None and click.publicacion_id:
                socio_id = ctx.socios_publicacion.get(click.publicacion_id)
            if socio_id is not None:
                tp = ma.Touchpoint(
                    evento_id=click.id,
                    socio_id=socio_id,
                    ocurrido_en=click.ocurrido_en,
                    tipo=click.tipo,
                    publicacion_id=click.publicacion_id,
                )
                return socio_id, Metodo.CLICK_ID, tp
    return None, None, None


def touchpoints_en_ventana(
    evento: EventoAtribuible, ctx: ContextoAtribucion
) -> list[ma.Touchpoint]:
    """The visitor's valid touchpoints for this event: same marca, inside the window."""
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
) -> tuple[Decimal, str, str, dict[str, Any]]:
    """What the event pays under `regla` before the split: (total, moneda, motivo, calculo)."""
    if regla.modalidad == Modalidad.FIJO:
        base = None
        bruto = regla.valor
    else:
        if evento.valor is None:
            return Decimal("0.00"), regla.moneda, Motivo.EVENTO_SIN_VALOR, {"base": None}
        if evento.moneda != regla.moneda:
            calculo: dict[str, Any] = {"base": str(evento.valor), "moneda_evento": evento.moneda}
            return Decimal("0.00"), regla.moneda, Motivo.MONEDA_DISTINTA, calculo
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

    _, metodo, tp_directo = _socio_directo(ev, ctx)
    if tp_directo is not None:
        touchpoints = [tp_directo]
    elif ev.tipo in TIPOS_CONVERSION:
        touchpoints = touchpoints_en_ventana(ev, ctx)
        metodo = Metodo.VISITANTE_ID if touchpoints else None
    else:
        touchpoints = []
    if not touchpoints:
        return ResultadoAtribucion(evento_id=ev.id, metodo=None, socios=(), creditos=())

    pesos = ma.pesos_touchpoints(politica.modelo, touchpoints, referencia=ev.ocurrido_en)
    por_socio = ma.creditos_por_socio(pesos)
    socios: list[uuid.UUID] = list(por_socio)  # type: ignore[arg-type]
    vector = [por_socio[s] for s in socios]
    fecha = _fecha(ev.ocurrido_en)

    clave_lead: ClaveVisitante | None = None
    lead_ya_pagado = False
    if ev.tipo == TipoEvento.LEAD and ev.visitante_id and ev.marca_id:
        clave_lead = (ev.marca_id, ev.visitante_id)
        lead_ya_pagado = bool(ctx.leads_pagados.get(clave_lead, set()) - {ev.id})

    base_detalle = {
        "version": VERSION_DETALLE,
        "metodo": metodo,
        "modelo": politica.modelo,
        "ventana_dias": politica.ventana_dias,
        "evento": {
            "id": str(ev.id),
            "tipo": ev.tipo,
            "ocurrido_en": ev.ocurrido_en.isoformat(),
            "valor": None if ev.valor is None else str(ev.valor),
            "moneda": ev.moneda,
            "visitante_id": ev.visitante_id,
        },
    }
    # Rendered once per event; each partner's copy only adds whether the touchpoint is its own.
    texto = ctx.texto
    formato = ctx.formato
    touchpoints_detalle = [
        {
            "evento_id": str(p.touchpoint.evento_id),
            "tipo": p.touchpoint.tipo,
            "socio_id": texto(p.touchpoint.socio_id),
            "publicacion_id": texto(p.touchpoint.publicacion_id),
            "ocurrido_en": p.touchpoint.ocurrido_en.isoformat(),
            "peso": formato(p.peso),
            "credito": formato(p.credito),
        }
        for p in pesos
    ]
    partes_por_total: dict[Decimal, list[Decimal]] = {}
    creditos: list[CreditoCalculado] = []
    for i, sid in enumerate(socios):
        asociacion = ctx.asociacion_vigente(ev.marca_id, sid, fecha)
        regla = asociacion.reglas.get(ev.tipo) if asociacion else None
        if ev.tipo in TIPOS_TOUCHPOINT and regla is None:
            continue  # clicks only produce a credit when a rule pays for them
        calculo: dict[str, Any] = {}
        if asociacion is None:
            total, moneda, motivo = Decimal("0.00"), ev.moneda, Motivo.SIN_ASOCIACION
        elif regla is None:
            total, moneda, motivo = Decimal("0.00"), ev.moneda, Motivo.SIN_REGLA
        else:
            total, moneda, motivo, calculo = ctx.total_regla(regla, ev)
        if lead_ya_pagado and total > 0:
            total, motivo = Decimal("0.00"), Motivo.LEAD_YA_PAGADO
        if total not in partes_por_total:
            partes_por_total[total] = ma.repartir_monto(total, vector)
        monto = partes_por_total[total][i]
        credito = por_socio[sid]
        sid_texto = texto(sid)
        detalle = {
            **base_detalle,
            "touchpoints": [
                {**tp, "propio": tp["socio_id"] == sid_texto} for tp in touchpoints_detalle
            ],
            "credito": formato(credito),
            "asociacion": ctx.como_dict(asociacion),
            "regla": ctx.como_dict(regla),
            "calculo": calculo,
            "monto": str(monto),
            "moneda": moneda,
            "motivo": motivo,
            "nota": _NOTAS[motivo],
        }
        creditos.append(
            CreditoCalculado(
                socio_id=sid,
                es_recompensa=ctx.tipos_socio.get(sid) in TIPOS_SOCIO_RECOMPENSA,
                credito=credito,
                monto=monto,
                moneda=moneda or "",
                asociacion_id=asociacion.id if asociacion else None,
                regla_id=regla.id if regla else None,
                motivo=motivo,
                detalle=detalle,
            )
        )
    if clave_lead is not None and any(c.monto > 0 for c in creditos):
        ctx.leads_pagados.setdefault(clave_lead, set()).add(ev.id)
    return ResultadoAtribucion(
        evento_id=ev.id, metodo=metodo, socios=tuple(socios), creditos=tuple(creditos)
    )


def credito_campos(*, evento_id: uuid.UUID, calculado: CreditoCalculado) -> dict[str, Any]:
    """The column values (by attname) of a new `pendiente` Comision/Recompensa row."""
    campos: dict[str, Any] = {
        "id": uuid.uuid4(),
        "socio_id": calculado.socio_id,
        "evento_id": evento_id,
        "asociacion_id": calculado.asociacion_id,
        "regla_id": calculado.regla_id,
        "credito": calculado.credito,
        "monto": calculado.monto,
        "moneda": calculado.moneda,
        "estado": EstadoCredito.PENDIENTE,
        "detalle_atribucion": calculado.detalle,
    }
    if calculado.es_recompensa:
        tipo = calculado.detalle["evento"]["tipo"]
        campos["descripcion"] = f"{tipo} · {Decimal(100) * calculado.credito:.2f} % credit"
    return campos


def credito_instanciar(
    *, evento_id: uuid.UUID, calculado: CreditoCalculado
) -> Comision | Recompensa:
    """An unsaved Comision or Recompensa row for a computed credit."""
    return calculado.clase(**credito_campos(evento_id=evento_id, calculado=calculado))


# --- Claiming and attributing pending events --------------------------------------------------
@dataclass
class ResumenAtribucion:
    """What one call attributed (counts are for the events this call claimed)."""

    reclamados: int = 0
    atribuidos: int = 0
    sin_atribucion: int = 0
    comisiones: int = 0
    recompensas: int = 0
    evento_ids: list[uuid.UUID] = field(default_factory=list)

    def sumar(self, otro: ResumenAtribucion) -> None:
        self.reclamados += otro.reclamados
        self.atribuidos += otro.atribuidos
        self.sin_atribucion += otro.sin_atribucion
        self.comisiones += otro.comisiones
        self.recompensas += otro.recompensas
        self.evento_ids.extend(otro.evento_ids)


def _reclamar(*, evento_ids: Iterable[Any] | None, lote: int) -> list[EventoAtribuible]:
    """Claim up to `lote` pending events for this transaction (skip those another worker holds)."""
    filas = almacen.eventos_pendientes_reclamar(
        campos=CAMPOS_EVENTO, evento_ids=evento_ids, lote=lote
    )
    return [EventoAtribuible(*fila) for fila in filas]


def _bloquear_visitantes_con_lead(eventos: Sequence[EventoAtribuible]) -> None:
    """Serialise lead attribution per (marca, visitante_id) across workers (PostgreSQL).

    Two leads of one visitor claimed by two workers at once would each see no paid lead and
    both pay. A transaction-scoped advisory lock per (marca, visitante), taken in a fixed order
    before the "already paid?" query, makes the second worker wait for the first to commit and
    then see its lead.
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises writing transactions anyway
    claves = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(f"{e.marca_id}:{e.visitante_id}".encode(), digest_size=8).digest(),
                "big",
                signed=True,
            )
            for e in eventos
            if e.tipo == TipoEvento.LEAD and e.visitante_id and e.marca_id
        }
    )
    if claves:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k",
                [claves],
            )


def _atribuir_reclamados(filas: list[EventoAtribuible]) -> ResumenAtribucion:
    resumen = ResumenAtribucion(reclamados=len(filas))
    if not filas:
        return resumen
    eventos = sorted(filas, key=lambda e: (e.ocurrido_en, str(e.id)))
    _bloquear_visitantes_con_lead(eventos)
    ctx = contexto_cargar(eventos=eventos)
    comisiones: list[dict[str, Any]] = []
    recompensas: list[dict[str, Any]] = []
    marcas: list[tuple[uuid.UUID, str, uuid.UUID | None]] = []
    atribuidos = 0
    for ev in eventos:
        resultado = calcular_atribucion(ev, contexto=ctx)
        if resultado.socios:
            atribuidos += 1
            marcas.append((ev.id, EstadoAtribucion.ATRIBUIDO, resultado.socio_evento))
        else:
            marcas.append((ev.id, EstadoAtribucion.SIN_ATRIBUCION, None))
        for c in resultado.creditos:
            fila = credito_campos(evento_id=ev.id, calculado=c)
            (recompensas if c.es_recompensa else comisiones).append(fila)
    # Ignoring conflicts: the partial unique index (one live credit per evento+socio) is the
    # last line of defence; a conflict here means someone else already credited that pair.
    sql.filas_insertar(Comision, comisiones, ignorar_conflictos=True)
    sql.filas_insertar(Recompensa, recompensas, ignorar_conflictos=True)
    almacen.eventos_marcar_atribucion(marcas, ahora=timezone.now(), solo_pendientes=True)
    resumen.atribuidos = atribuidos
    resumen.sin_atribucion = len(eventos) - atribuidos
    resumen.comisiones = len(comisiones)
    resumen.recompensas = len(recompensas)
    resumen.evento_ids = [e.id for e in eventos]
    enviar_al_confirmar(
        signals.eventos_atribuidos, sender=eventos_atribuir, evento_ids=list(resumen.evento_ids)
    )
    return resumen


def eventos_atribuir(*, evento_ids: Sequence[Any], lote: int | None = None) -> ResumenAtribucion:
    """Attribute those of `evento_ids` that are still `pendiente`, in batches of `lote`.

    Events already attributed, or held by another worker right now, are skipped: calling this
    twice, or concurrently, credits each event once.
    """
    lote = lote or settings.ATRIBUCION_LOTE
    resumen = ResumenAtribucion()
    ids = list(dict.fromkeys(evento_ids))
    for inicio in range(0, len(ids), lote):
        with transaction.atomic():
            filas = _reclamar(evento_ids=ids[inicio : inicio + lote], lote=lote)
            resumen.sumar(_atribuir_reclamados(filas))
    return resumen


def eventos_pendientes_atribuir(*, lote: int | None = None) -> ResumenAtribucion:
    """Claim and attribute the oldest `lote` pending events (one transaction).

    `reclamados == lote` means more may be waiting.
    """
    lote = lote or settings.ATRIBUCION_LOTE
    with transaction.atomic():
        filas = _reclamar(evento_ids=None, lote=lote)
        return _atribuir_reclamados(filas)
