"""The building blocks of the reports: scoped querysets and the rows that add up to a period.

`eventos_reporte`, `creditos_reporte` and `pagos_reporte` are the rows a caller may count
(`alpespartners.alcance`), filtered by marca, socio and period. `filas_eventos` and
`filas_dinero` return rows that add up to a period's events and money: whole UTC days before
today from the daily rollup (`ResumenDiario`, `ResumenDinero`, only for days whose
`DiaResumido` row says they are current; see `resumen_diario.py`), the rest live from the
events and credits, by the same grouping (`filas_diarias`), so both paths count alike. Live
queries lean on the denormalised `Evento.socio` / `Evento.marca` and the indexes
`evento_socio_fecha_idx`, `evento_marca_fecha_idx`, `evento_pub_fecha_idx` and
`evento_fecha_idx`; credits (not rolled up row by row: their estado changes for weeks) join
their event only when a marca or period filter needs it. Definitions: `selectors.py`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Collate, NullIf, TruncDate

from alpespartners import alcance as acceso
from alpespartners.alcance import Alcance
from comision_recompensa.models import (
    Comision,
    DiaResumido,
    EstadoCredito,
    Pago,
    Recompensa,
    ResumenDiario,
    ResumenDinero,
    ResumenPublicacion,
)
from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento

DESCARTADO = Q(estado_atribucion=EstadoAtribucion.DESCARTADO)

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


def unicos(filtro: Q) -> dict[str, Any]:
    """Aggregates whose sum is the unique visitors among the rows matching `filtro`."""
    return {
        "_unicos_con_clave": Count(clave_visitante(), distinct=True, filter=filtro),
        "_unicos_anonimos": Count("tipo", filter=filtro & _CLICK_ANONIMO),
    }


def suma_unicos(fila: dict[str, Any]) -> int:
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
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> QuerySet[Pago]:
    """Pagos visible to `alcance`: staff all, a partner its own, a brand user its programmes'
    (a Pago is per socio, marca and moneda; legacy Pagos without a marca mixed brands and are
    not shown to brands). The period bounds `creado_en`."""
    qs = acceso.filtrar(Pago.objects.all(), acceso.q_pagos(alcance))
    if marca_id is not None:
        qs = qs.filter(marca_id=marca_id)
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
    vivo = ~DESCARTADO
    filas = (
        eventos.order_by()
        .annotate(dia=TruncDate("ocurrido_en", tzinfo=dt.UTC))
        .values("dia", "socio_id", "marca_id", "tipo")
        .annotate(
            eventos=Count("tipo", filter=vivo),
            descartados=Count("tipo", filter=DESCARTADO),
            **unicos(Q(tipo=TipoEvento.CLICK) & vivo),
        )
    )
    return [
        {
            "dia": como_fecha(f["dia"]),
            "socio_id": f["socio_id"],
            "marca_id": f["marca_id"],
            "tipo": f["tipo"],
            "eventos": int(f["eventos"] or 0),
            "descartados": int(f["descartados"] or 0),
            "clicks_unicos": suma_unicos(dict(f)),
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


def _en_rachas(rachas: list[tuple[dt.date, dt.date]]) -> Q:
    """Rollup rows of the summarised runs of days."""
    filtro = Q(pk__in=[])
    for primero, ultimo in rachas:
        filtro |= Q(dia__gte=primero, dia__lte=ultimo)
    return filtro


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
        resumidas = (
            qs.filter(_en_rachas(rachas))
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


# Fields of a credit row as the rollup names them → as the live credit query reaches them
# (`dia`, the UTC day of the credit's event, is annotated on the live query).
_CAMPOS_CREDITO = {
    "dia": "dia",
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
    live (see `filas_eventos`). `campos` ⊆ dia, estado, moneda, socio_id, marca_id,
    publicacion_id. Several rows may share the same `campos`: callers add them up."""
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
        filas += (
            qs.filter(_en_rachas(rachas))
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
        if "dia" in campos:
            creditos = creditos.annotate(dia=TruncDate("evento__ocurrido_en", tzinfo=dt.UTC))
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


def filas_clicks_publicacion(eventos: QuerySet[Evento]) -> list[dict[str, Any]]:
    """Per (publicacion, socio, marca) of `eventos`: live clicks and unique visitors (per day:
    pass one day's events, or add the rows up per day). The grain of `ResumenPublicacion`. One
    aggregate query."""
    clicks = Q(tipo=TipoEvento.CLICK) & ~DESCARTADO
    filas = (
        eventos.filter(publicacion_id__isnull=False, tipo=TipoEvento.CLICK)
        .order_by()
        .annotate(dia=TruncDate("ocurrido_en", tzinfo=dt.UTC))
        .values("dia", "publicacion_id", "socio_id", "marca_id")
        .annotate(clicks=Count("tipo", filter=clicks), **unicos(clicks))
    )
    return [
        {
            "dia": como_fecha(f["dia"]),
            "publicacion_id": f["publicacion_id"],
            "socio_id": f["socio_id"],
            "marca_id": f["marca_id"],
            "clicks": int(f["clicks"] or 0),
            "clicks_unicos": suma_unicos(dict(f)),
        }
        for f in filas
    ]


def filas_publicaciones(
    *,
    alcance: Alcance,
    publicacion_ids: list[uuid.UUID],
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Rows (publicacion_id, clicks, clicks_unicos) adding up to the clicks on these
    publicaciones' links visible to `alcance` in the period: summarised days from
    `ResumenPublicacion` (one query), the rest live through `evento_pub_fecha_idx`, limited to
    these publicaciones (one query per stretch not summarised). Callers add rows up."""
    if not publicacion_ids:
        return []
    rachas = _rachas(_dias_resumidos(desde, hasta))
    filas: list[dict[str, Any]] = []
    if rachas:
        qs = acceso.filtrar(
            ResumenPublicacion.objects.filter(publicacion_id__in=publicacion_ids),
            acceso.q_eventos(alcance),
        )
        filas += (
            qs.filter(_en_rachas(rachas))
            .order_by()
            .values("publicacion_id")
            .annotate(clicks=Sum("clicks"), clicks_unicos=Sum("clicks_unicos"))
        )
    for inicio, fin in _tramos_vivos(desde, hasta, rachas):
        eventos = eventos_reporte(alcance=alcance, desde=inicio, hasta=fin).filter(
            publicacion_id__in=publicacion_ids
        )
        filas += filas_clicks_publicacion(eventos)
    return filas


def como_fecha(valor: dt.datetime | dt.date) -> dt.date:
    return valor.date() if isinstance(valor, dt.datetime) else valor
