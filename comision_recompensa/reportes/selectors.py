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

Event counts of whole UTC days before today come from the daily rollup (`ResumenDiario`, only
for days whose `DiaResumido` row says it is current; see `services.resumen`); today, partial
days at the edges of the period and days not summarised are counted live from the events, by
the same grouping, so both paths give the same numbers. Live queries lean on the denormalised
`Evento.socio` / `Evento.marca` and the indexes `evento_socio_fecha_idx`,
`evento_marca_fecha_idx`, `evento_pub_fecha_idx` and `evento_fecha_idx`; credits (not rolled up:
their estado changes for weeks) join their event only when a marca or period filter needs it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import (
    Coalesce,
    Collate,
    NullIf,
    TruncDate,
    TruncDay,
    TruncMonth,
    TruncWeek,
)

from alpespartners import alcance as acceso
from alpespartners.alcance import Alcance
from comision_recompensa.models import (
    Comision,
    DiaResumido,
    EstadoCredito,
    EstadoPago,
    Pago,
    Recompensa,
    ResumenDiario,
    ResumenDinero,
)
from eventos_medios.models import (
    TIPOS_CONVERSION,
    EstadoAtribucion,
    Evento,
    Publicacion,
    Socio,
    TipoEvento,
)
from eventos_medios.selectors import publicaciones_visibles

Intervalo = Literal["dia", "semana", "mes"]
INTERVALOS: tuple[str, ...] = ("dia", "semana", "mes")

CERO = Decimal("0.00")
# Bounded sample (the latest attributed events) for the attribution-lag percentiles.
MUESTRA_LATENCIA = 2_000
TOP_N = 10

_DESCARTADO = Q(estado_atribucion=EstadoAtribucion.DESCARTADO)
_TRUNC = {"dia": TruncDay, "semana": TruncWeek, "mes": TruncMonth}

# Clicks that name neither a visitor nor an IP hash: each is its own unique visitor.
_CLICK_ANONIMO = Q(visitante_id="", ip_hash="")


def clave_visitante() -> Any:
    """The visitor behind a click: visitante_id, else ip_hash (NULL when neither).

    Compared with the "C" collation on PostgreSQL: byte order is all DISTINCT needs and is
    several times cheaper than a linguistic collation."""
    clave = Coalesce(
        NullIf(F("visitante_id"), Value("")),
        NullIf(F("ip_hash"), Value("")),
        output_field=CharField(),
    )
    return Collate(clave, "C") if connection.vendor == "postgresql" else clave


def _unicos(filtro: Q) -> dict[str, Any]:
    """Aggregates whose sum is the unique visitors among the rows matching `filtro`."""
    return {
        "_unicos_con_clave": Count(clave_visitante(), distinct=True, filter=filtro),
        "_unicos_anonimos": Count("tipo", filter=filtro & _CLICK_ANONIMO),
    }


def _suma_unicos(fila: dict[str, Any]) -> int:
    return int(fila["_unicos_con_clave"] or 0) + int(fila["_unicos_anonimos"] or 0)


# --- Scoped base querysets ----------------------------------------------------------------------


def eventos_reporte(
    *,
    alcance: Alcance,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> QuerySet[Evento]:
    """Events visible to `alcance` within the filters, unordered (ready to aggregate)."""
    qs = acceso.filtrar(Evento.objects.all(), acceso.q_eventos(alcance))
    if marca_id is not None:
        qs = qs.filter(marca_id=marca_id)
    if socio_id is not None:
        qs = qs.filter(socio_id=socio_id)
    if desde is not None:
        qs = qs.filter(ocurrido_en__gte=desde)
    if hasta is not None:
        qs = qs.filter(ocurrido_en__lt=hasta)
    return qs.order_by()


def creditos_reporte(
    modelo: type[Comision] | type[Recompensa],
    *,
    alcance: Alcance,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> QuerySet[Any]:
    """Comisiones or recompensas visible to `alcance`, filtered by their event's marca/date."""
    qs: QuerySet[Any] = acceso.filtrar(modelo.objects.all(), acceso.q_creditos(alcance))
    if marca_id is not None:
        qs = qs.filter(evento__marca_id=marca_id)
    if socio_id is not None:
        qs = qs.filter(socio_id=socio_id)
    if desde is not None:
        qs = qs.filter(evento__ocurrido_en__gte=desde)
    if hasta is not None:
        qs = qs.filter(evento__ocurrido_en__lt=hasta)
    return qs.order_by()


def pagos_reporte(
    *,
    alcance: Alcance,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> QuerySet[Pago]:
    """Pagos visible to `alcance`: staff all, a partner its own. A Pago is per partner and spans
    brands, so brand users see none. The period bounds `creado_en`."""
    qs = acceso.filtrar(Pago.objects.all(), acceso.q_pagos(alcance))
    if socio_id is not None:
        qs = qs.filter(socio_id=socio_id)
    if desde is not None:
        qs = qs.filter(creado_en__gte=desde)
    if hasta is not None:
        qs = qs.filter(creado_en__lt=hasta)
    return qs.order_by()


# --- Building blocks ------------------------------------------------------------------------------


def inicio_dia(dia: dt.date) -> dt.datetime:
    """Midnight UTC starting `dia`."""
    return dt.datetime.combine(dia, dt.time.min, tzinfo=dt.UTC)


def filas_diarias(eventos: QuerySet[Evento]) -> list[dict[str, Any]]:
    """Per (UTC day, socio, marca, tipo) of `eventos`: live events, discarded events and, for
    clicks, unique visitors (per that day, socio and marca). The grain of `ResumenDiario`: the
    refresh stores these rows and reports compute them live for days not summarised, so both
    paths count alike. One aggregate query."""
    vivo = ~_DESCARTADO
    filas = (
        eventos.order_by()
        .annotate(dia=TruncDate("ocurrido_en", tzinfo=dt.UTC))
        .values("dia", "socio_id", "marca_id", "tipo")
        .annotate(
            eventos=Count("tipo", filter=vivo),
            descartados=Count("tipo", filter=_DESCARTADO),
            **_unicos(Q(tipo=TipoEvento.CLICK) & vivo),
        )
    )
    return [
        {
            "dia": _como_fecha(f["dia"]),
            "socio_id": f["socio_id"],
            "marca_id": f["marca_id"],
            "tipo": f["tipo"],
            "eventos": int(f["eventos"] or 0),
            "descartados": int(f["descartados"] or 0),
            "clicks_unicos": _suma_unicos(dict(f)),
        }
        for f in filas
    ]


def _hoy() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _dias_resumidos(desde: dt.datetime | None, hasta: dt.datetime | None) -> list[dt.date]:
    """Summarised days (before today) lying wholly inside [desde, hasta), ascending."""
    qs = DiaResumido.objects.filter(refrescado_en__isnull=False, dia__lt=_hoy())
    if desde is not None:
        primero = desde.astimezone(dt.UTC).date()
        if inicio_dia(primero) < desde:
            primero += dt.timedelta(days=1)
        qs = qs.filter(dia__gte=primero)
    if hasta is not None:
        qs = qs.filter(dia__lt=hasta.astimezone(dt.UTC).date())
    return sorted(qs.values_list("dia", flat=True))


def _rachas(dias: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Runs of consecutive days as (first, last)."""
    rachas: list[tuple[dt.date, dt.date]] = []
    for dia in dias:
        if rachas and rachas[-1][1] + dt.timedelta(days=1) == dia:
            rachas[-1] = (rachas[-1][0], dia)
        else:
            rachas.append((dia, dia))
    return rachas


def _tramos_vivos(
    desde: dt.datetime | None, hasta: dt.datetime | None, rachas: list[tuple[dt.date, dt.date]]
) -> list[tuple[dt.datetime | None, dt.datetime | None]]:
    """The parts of [desde, hasta) outside the summarised runs (None: unbounded)."""
    tramos: list[tuple[dt.datetime | None, dt.datetime | None]] = []
    cursor = desde
    for primero, ultimo in rachas:
        inicio = inicio_dia(primero)
        if cursor is None or cursor < inicio:
            tramos.append((cursor, inicio))
        cursor = inicio_dia(ultimo) + dt.timedelta(days=1)
    if cursor is None or hasta is None or cursor < hasta:
        tramos.append((cursor, hasta))
    return tramos


def filas_eventos(
    *,
    alcance: Alcance,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Rows (dia, tipo, eventos, descartados, clicks_unicos) adding up to the events visible to
    `alcance` in the period: summarised days from the rollup (one query), the rest live (one
    query per stretch not summarised — usually just today). Several rows may share a
    (dia, tipo): callers add them up."""
    rachas = _rachas(_dias_resumidos(desde, hasta))
    filas: list[dict[str, Any]] = []
    if rachas:
        # The rollup rows carry the events' marca and socio: the events' filter applies.
        qs = acceso.filtrar(ResumenDiario.objects.all(), acceso.q_eventos(alcance))
        if marca_id is not None:
            qs = qs.filter(marca_id=marca_id)
        if socio_id is not None:
            qs = qs.filter(socio_id=socio_id)
        en_rachas = Q(pk__in=[])
        for primero, ultimo in rachas:
            en_rachas |= Q(dia__gte=primero, dia__lte=ultimo)
        resumidas = (
            qs.filter(en_rachas)
            .order_by()
            .values("dia", "tipo")
            .annotate(
                eventos=Sum("eventos"),
                descartados=Sum("descartados"),
                clicks_unicos=Sum("clicks_unicos"),
            )
        )
        filas.extend(dict(f) for f in resumidas)
    for inicio, fin in _tramos_vivos(desde, hasta, rachas):
        eventos = eventos_reporte(
            alcance=alcance, marca_id=marca_id, socio_id=socio_id, desde=inicio, hasta=fin
        )
        filas += filas_diarias(eventos)
    return filas


# Fields of a credit row as the rollup names them → as the live credit query reaches them.
_CAMPOS_CREDITO = {
    "estado": "estado",
    "moneda": "moneda",
    "socio_id": "socio_id",
    "marca_id": "evento__marca_id",
    "publicacion_id": "evento__publicacion_id",
}
_CLASE = {Comision: ResumenDinero.Clase.COMISION, Recompensa: ResumenDinero.Clase.RECOMPENSA}


# Slack of the `creado_en` bound of live credit queries (see `_acotar_creado_en`).
HOLGURA_CREDITO = dt.timedelta(days=1)


def _acotar_creado_en(creditos: QuerySet[Any], inicio: dt.datetime) -> QuerySet[Any]:
    """Add the redundant bounds `estado IN (all) AND creado_en >= inicio − HOLGURA_CREDITO`.

    A credit is created by attribution after its event is stored, and ingestion refuses an
    `ocurrido_en` more than 5 minutes ahead, so a credit of an event occurring from `inicio` on
    was created after `inicio − 1 day`: the result does not change. The bounds let PostgreSQL
    read a short stretch (today) through `*_socio_idx (socio, estado, creado_en)` or
    `*_estado_idx (estado, creado_en)` instead of hash-joining every credit of the partner."""
    return creditos.filter(estado__in=EstadoCredito.values, creado_en__gte=inicio - HOLGURA_CREDITO)


def filas_dinero(
    modelo: type[Comision] | type[Recompensa],
    *,
    alcance: Alcance,
    campos: tuple[str, ...],
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Rows (`campos`…, cantidad, monto) adding up to the comisiones or recompensas visible to
    `alcance` whose event falls in the period: summarised days from `ResumenDinero`, the rest
    live (see `filas_eventos`). `campos` ⊆ estado, moneda, socio_id, marca_id, publicacion_id.
    Several rows may share the same `campos`: callers add them up."""
    rachas = _rachas(_dias_resumidos(desde, hasta))
    filas: list[dict[str, Any]] = []
    if rachas:
        qs = acceso.filtrar(
            ResumenDinero.objects.filter(clase=_CLASE[modelo]), acceso.q_eventos(alcance)
        )
        if marca_id is not None:
            qs = qs.filter(marca_id=marca_id)
        if socio_id is not None:
            qs = qs.filter(socio_id=socio_id)
        en_rachas = Q(pk__in=[])
        for primero, ultimo in rachas:
            en_rachas |= Q(dia__gte=primero, dia__lte=ultimo)
        filas += (
            qs.filter(en_rachas)
            .order_by()
            .values(*campos)
            .annotate(cantidad=Sum("cantidad"), monto=Sum("monto"))
        )
    for inicio, fin in _tramos_vivos(desde, hasta, rachas):
        creditos = creditos_reporte(
            modelo, alcance=alcance, marca_id=marca_id, socio_id=socio_id, desde=inicio, hasta=fin
        )
        if inicio is not None:
            creditos = _acotar_creado_en(creditos, inicio)
        for fila in creditos.values(*(_CAMPOS_CREDITO[c] for c in campos)).annotate(
            cantidad=Count("id"), monto=Sum("monto")
        ):
            filas.append(
                {
                    **{c: fila[_CAMPOS_CREDITO[c]] for c in campos},
                    "cantidad": fila["cantidad"],
                    "monto": fila["monto"],
                }
            )
    return filas


def _conteos_por_tipo(filas: Iterable[dict[str, Any]]) -> tuple[dict[str, int], int, int]:
    """(counts of non-discarded events by tipo, discarded count, unique clicks) of `filas`."""
    conteos = dict.fromkeys(TipoEvento.values, 0)
    descartados = unicos = 0
    for fila in filas:
        conteos[fila["tipo"]] += int(fila["eventos"] or 0)
        descartados += int(fila["descartados"] or 0)
        unicos += int(fila["clicks_unicos"] or 0)
    return conteos, descartados, unicos


def _resumen_creditos(filas: Iterable[dict[str, Any]]) -> dict[str, Any]:
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


def _como_fecha(valor: dt.datetime | dt.date) -> dt.date:
    return valor.date() if isinstance(valor, dt.datetime) else valor


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
    fecha = _inicio_periodo(_como_fecha(desde), intervalo)
    resultado: list[dt.date] = []
    while dt.datetime.combine(fecha, dt.time.min, tzinfo=dt.UTC) < hasta:
        resultado.append(fecha)
        fecha = _siguiente_periodo(fecha, intervalo)
    return resultado


# --- Reports --------------------------------------------------------------------------------------


def resumen(
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
    comisiones = _resumen_creditos(
        filas_dinero(Comision, alcance=alcance, campos=por_estado, **filtros)
    )
    recompensas = _resumen_creditos(
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

    def punto(fecha: dt.date) -> dict[str, Any]:
        if fecha not in puntos:
            puntos[fecha] = {
                "periodo": fecha,
                "eventos": dict.fromkeys(TipoEvento.values, 0),
                "conversiones": 0,
                "ganancias": {},
            }
        return puntos[fecha]

    if desde is not None and hasta is not None:
        for fecha in periodos(intervalo=intervalo, desde=desde, hasta=hasta):
            punto(fecha)

    eventos = (
        eventos_reporte(alcance=alcance, **filtros)
        .exclude(_DESCARTADO)
        .annotate(periodo=trunc("ocurrido_en"))
        .values("periodo", "tipo")
        .annotate(n=Count("tipo"))
    )
    for fila in eventos:
        p = punto(_como_fecha(fila["periodo"]))
        p["eventos"][fila["tipo"]] = fila["n"]
        if fila["tipo"] in TIPOS_CONVERSION:
            p["conversiones"] += fila["n"]

    for modelo in (Comision, Recompensa):
        creditos = (
            creditos_reporte(modelo, alcance=alcance, **filtros)
            .exclude(estado=EstadoCredito.REVERTIDA)
            .exclude(moneda="")
            .annotate(periodo=trunc("evento__ocurrido_en"))
            .values("periodo", "moneda")
            .annotate(total=Sum("monto"))
        )
        for fila in creditos:
            ganancias = punto(_como_fecha(fila["periodo"]))["ganancias"]
            ganancias[fila["moneda"]] = ganancias.get(fila["moneda"], CERO) + fila["total"]

    return [puntos[f] for f in sorted(puntos)]


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

    metricas: dict[uuid.UUID, dict[str, Any]] = {}
    if ids:
        filas = (
            eventos_reporte(alcance=alcance, **filtros)
            .filter(publicacion_id__in=ids)
            .exclude(_DESCARTADO)
            .annotate(dia=TruncDate("ocurrido_en", tzinfo=dt.UTC))
            .values("publicacion_id", "dia")
            .annotate(
                clicks=Count("tipo", filter=Q(tipo=TipoEvento.CLICK)),
                conversiones=Count("tipo", filter=Q(tipo__in=TIPOS_CONVERSION)),
                **_unicos(Q(tipo=TipoEvento.CLICK)),
            )
        )
        # Unique clicks per day (module docstring), added up over the period.
        for f in filas:
            m = metricas.setdefault(
                f["publicacion_id"], {"clicks": 0, "conversiones": 0, "clicks_unicos": 0}
            )
            m["clicks"] += f["clicks"]
            m["conversiones"] += f["conversiones"]
            m["clicks_unicos"] += _suma_unicos(dict(f))

    ganancias: dict[uuid.UUID, dict[str, Decimal]] = defaultdict(dict)
    if ids:
        for modelo in (Comision, Recompensa):
            creditos = (
                creditos_reporte(modelo, alcance=alcance, **filtros)
                .filter(evento__publicacion_id__in=ids)
                .exclude(estado=EstadoCredito.REVERTIDA)
                .exclude(moneda="")
                .values("evento__publicacion_id", "moneda")
                .annotate(total=Sum("monto"))
            )
            for fila in creditos:
                g = ganancias[fila["evento__publicacion_id"]]
                g[fila["moneda"]] = g.get(fila["moneda"], CERO) + fila["total"]

    resultado = []
    for pub in lista:
        m = metricas.get(pub.id, {})
        resultado.append(
            {
                "publicacion_id": pub.id,
                "codigo": pub.codigo,
                "titulo": pub.titulo,
                "marca_id": pub.marca_id,
                "socio_id": pub.medio.socio_id,
                "clicks": m.get("clicks", 0),
                "clicks_unicos": m.get("clicks_unicos", 0),
                "conversiones": m.get("conversiones", 0),
                "ganancias": dict(ganancias.get(pub.id, {})),
            }
        )
    return resultado


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
    eventos = eventos_reporte(alcance=alcance, **filtros)

    dias = periodos(intervalo="dia", desde=desde, hasta=hasta)
    indice = {d: i for i, d in enumerate(dias)}
    por_tipo = {t: [0] * len(dias) for t in TipoEvento.values}
    totales = dict.fromkeys(TipoEvento.values, 0)
    for fila in filas_eventos(alcance=alcance, **filtros):
        n = int(fila["eventos"] or 0)
        i = indice.get(_como_fecha(fila["dia"]))
        if i is not None:
            por_tipo[fila["tipo"]][i] += n
        totales[fila["tipo"]] += n

    clicks, leads, ventas = (
        totales[TipoEvento.CLICK],
        totales[TipoEvento.LEAD],
        totales[TipoEvento.VENTA],
    )

    creditos: dict[str, dict[str, Any]] = {}
    top_socios: dict[tuple[Any, str], Decimal] = defaultdict(lambda: CERO)
    top_pubs: dict[tuple[Any, str], Decimal] = defaultdict(lambda: CERO)
    for nombre, modelo in (("comisiones", Comision), ("recompensas", Recompensa)):
        filas = filas_dinero(
            modelo,
            alcance=alcance,
            campos=("estado", "moneda", "socio_id", "publicacion_id"),
            **filtros,
        )
        creditos[nombre] = _resumen_creditos(filas)
        # Money rankings: reverted credits and credits without a currency are worth nothing.
        for fila in filas:
            if fila["estado"] == EstadoCredito.REVERTIDA or not fila["moneda"]:
                continue
            top_socios[(fila["socio_id"], fila["moneda"])] += fila["monto"] or CERO
            if fila["publicacion_id"] is not None:
                top_pubs[(fila["publicacion_id"], fila["moneda"])] += fila["monto"] or CERO

    nombres_socios = dict(
        Socio.objects.filter(id__in={k[0] for k in top_socios}).values_list("id", "nombre")
    )
    pubs = {
        p.id: p
        for p in Publicacion.objects.filter(id__in={k[0] for k in top_pubs}).only(
            "id", "codigo", "titulo"
        )
    }

    pagos = dict.fromkeys(EstadoPago.values, 0)
    for estado, n in pagos_reporte(alcance=alcance).values_list("estado").annotate(n=Count("id")):
        pagos[estado] = n

    return {
        "desde": desde,
        "hasta": hasta,
        "dias": dias,
        "eventos_por_dia": por_tipo,
        "eventos_totales": totales,
        "embudo": {
            "click": clicks,
            "lead": leads,
            "venta": ventas,
            "tasa_click_lead": _tasa(leads, clicks),
            "tasa_lead_venta": _tasa(ventas, leads),
            "tasa_click_venta": _tasa(ventas, clicks),
        },
        "creditos": creditos,
        "top_socios": [
            {"socio_id": s, "nombre": nombres_socios.get(s, str(s)), "moneda": m, "monto": t}
            for (s, m), t in sorted(top_socios.items(), key=lambda kv: kv[1], reverse=True)[:TOP_N]
        ],
        "top_publicaciones": [
            {
                "publicacion_id": p,
                "etiqueta": str(pubs[p]) if p in pubs else str(p),
                "codigo": pubs[p].codigo if p in pubs else "",
                "moneda": m,
                "monto": t,
            }
            for (p, m), t in sorted(top_pubs.items(), key=lambda kv: kv[1], reverse=True)[:TOP_N]
        ],
        "latencia_atribucion": _latencia_atribucion(eventos),
        "pagos": pagos,
    }


__all__ = [
    "INTERVALOS",
    "clave_visitante",
    "creditos_reporte",
    "eventos_reporte",
    "filas_diarias",
    "filas_dinero",
    "filas_eventos",
    "inicio_dia",
    "pagos_reporte",
    "periodos",
    "publicaciones_reporte",
    "rendimiento_publicaciones",
    "resumen",
    "serie",
    "tablero",
]
