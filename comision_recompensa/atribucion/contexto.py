"""What attribution knows about a batch of events, loaded set-based (`contexto_cargar`).

`ContextoAtribucion` holds the marca policies, the clicks named by `click_id`, the visitors'
touchpoints, the partners' types and their agreements with the rules, and the leads already
paid, for a whole batch: a fixed number of queries per batch, never one per event or per
touchpoint. Tracking's rows are read through `eventos_medios.almacen`. `socio_directo` answers
precedence steps 1 and 2 (the partner an event names itself).

Deactivation (PRODUCT.md §8): the context knows which of the batch's marcas and partners are
inactive (read with the policies and the partners' types, no extra query for marcas). An
inactive partner earns nothing new: `socio_directo` skips it (a step that names only inactive
partners falls through to the next, as a step that names nobody does) and
`ContextoAtribucion.activos` drops its touchpoints, so the split is made over the rest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.utils import timezone

from comision_recompensa.atribucion import modelos as ma
from comision_recompensa.atribucion.detalle import (
    AsociacionDetalle,
    Metodo,
    ReglaDetalle,
    detalle_asociacion,
    detalle_regla,
)
from comision_recompensa.models import (
    AsociacionEstrategica,
    Comision,
    EstadoCredito,
    Recompensa,
    ReglaPago,
)
from eventos_medios import almacen
from eventos_medios.models import (
    TIPOS_CONVERSION,
    EstadoAtribucion,
    Evento,
    Marca,
    ModeloAtribucion,
    MotivoDescarte,
    Publicacion,
    Socio,
    TipoEvento,
)

MODELO_POR_DEFECTO = ModeloAtribucion.ULTIMO_CLIC
VENTANA_POR_DEFECTO = 30


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
    motivo_atribucion: str = ""

    @classmethod
    def de(cls, evento: Evento | EventoAtribuible | dict[str, Any]) -> EventoAtribuible:
        if isinstance(evento, EventoAtribuible):
            return evento
        if isinstance(evento, dict):
            return cls(**{c: evento[c] for c in CAMPOS_EVENTO if c in evento})
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
    marcas_inactivas: set[uuid.UUID] = field(default_factory=set)
    socios_inactivos: set[uuid.UUID] = field(default_factory=set)
    leads_pagados: dict[ClaveVisitante, set[uuid.UUID]] = field(default_factory=dict)
    modelo_forzado: str | None = None
    # Rendering caches (partners, publicaciones, rules repeat across a batch).
    _textos: dict[Any, str | None] = field(default_factory=dict, repr=False)
    _dicts: dict[Any, Any] = field(default_factory=dict, repr=False)
    _formatos: dict[Decimal, str] = field(default_factory=dict, repr=False)
    # What a `fijo` rule pays reads nothing of the event: computed once per rule (motor.py).
    totales_fijos: dict[Any, Any] = field(default_factory=dict, repr=False)

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

    def asociacion_detalle(self, asociacion: AsociacionInfo | None) -> AsociacionDetalle | None:
        """`detalle_asociacion`, memoised per agreement."""
        if asociacion is None:
            return None
        try:
            return self._dicts[asociacion.id]  # type: ignore[no-any-return]
        except KeyError:
            resultado = self._dicts[asociacion.id] = detalle_asociacion(asociacion)
            return resultado

    def regla_detalle(self, regla: ReglaInfo | None) -> ReglaDetalle | None:
        """`detalle_regla`, memoised per rule."""
        if regla is None:
            return None
        try:
            return self._dicts[regla.id]  # type: ignore[no-any-return]
        except KeyError:
            resultado = self._dicts[regla.id] = detalle_regla(regla)
            return resultado

    def politica(self, marca_id: uuid.UUID | None) -> Politica:
        base = self.politicas.get(marca_id) if marca_id else None
        base = base or Politica()
        if self.modelo_forzado:
            return Politica(modelo=self.modelo_forzado, ventana_dias=base.ventana_dias)
        return base

    def activos(self, touchpoints: Sequence[ma.Touchpoint]) -> list[ma.Touchpoint]:
        """`touchpoints` without those of inactive partners (they earn nothing new)."""
        if not self.socios_inactivos:
            return list(touchpoints)
        return [t for t in touchpoints if t.socio_id not in self.socios_inactivos]

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


# --- Loading (a fixed number of queries per batch) ---------------------------------------
def fecha_local(momento: dt.datetime) -> dt.date:
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
    _cargar_politicas(ctx, marca_ids)
    _cargar_clicks(ctx, {e.click_id for e in eventos if e.click_id})
    _cargar_socios_sin_denormalizar(ctx, eventos)
    # Partners named by steps 1 and 2 (active or not): their type and whether they are active,
    # so that `socio_directo` can skip an inactive one before the touchpoints are chosen.
    nombrados = {s for e in eventos for s, _, _ in candidatos_directos(e, ctx)}
    _cargar_socios(ctx, nombrados)
    # (3) touchpoints of the visitors, for conversions of active marcas no earlier step credits.
    por_visitante = [
        e
        for e in eventos
        if e.tipo in TIPOS_CONVERSION
        and e.visitante_id
        and e.marca_id
        and e.marca_id not in ctx.marcas_inactivas
        and socio_directo(e, ctx)[0] is None
    ]
    if por_visitante:
        _cargar_touchpoints(ctx, por_visitante)
    # Partners that may be credited → their type and their asociaciones with these marcas.
    socios = {s for e in eventos if (s := socio_directo(e, ctx)[0]) is not None}
    de_touchpoints: set[uuid.UUID] = {
        t.socio_id  # type: ignore[misc]
        for tps in ctx.touchpoints.values()
        for t in tps
    }
    _cargar_socios(ctx, de_touchpoints - nombrados)
    socios.update(de_touchpoints - ctx.socios_inactivos)
    if socios:
        _cargar_asociaciones(ctx, marca_ids, socios)
    leads = [e for e in eventos if e.tipo == TipoEvento.LEAD and e.visitante_id and e.marca_id]
    if leads:
        _cargar_leads_pagados(ctx, leads)
    return ctx


def _cargar_socios(ctx: ContextoAtribucion, socio_ids: set[uuid.UUID]) -> None:
    """The partners' types, and which of them are inactive (one query)."""
    if not socio_ids:
        return
    for socio_id, tipo, activo in Socio.objects.filter(id__in=socio_ids).values_list(
        "id", "tipo", "activo"
    ):
        ctx.tipos_socio[socio_id] = tipo
        if not activo:
            ctx.socios_inactivos.add(socio_id)


def _cargar_politicas(ctx: ContextoAtribucion, marca_ids: set[uuid.UUID]) -> None:
    for marca_id, modelo_marca, ventana, activa in Marca.objects.filter(
        id__in=marca_ids
    ).values_list("id", "modelo_atribucion", "ventana_atribucion_dias", "activo"):
        ctx.politicas[marca_id] = Politica(modelo=modelo_marca, ventana_dias=ventana)
        if not activa:
            ctx.marcas_inactivas.add(marca_id)


_CAMPOS_CLICK = (
    "id",
    "tipo",
    "socio_id",
    "publicacion_id",
    "ocurrido_en",
    "estado_atribucion",
    "motivo_descarte",
)


def _cargar_clicks(ctx: ContextoAtribucion, click_ids: set[uuid.UUID]) -> None:
    """(2) The clicks events name by click_id."""
    if click_ids:
        for fila in almacen.eventos_leer(ids=click_ids, campos=_CAMPOS_CLICK):
            ctx.clicks[fila[0]] = ClickInfo(*fila)


def _cargar_socios_sin_denormalizar(
    ctx: ContextoAtribucion, eventos: Sequence[EventoAtribuible]
) -> None:
    """Legacy rows may lack the denormalised socio: resolve it through publicacion or code."""
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


# --- Precedence steps 1 and 2 ----------------------------------------------------------------
Candidato = tuple[uuid.UUID, str, ma.Touchpoint]


def candidatos_directos(evento: EventoAtribuible, ctx: ContextoAtribucion) -> Iterator[Candidato]:
    """The partners steps 1 and 2 name (PRODUCT.md §3), in precedence order, active or not:
    (partner, method, the touchpoint that names it). Lazy: `socio_directo` stops at the first
    active one, as the precedence does."""
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
            yield socio_id, metodo, tp
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
                yield socio_id, Metodo.CLICK_ID, tp


def socio_directo(
    evento: EventoAtribuible, ctx: ContextoAtribucion
) -> tuple[uuid.UUID | None, str | None, ma.Touchpoint | None]:
    """Precedence steps 1 and 2 (PRODUCT.md §3): (partner, method, the touchpoint that names
    it), or (None, None, None) when the event names no active partner directly. An inactive
    partner is skipped: the next step decides, as when the step names nobody (§8)."""
    for socio_id, metodo, tp in candidatos_directos(evento, ctx):
        if socio_id not in ctx.socios_inactivos:
            return socio_id, metodo, tp
    return None, None, None
