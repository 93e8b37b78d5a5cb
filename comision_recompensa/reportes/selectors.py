"""Reports: aggregates over events and credits, computed in the database and scoped by access.

Definitions used by every report (the API and the admin dashboard show the same numbers):

- **Period**: `desde` (inclusive) and `hasta` (exclusive) bound the event's `ocurrido_en`.
  Credits (comisiones and recompensas) are placed in the period of the event they pay for, so
  a statement for November shows the money earned by November's conversions.
- **Events** are counted by `tipo`, leaving out those discarded at ingestion (bots, duplicate
  clicks, HEAD requests); those are counted apart as `descartados`.
- **Unique clicks**: distinct visitors per partner, brand and UTC day among the (non-discarded)
  clicks, summed over the days, partners and brands reported — the usual "unique clicks" of
  affiliate platforms, and a figure that adds up, so it can be pre-aggregated per day. A
  visitor is the click's `visitante_id` when the client sent one, else its salted `ip_hash`;
  a click with neither counts on its own. The same person clicking on two days (or for two
  partners or brands) counts once per day (partner, brand); two clicks by the same person, one
  with a visitor id and one without, may count twice: an upper bound, as in every cookie-less
  tracker.
- **Conversions**: events whose tipo can be paid for (`TIPOS_CONVERSION`: lead, registro,
  conversion, venta, hito).
- **Earnings**: the sum of `monto` of credits not `revertida`, per currency (never added across
  currencies). Credits without a currency (zero-amount credits of events no rule paid for) are
  worth nothing: they are counted as credits but left out of every money total.

Scope (PRODUCT.md §6): staff see everything; a brand user sees its marcas' events and the
credits on them; a partner sees only events and credits of its own (its statement). A user
with both links sees the union; a user with none sees zeros.

Event and money counts of whole UTC days before today come from the daily rollup; today,
partial days at the edges of the period and days not summarised are counted live, by the same
grouping, so both paths give the same numbers (`consultas.py`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncDay, TruncMonth, TruncWeek

from alpespartners.alcance import Alcance
from comision_recompensa.models import Comision, EstadoCredito, EstadoPago, Recompensa
from comision_recompensa.reportes.consultas import (
    DESCARTADO,
    como_fecha,
    creditos_reporte,
    eventos_reporte,
    filas_dinero,
    filas_eventos,
    filas_publicaciones,
    pagos_reporte,
    suma_unicos,
    unicos,
)
from eventos_medios.models import TIPOS_CONVERSION, Evento, Publicacion, Socio, TipoEvento
from eventos_medios.selectors import publicaciones_visibles

Intervalo = Literal["dia", "semana", "mes"]
INTERVALOS: tuple[str, ...] = ("dia", "semana", "mes")

CERO = Decimal("0.00")
# Bounded sample (the latest attributed events) for the attribution-lag percentiles.
MUESTRA_LATENCIA = 2_000
TOP_N = 10

_TRUNC = {"dia": TruncDay, "semana": TruncWeek, "mes": TruncMonth}


def _conteos_por_tipo(filas: Iterable[dict[str, Any]]) -> tuple[dict[str, int], int, int]:
    """(counts of non-discarded events by tipo, discarded count, unique clicks) of `filas`."""
    conteos = dict.fromkeys(TipoEvento.values, 0)
    descartados = unicos = 0
    for fila in filas:
        conteos[fila["tipo"]] += int(fila["eventos"] or 0)
        descartados += int(fila["descartados"] or 0)
        unicos += int(fila["clicks_unicos"] or 0)
    return conteos, descartados, unicos


def _totales_creditos(filas: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Count per estado and amount per currency and estado, from `filas_dinero` rows grouped
    by (estado, moneda)."""
    cantidad = dict.fromkeys(EstadoCredito.values, 0)
    monto: dict[str, dict[str, Decimal]] = {}
    for fila in filas:
        cantidad[fila["estado"]] += int(fila["cantidad"] or 0)
        if not fila["moneda"]:
            continue  # zero-amount credit without a rule: counted, but it is no money
        por_estado = monto.setdefault(fila["moneda"], dict.fromkeys(EstadoCredito.values, CERO))
        por_estado[fila["estado"]] += fila["monto"] or CERO
    return {"cantidad": cantidad, "monto": monto}


def _sumar_dinero(*partes: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
    total: dict[str, dict[str, Decimal]] = {}
    for parte in partes:
        for moneda, por_estado in parte.items():
            destino = total.setdefault(moneda, dict.fromkeys(EstadoCredito.values, CERO))
            for estado, monto in por_estado.items():
                destino[estado] += monto
    return total


def _tasa(numerador: int, denominador: int) -> float | None:
    return round(numerador / denominador, 4) if denominador else None


def _inicio_periodo(fecha: dt.date, intervalo: str) -> dt.date:
    if intervalo == "semana":
        return fecha - dt.timedelta(days=fecha.weekday())
    if intervalo == "mes":
        return fecha.replace(day=1)
    return fecha


def _siguiente_periodo(fecha: dt.date, intervalo: str) -> dt.date:
    if intervalo == "semana":
        return fecha + dt.timedelta(days=7)
    if intervalo == "mes":
        return (fecha.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return fecha + dt.timedelta(days=1)


def periodos(*, intervalo: str, desde: dt.datetime, hasta: dt.datetime) -> list[dt.date]:
    """Every period start from the one holding `desde` up to (excluding) `hasta`."""
    fecha = _inicio_periodo(como_fecha(desde), intervalo)
    resultado: list[dt.date] = []
    while dt.datetime.combine(fecha, dt.time.min, tzinfo=dt.UTC) < hasta:
        resultado.append(fecha)
        fecha = _siguiente_periodo(fecha, intervalo)
    return resultado


# --- Reports --------------------------------------------------------------------------------------


def totales(
    *,
    alcance: Alcance,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> dict[str, Any]:
    """Totals for one scope and period: events by tipo, unique clicks, conversions, and the
    comisiones and recompensas by estado (count, and money per currency). For a partner this
    is its statement. Events come from the daily rollup plus a live query for today (see the
    module docstring); credits are two live aggregate queries."""
    filtros: dict[str, Any] = {
        "marca_id": marca_id,
        "socio_id": socio_id,
        "desde": desde,
        "hasta": hasta,
    }
    conteos, descartados, unicos = _conteos_por_tipo(filas_eventos(alcance=alcance, **filtros))
    conversiones = sum(conteos[t] for t in TIPOS_CONVERSION)
    por_estado = ("estado", "moneda")
    comisiones = _totales_creditos(
        filas_dinero(Comision, alcance=alcance, campos=por_estado, **filtros)
    )
    recompensas = _totales_creditos(
        filas_dinero(Recompensa, alcance=alcance, campos=por_estado, **filtros)
    )
    return {
        "eventos": conteos,
        "eventos_total": sum(conteos.values()),
        "descartados": descartados,
        "clicks_unicos": unicos,
        "conversiones": conversiones,
        "tasa_conversion": _tasa(conversiones, conteos[TipoEvento.CLICK]),
        "comisiones": comisiones,
        "recompensas": recompensas,
        "dinero": _sumar_dinero(comisiones["monto"], recompensas["monto"]),
    }


def serie(
    *,
    alcance: Alcance,
    intervalo: Intervalo | str,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Time series per day, ISO week (Monday) or month (UTC): events by tipo, conversions and
    earnings per currency. With both `desde` and `hasta` every period in between is present
    (zeros included); otherwise only periods with data. Two aggregate queries."""
    if intervalo not in _TRUNC:
        raise ValueError(f"intervalo must be one of {INTERVALOS}")
    trunc = _TRUNC[intervalo]
    filtros: dict[str, Any] = {
        "marca_id": marca_id,
        "socio_id": socio_id,
        "desde": desde,
        "hasta": hasta,
    }
    puntos: dict[dt.date, dict[str, Any]] = {}
    if desde is not None and hasta is not None:
        for fecha in periodos(intervalo=intervalo, desde=desde, hasta=hasta):
            _punto(puntos, fecha)
    eventos = (
        eventos_reporte(alcance=alcance, **filtros)
        .exclude(DESCARTADO)
        .annotate(periodo=trunc("ocurrido_en"))
        .values("periodo", "tipo")
        .annotate(n=Count("tipo"))
    )
    for fila in eventos:
        p = _punto(puntos, como_fecha(fila["periodo"]))
        p["eventos"][fila["tipo"]] = fila["n"]
        if fila["tipo"] in TIPOS_CONVERSION:
            p["conversiones"] += fila["n"]
    for modelo in (Comision, Recompensa):
        for fila in (
            _ganado(creditos_reporte(modelo, alcance=alcance, **filtros))
            .annotate(periodo=trunc("evento__ocurrido_en"))
            .values("periodo", "moneda")
            .annotate(total=Sum("monto"))
        ):
            ganancias = _punto(puntos, como_fecha(fila["periodo"]))["ganancias"]
            ganancias[fila["moneda"]] = ganancias.get(fila["moneda"], CERO) + fila["total"]
    return [puntos[f] for f in sorted(puntos)]


def _punto(puntos: dict[dt.date, dict[str, Any]], fecha: dt.date) -> dict[str, Any]:
    """The series point of the period starting `fecha` (created with zeros)."""
    if fecha not in puntos:
        puntos[fecha] = {
            "periodo": fecha,
            "eventos": dict.fromkeys(TipoEvento.values, 0),
            "conversiones": 0,
            "ganancias": {},
        }
    return puntos[fecha]


def _ganado(creditos: QuerySet[Any]) -> QuerySet[Any]:
    """Credits that are money: not reversed, with a currency (see the module docstring)."""
    return creditos.exclude(estado=EstadoCredito.REVERTIDA).exclude(moneda="")


def publicaciones_reporte(
    *,
    alcance: Alcance,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
) -> QuerySet[Publicacion]:
    """The publicaciones a performance report lists, newest first (paginate this)."""
    qs = publicaciones_visibles(alcance=alcance)
    if marca_id is not None:
        qs = qs.filter(marca_id=marca_id)
    if socio_id is not None:
        qs = qs.filter(medio__socio_id=socio_id)
    return qs.order_by("-creado_en", "id")


def rendimiento_publicaciones(
    *,
    alcance: Alcance,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
    publicaciones: Iterable[Publicacion] | None = None,
) -> list[dict[str, Any]]:
    """Per publicacion: clicks, unique clicks, conversions and earnings in the period.

    `publicaciones` (e.g. one page of `publicaciones_reporte`) limits the report to those rows;
    without it every publicacion in scope is listed. Two aggregate queries plus the page."""
    lista = list(
        publicaciones
        if publicaciones is not None
        else publicaciones_reporte(alcance=alcance, marca_id=marca_id, socio_id=socio_id)
    )
    ids = [p.id for p in lista]
    filtros: dict[str, Any] = {
        "marca_id": marca_id,
        "socio_id": socio_id,
        "desde": desde,
        "hasta": hasta,
    }
    metricas = _metricas_publicaciones(alcance, ids, filtros) if ids else {}
    ganancias = _ganancias_publicaciones(alcance, ids, filtros) if ids else {}
    vacias = {"clicks": 0, "clicks_unicos": 0, "conversiones": 0}
    return [
        {
            "publicacion_id": pub.id,
            "codigo": pub.codigo,
            "titulo": pub.titulo,
            "marca_id": pub.marca_id,
            "socio_id": pub.medio.socio_id,
            **{k: metricas.get(pub.id, vacias)[k] for k in vacias},
            "ganancias": dict(ganancias.get(pub.id, {})),
        }
        for pub in lista
    ]


def _metricas_publicaciones(
    alcance: Alcance, ids: list[uuid.UUID], filtros: dict[str, Any]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Clicks, conversions and unique clicks (per day, added up over the period) by
    publicacion."""
    filas = (
        eventos_reporte(alcance=alcance, **filtros)
        .filter(publicacion_id__in=ids)
        .exclude(DESCARTADO)
        .annotate(dia=TruncDate("ocurrido_en", tzinfo=dt.UTC))
        .values("publicacion_id", "dia")
        .annotate(
            clicks=Count("tipo", filter=Q(tipo=TipoEvento.CLICK)),
            conversiones=Count("tipo", filter=Q(tipo__in=TIPOS_CONVERSION)),
            **unicos(Q(tipo=TipoEvento.CLICK)),
        )
    )
    metricas: dict[uuid.UUID, dict[str, Any]] = {}
    for f in filas:
        m = metricas.setdefault(
            f["publicacion_id"], {"clicks": 0, "conversiones": 0, "clicks_unicos": 0}
        )
        m["clicks"] += f["clicks"]
        m["conversiones"] += f["conversiones"]
        m["clicks_unicos"] += suma_unicos(dict(f))
    return metricas


def _ganancias_publicaciones(
    alcance: Alcance, ids: list[uuid.UUID], filtros: dict[str, Any]
) -> dict[uuid.UUID, dict[str, Decimal]]:
    """Earnings per currency by publicacion (comisiones and recompensas)."""
    ganancias: dict[uuid.UUID, dict[str, Decimal]] = defaultdict(dict)
    for modelo in (Comision, Recompensa):
        creditos = (
            _ganado(creditos_reporte(modelo, alcance=alcance, **filtros))
            .filter(evento__publicacion_id__in=ids)
            .values("evento__publicacion_id", "moneda")
            .annotate(total=Sum("monto"))
        )
        for fila in creditos:
            g = ganancias[fila["evento__publicacion_id"]]
            g[fila["moneda"]] = g.get(fila["moneda"], CERO) + fila["total"]
    return ganancias


def _latencia_atribucion(eventos: QuerySet[Evento]) -> dict[str, Any]:
    """p50/p95 of atribuido_en − recibido_en, in seconds, over the latest `MUESTRA_LATENCIA`
    attributed events of the period (interpolated like PostgreSQL's percentile_cont): a bounded
    read that the `-ocurrido_en` index serves, where an exact percentile would sort every
    attributed event of the range."""
    pares = (
        eventos.filter(atribuido_en__isnull=False)
        .order_by("-ocurrido_en")
        .values_list("recibido_en", "atribuido_en")[:MUESTRA_LATENCIA]
    )
    segundos = sorted((a - r).total_seconds() for r, a in pares if a is not None)
    return {
        "muestras": len(segundos),
        "p50_s": _percentil_cont(segundos, 0.5),
        "p95_s": _percentil_cont(segundos, 0.95),
    }


def _percentil_cont(ordenados: list[float], fraccion: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    if not ordenados:
        return None
    posicion = fraccion * (len(ordenados) - 1)
    bajo = int(posicion)
    alto = min(bajo + 1, len(ordenados) - 1)
    return ordenados[bajo] + (ordenados[alto] - ordenados[bajo]) * (posicion - bajo)


def tablero(
    *,
    alcance: Alcance,
    desde: dt.datetime,
    hasta: dt.datetime,
    marca_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Everything the admin dashboard draws, for one period: events per day by tipo, the
    click → lead → venta funnel, credits by estado, top partners and publicaciones by money,
    attribution lag percentiles and Pagos by estado."""
    filtros: dict[str, Any] = {"marca_id": marca_id, "desde": desde, "hasta": hasta}
    dias = periodos(intervalo="dia", desde=desde, hasta=hasta)
    por_dia, eventos_totales = _eventos_por_dia(alcance, filtros, dias)
    dinero = _dinero_tablero(alcance, filtros)
    pagos = dict.fromkeys(EstadoPago.values, 0)
    for estado, n in pagos_reporte(alcance=alcance).values_list("estado").annotate(n=Count("id")):
        pagos[estado] = n
    return {
        "desde": desde,
        "hasta": hasta,
        "dias": dias,
        "eventos_por_dia": por_dia,
        "eventos_totales": eventos_totales,
        "embudo": _embudo(eventos_totales),
        "creditos": dinero.creditos,
        "top_socios": _top_socios(dinero.por_socio),
        "top_publicaciones": _top_publicaciones(dinero.por_publicacion),
        "latencia_atribucion": _latencia_atribucion(eventos_reporte(alcance=alcance, **filtros)),
        "pagos": pagos,
    }


def _eventos_por_dia(
    alcance: Alcance, filtros: dict[str, Any], dias: list[dt.date]
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Live events per day of `dias` by tipo, and their totals by tipo."""
    indice = {d: i for i, d in enumerate(dias)}
    por_tipo = {t: [0] * len(dias) for t in TipoEvento.values}
    totales_tipo = dict.fromkeys(TipoEvento.values, 0)
    for fila in filas_eventos(alcance=alcance, **filtros):
        n = int(fila["eventos"] or 0)
        i = indice.get(como_fecha(fila["dia"]))
        if i is not None:
            por_tipo[fila["tipo"]][i] += n
        totales_tipo[fila["tipo"]] += n
    return por_tipo, totales_tipo


def _embudo(totales_tipo: dict[str, int]) -> dict[str, Any]:
    clicks = totales_tipo[TipoEvento.CLICK]
    leads = totales_tipo[TipoEvento.LEAD]
    ventas = totales_tipo[TipoEvento.VENTA]
    return {
        "click": clicks,
        "lead": leads,
        "venta": ventas,
        "tasa_click_lead": _tasa(leads, clicks),
        "tasa_lead_venta": _tasa(ventas, leads),
        "tasa_click_venta": _tasa(ventas, clicks),
    }


@dataclass
class _DineroTablero:
    """Credits by estado per kind, and money (not reversed, with a currency) per
    (socio, moneda) and (publicacion, moneda) for the rankings."""

    creditos: dict[str, dict[str, Any]] = field(default_factory=dict)
    por_socio: dict[tuple[Any, str], Decimal] = field(
        default_factory=lambda: defaultdict(lambda: CERO)
    )
    por_publicacion: dict[tuple[Any, str], Decimal] = field(
        default_factory=lambda: defaultdict(lambda: CERO)
    )


def _dinero_tablero(alcance: Alcance, filtros: dict[str, Any]) -> _DineroTablero:
    dinero = _DineroTablero()
    for nombre, modelo in (("comisiones", Comision), ("recompensas", Recompensa)):
        filas = filas_dinero(
            modelo,
            alcance=alcance,
            campos=("estado", "moneda", "socio_id", "publicacion_id"),
            **filtros,
        )
        dinero.creditos[nombre] = _totales_creditos(filas)
        # Money rankings: reverted credits and credits without a currency are worth nothing.
        for fila in filas:
            if fila["estado"] == EstadoCredito.REVERTIDA or not fila["moneda"]:
                continue
            dinero.por_socio[(fila["socio_id"], fila["moneda"])] += fila["monto"] or CERO
            if fila["publicacion_id"] is not None:
                clave = (fila["publicacion_id"], fila["moneda"])
                dinero.por_publicacion[clave] += fila["monto"] or CERO
    return dinero


def _primeros(montos: dict[tuple[Any, str], Decimal]) -> list[tuple[tuple[Any, str], Decimal]]:
    return sorted(montos.items(), key=lambda kv: kv[1], reverse=True)[:TOP_N]


def _top_socios(montos: dict[tuple[Any, str], Decimal]) -> list[dict[str, Any]]:
    nombres = dict(Socio.objects.filter(id__in={k[0] for k in montos}).values_list("id", "nombre"))
    return [
        {"socio_id": s, "nombre": nombres.get(s, str(s)), "moneda": m, "monto": t}
        for (s, m), t in _primeros(montos)
    ]


def _top_publicaciones(montos: dict[tuple[Any, str], Decimal]) -> list[dict[str, Any]]:
    pubs = {
        p.id: p
        for p in Publicacion.objects.filter(id__in={k[0] for k in montos}).only(
            "id", "codigo", "titulo"
        )
    }
    return [
        {
            "publicacion_id": p,
            "etiqueta": str(pubs[p]) if p in pubs else str(p),
            "codigo": pubs[p].codigo if p in pubs else "",
            "moneda": m,
            "monto": t,
        }
        for (p, m), t in _primeros(montos)
    ]


def estado_cuenta_mensual(
    *,
    alcance: Alcance,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime,
    hasta: dt.datetime,
) -> dict[str, list[dict[str, Any]]]:
    """A statement by month (UTC, by the event's month, as every report): per currency, one
    entry per month from `desde` to `hasta` (zeros included) with the amount and count of
    credits (comisiones and recompensas together) by estado. From the daily rollup plus a live
    query for what it does not cover (`filas_dinero`): a handful of queries, whatever the
    number of events. Currencies in alphabetical order; none when nothing was earned."""
    meses = periodos(intervalo="mes", desde=desde, hasta=hasta)
    por_moneda: dict[str, dict[dt.date, dict[str, Any]]] = {}
    for modelo in (Comision, Recompensa):
        for fila in filas_dinero(
            modelo,
            alcance=alcance,
            campos=("dia", "estado", "moneda"),
            socio_id=socio_id,
            desde=desde,
            hasta=hasta,
        ):
            if not fila["moneda"]:
                continue  # a credit without a currency is no money (see the module docstring)
            if fila["moneda"] not in por_moneda:
                por_moneda[fila["moneda"]] = {m: _mes_vacio(m) for m in meses}
            mes = por_moneda[fila["moneda"]].get(como_fecha(fila["dia"]).replace(day=1))
            if mes is not None:
                mes["monto"][fila["estado"]] += fila["monto"] or CERO
                mes["cantidad"][fila["estado"]] += int(fila["cantidad"] or 0)
    return {moneda: list(por_moneda[moneda].values()) for moneda in sorted(por_moneda)}


def _mes_vacio(mes: dt.date) -> dict[str, Any]:
    return {
        "mes": mes,
        "monto": dict.fromkeys(EstadoCredito.values, CERO),
        "cantidad": dict.fromkeys(EstadoCredito.values, 0),
    }


def clicks_publicaciones(
    *,
    alcance: Alcance,
    publicacion_ids: list[uuid.UUID],
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> dict[uuid.UUID, dict[str, int]]:
    """Clicks and unique clicks (per day, added up) on these publicaciones' tracking links in
    the period (None: unbounded), by publicacion id; a publicacion without clicks is absent.
    From the per-publicacion rollup plus a live query limited to these publicaciones."""
    resultado: dict[uuid.UUID, dict[str, int]] = {}
    for fila in filas_publicaciones(
        alcance=alcance, publicacion_ids=publicacion_ids, desde=desde, hasta=hasta
    ):
        suma = resultado.setdefault(fila["publicacion_id"], {"clicks": 0, "clicks_unicos": 0})
        suma["clicks"] += int(fila["clicks"] or 0)
        suma["clicks_unicos"] += int(fila["clicks_unicos"] or 0)
    return resultado


__all__ = [
    "INTERVALOS",
    "clicks_publicaciones",
    "estado_cuenta_mensual",
    "periodos",
    "publicaciones_reporte",
    "rendimiento_publicaciones",
    "serie",
    "tablero",
    "totales",
]
