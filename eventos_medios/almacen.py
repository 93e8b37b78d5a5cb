"""The events table's one owner: every SQL and ORM write on `Evento` lives here.

- `evento_click_insertar`: the tracking link's single INSERT (hot path, autocommit);
- `eventos_insertar`: ingestion's batch write (COPY + ``INSERT … SELECT`` on PostgreSQL,
  multi-row ``INSERT … VALUES`` elsewhere), idempotent per row;
- `eventos_pendientes_reclamar`: attribution's work queue, ``FOR UPDATE SKIP LOCKED``;
- `eventos_marcar_atribucion`: attribution's result (state, partner, time), set-based;
- `touchpoints_leer`, `conversiones_reatribuibles`, `evento_bloquear`,
  `eventos_pendientes_ids`: the set-based reads and the row lock the money app needs, so it
  never writes (or hand-writes SQL against) this table itself.

Column lists come from `Evento._meta` (`COLUMNAS`, `CAMPOS_PUBLICOS`); the insert paths name
what they write column by column and what they leave to the default, and a test fails when a
column of the model is neither (`eventos_medios/tests/test_almacen.py`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q

from alpespartners.sql import arreglo_pg
from eventos_medios.models import (
    TIPOS_CONVERSION,
    TIPOS_TOUCHPOINT,
    EstadoAtribucion,
    Evento,
    OrigenVisitante,
    TipoEvento,
)

T = TypeVar("T")

TABLA = Evento._meta.db_table
COLUMNAS: tuple[str, ...] = tuple(str(f.column) for f in Evento._meta.concrete_fields)
"""Every column of the table, in model order."""

CAMPOS_PRIVADOS = frozenset({"ip_hash", "huella"})
"""Columns that never leave the app (API, exports): a salted IP hash and a body hash. A new
column is public unless it is listed here."""

CAMPOS_PUBLICOS: tuple[str, ...] = tuple(c for c in COLUMNAS if c not in CAMPOS_PRIVADOS)
"""The columns of the API representation of an event, in model order."""

NOMBRES_API = {"marca_id": "marca", "publicacion_id": "publicacion", "socio_id": "socio"}
CAMPOS_API: tuple[str, ...] = tuple(NOMBRES_API.get(c, c) for c in CAMPOS_PUBLICOS)
"""The field names of an event in the API (`EventoSerializer`, `evento_representar`)."""


def columnas_validar(campos: Iterable[str]) -> tuple[str, ...]:
    """`campos` as a tuple, after checking each is a column (a projection that drifted from
    the model fails here, at import time of its module, not in a query)."""
    campos = tuple(campos)
    desconocidos = [c for c in campos if c not in COLUMNAS]
    if desconocidos:
        raise LookupError(f"Not columns of {TABLA}: {', '.join(desconocidos)}")
    return campos


# --- Statements that skip the connection health check ----------------------------------------
def sentencia_optimista(hacer: Callable[[], T]) -> T:
    """Run `hacer` (ONE idempotent autocommit statement) skipping the connection health check.

    With CONN_HEALTH_CHECKS Django sends a `SELECT 1` before the first query of each request
    that reuses a pooled connection: a round trip per request on the hot paths. Here the
    statement itself is the check: if the reused connection turns out dead, it is closed and the
    statement retried once on a fresh one (so a database restart between requests costs no 503,
    as with the health check). Only for idempotent statements (an INSERT … ON CONFLICT DO NOTHING
    with a fixed id): a commit whose acknowledgement was lost is not written twice. Inside a
    transaction, or when the connection was already checked or opened in this request, it just
    runs `hacer`.
    """
    conexion: Any = connection  # health_check_* are not in the type stubs
    reusada = (
        getattr(conexion, "health_check_enabled", False)
        and conexion.connection is not None
        and not conexion.health_check_done
        and conexion.get_autocommit()
    )
    if not reusada:
        return hacer()
    conexion.health_check_done = True
    try:
        return hacer()
    except (OperationalError, InterfaceError):
        connection.close()
        return hacer()


def _uuid_db(valor: uuid.UUID | None, nativo: bool) -> uuid.UUID | str | None:
    if valor is None:
        return None
    return valor if nativo else valor.hex


# --- The tracking link's click -----------------------------------------------------------------
# What the click INSERT writes: a parameter, or a constant inlined in the SQL. A link click
# has no visitante_id: `apc_vid` is only a hint kept in `metadata` (PRODUCT.md §8), and the
# brand binds the click to a visitor later (`eventos_insertar`).
_VALORES_CLICK: dict[str, str] = {
    "id": "%s",
    "tipo": f"'{TipoEvento.CLICK.value}'",
    "ocurrido_en": "%s",
    "recibido_en": "%s",
    "marca_id": "%s",
    "publicacion_id": "%s",
    "socio_id": "%s",
    "visitante_id": "''",
    "codigo_referido": "''",
    "moneda": "''",
    "referencia_externa": "''",
    "metadata": "%s",  # JSON text: `{}`, the apc_vid hint, the link's sub1…sub5
    "ip_hash": "%s",
    "user_agent": "%s",
    "estado_atribucion": "%s",
    "motivo_descarte": "%s",
    "huella": "''",
    "origen_visitante": "''",
    "motivo_atribucion": "''",
}
CLICK_SIN_VALOR = frozenset({"click_id", "valor", "atribuido_en"})
"""Columns a tracking click leaves NULL."""
_COLUMNAS_CLICK = tuple(c for c in COLUMNAS if c in _VALORES_CLICK)
_PARAMETROS_CLICK = itemgetter(*(c for c in _COLUMNAS_CLICK if _VALORES_CLICK[c] == "%s"))


def _sql_click(jsonb: bool) -> str:
    valores = {**_VALORES_CLICK, "metadata": "%s::jsonb"} if jsonb else _VALORES_CLICK
    return (
        f"INSERT INTO {TABLA} ({', '.join(_COLUMNAS_CLICK)}) "
        f"VALUES ({', '.join(valores[c] for c in _COLUMNAS_CLICK)}) "
        "ON CONFLICT DO NOTHING"  # idempotent by id, so a retry on a fresh connection is safe
    )


_SQL_CLICK = {True: _sql_click(True), False: _sql_click(False)}


def evento_click_insertar(
    *,
    evento_id: uuid.UUID,
    momento: dt.datetime,
    marca_id: uuid.UUID | None,
    publicacion_id: uuid.UUID,
    socio_id: uuid.UUID | None,
    ip_hash: str,
    user_agent: str,
    estado: str,
    motivo_descarte: str,
    metadata_json: str = "{}",
) -> None:
    """Store one tracking click with a single committed INSERT (autocommit, no model instance,
    no `SELECT 1` health check first: the INSERT is the check, retried once if dead).
    `metadata_json`: the click's metadata as JSON text (the `apc_vid` hint and the link's
    `sub1`…`sub5`, or `{}`)."""
    nativo = connection.features.has_native_uuid_field
    cuando = connection.ops.adapt_datetimefield_value(momento)
    valores = {
        "id": _uuid_db(evento_id, nativo),
        "ocurrido_en": cuando,
        "recibido_en": cuando,
        "marca_id": _uuid_db(marca_id, nativo),
        "publicacion_id": _uuid_db(publicacion_id, nativo),
        "socio_id": _uuid_db(socio_id, nativo),
        "ip_hash": ip_hash,
        "user_agent": user_agent,
        "estado_atribucion": estado,
        "motivo_descarte": motivo_descarte,
        "metadata": metadata_json,
    }
    sentencia = _SQL_CLICK[connection.vendor == "postgresql"]

    def insertar() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sentencia, _PARAMETROS_CLICK(valores))

    sentencia_optimista(insertar)


# --- Ingestion (one event or a batch) ----------------------------------------------------------
INGESTA_SIN_VALOR = frozenset({"atribuido_en"})
"""Columns ingestion leaves NULL (set by attribution)."""
COLUMNAS_INGESTA: tuple[str, ...] = tuple(c for c in COLUMNAS if c not in INGESTA_SIN_VALOR)
_FILA_INGESTA = itemgetter(*COLUMNAS_INGESTA)
_TABLA_TEMPORAL = "apc_evento_lote"


def fila_ingesta(item: Mapping[str, Any], recibido_en: Any, nativo_uuid: bool) -> dict[str, Any]:
    """The column values of one ingested event, adapted for the driver.

    `item` is ingestion's validated event: id, tipo, ocurrido_en, marca_id, publicacion_id,
    socio_id, click_id, visitante_id, codigo_referido, valor, moneda, referencia_externa,
    `_metadata_json` (bytes) and huella. `recibido_en` is already adapted."""
    return {
        "id": _uuid_db(item["id"], nativo_uuid),
        "tipo": item["tipo"],
        "ocurrido_en": connection.ops.adapt_datetimefield_value(item["ocurrido_en"]),
        "recibido_en": recibido_en,
        "marca_id": _uuid_db(item["marca_id"], nativo_uuid),
        "publicacion_id": _uuid_db(item["publicacion_id"], nativo_uuid),
        "socio_id": _uuid_db(item["socio_id"], nativo_uuid),
        "click_id": _uuid_db(item["click_id"], nativo_uuid),
        "visitante_id": item["visitante_id"],
        "codigo_referido": item["codigo_referido"],
        "valor": item["valor"],
        "moneda": item["moneda"],
        "referencia_externa": item["referencia_externa"],
        "metadata": item["_metadata_json"].decode(),
        "ip_hash": "",
        "user_agent": "",
        "estado_atribucion": EstadoAtribucion.PENDIENTE.value,
        "motivo_descarte": "",
        "huella": item["huella"],
        # Ingestion is a brand's back-end (a marca token) or staff: it vouches for the visitor.
        "origen_visitante": OrigenVisitante.MARCA.value if item["visitante_id"] else "",
        "motivo_atribucion": "",
    }


def eventos_insertar(
    items: Sequence[Mapping[str, Any]], recibido_en: dt.datetime
) -> set[uuid.UUID]:
    """Write ingested events (see `fila_ingesta`), skipping any row that hits a unique key;
    return the ids actually inserted.

    An inserted event that carries both a `click_id` and a `visitante_id` binds that click to
    the visitor (PRODUCT.md §8): the click row takes the visitante_id with origen `marca`,
    unless a brand event bound it already (the first binding wins; within a batch, the
    earliest event). Attribution then finds bound clicks with the same index-only look-up as
    any other touchpoint, and the binding costs nothing to events that do not bind.

    PostgreSQL, several rows: COPY into a session temp table, then one
    `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id` (COPY is C-fast; a 19,000-parameter
    VALUES list spends its time in client-side query parsing), then one set-based UPDATE of
    the bound clicks. PostgreSQL, one row: a single statement, the binding being a
    data-modifying CTE of the INSERT (still one autocommit round trip). Otherwise: multi-row
    `INSERT … VALUES … ON CONFLICT DO NOTHING RETURNING id`, split only by the database's
    bound-parameter limit (SQLite), and the binding UPDATE in the same transaction. Must run
    inside a transaction when more than one statement is issued (the batch service does).
    """
    nativo_uuid = connection.features.has_native_uuid_field
    recibido_db = connection.ops.adapt_datetimefield_value(recibido_en)
    # A stable order (by id) keeps concurrent overlapping batches from deadlocking.
    filas = [
        _FILA_INGESTA(fila_ingesta(it, recibido_db, nativo_uuid))
        for it in sorted(items, key=lambda it: it["id"])
    ]
    enlazan = any(it["click_id"] and it["visitante_id"] and it["marca_id"] for it in items)
    if connection.vendor == "postgresql":
        if len(filas) == 1:
            return _insertar_valores(filas, enlazar=enlazan)
        insertados = _insertar_copiando(filas)
        if enlazan:
            clicks_enlazar(_enlaces(items, insertados))
        return insertados
    if not enlazan:
        return _insertar_valores(filas)
    with transaction.atomic():
        insertados = _insertar_valores(filas)
        clicks_enlazar(_enlaces(items, insertados))
    return insertados


def _enlaces(
    items: Sequence[Mapping[str, Any]], insertados: set[uuid.UUID]
) -> list[tuple[uuid.UUID, str, uuid.UUID]]:
    """(click_id, visitante_id, marca_id) of the inserted items that bind a click, the earliest
    (ocurrido_en, id) binding of each click only, in click id order (a stable lock order)."""
    primeros: dict[uuid.UUID, tuple[uuid.UUID, str, uuid.UUID]] = {}
    candidatos = [
        it
        for it in items
        if it["id"] in insertados and it["click_id"] and it["visitante_id"] and it["marca_id"]
    ]
    for it in sorted(candidatos, key=lambda it: (it["ocurrido_en"], it["id"])):
        primeros.setdefault(it["click_id"], (it["click_id"], it["visitante_id"], it["marca_id"]))
    return [primeros[c] for c in sorted(primeros)]


_SQL_ENLACE_CTE = (
    "WITH nuevos AS ({insert} RETURNING id, click_id, visitante_id, marca_id), "
    f"enlace AS (UPDATE {TABLA} AS c SET visitante_id = n.visitante_id, "
    f"origen_visitante = '{OrigenVisitante.MARCA.value}' FROM nuevos AS n "
    "WHERE c.id = n.click_id AND n.visitante_id <> '' AND c.tipo = 'click' "
    f"AND c.marca_id = n.marca_id AND c.origen_visitante <> '{OrigenVisitante.MARCA.value}') "
    "SELECT id FROM nuevos"
)


def clicks_enlazar(enlaces: Sequence[tuple[uuid.UUID, str, uuid.UUID]]) -> None:
    """Bind clicks to visitors, set-based: each (click_id, visitante_id, marca_id) sets the
    click's visitante_id with origen `marca`, unless the click is not of that marca or a brand
    already bound it (the first binding wins). Run it in the transaction of the events that
    carry the bindings."""
    if not enlaces:
        return
    marca = OrigenVisitante.MARCA.value
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLA} AS c SET visitante_id = x.visitante, origen_visitante = '{marca}' "
                "FROM unnest(%s::uuid[], %s::text[], %s::uuid[]) AS x(click, visitante, marca) "
                "WHERE c.id = x.click AND c.tipo = 'click' AND c.marca_id = x.marca "
                f"AND c.origen_visitante <> '{marca}'",
                [
                    arreglo_pg(e[0] for e in enlaces),
                    arreglo_pg(e[1] for e in enlaces),
                    arreglo_pg(e[2] for e in enlaces),
                ],
            )
        return
    for click_id, visitante_id, marca_id in enlaces:
        Evento.objects.filter(id=click_id, tipo=TipoEvento.CLICK, marca_id=marca_id).exclude(
            origen_visitante=marca
        ).update(visitante_id=visitante_id, origen_visitante=marca)


def _insertar_copiando(filas: list[tuple[Any, ...]]) -> set[uuid.UUID]:
    columnas = ", ".join(COLUMNAS_INGESTA)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_TABLA_TEMPORAL} "
            f"(LIKE {TABLA} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy(f"COPY {_TABLA_TEMPORAL} ({columnas}) FROM STDIN") as copia:
            for fila in filas:
                copia.write_row(fila)
        cursor.execute(
            f"INSERT INTO {TABLA} ({columnas}) "
            f"SELECT {columnas} FROM {_TABLA_TEMPORAL} ORDER BY id "
            "ON CONFLICT DO NOTHING RETURNING id"
        )
        insertados = {fila[0] for fila in cursor.fetchall()}
        cursor.execute(f"DELETE FROM {_TABLA_TEMPORAL}")
    return insertados


def _insertar_valores(filas: list[tuple[Any, ...]], *, enlazar: bool = False) -> set[uuid.UUID]:
    """Multi-row INSERT … VALUES; `enlazar` (PostgreSQL, one row) binds its click in the same
    statement (`_SQL_ENLACE_CTE`)."""
    es_pg = connection.vendor == "postgresql"
    marcador = (
        "("
        + ", ".join("%s::jsonb" if es_pg and c == "metadata" else "%s" for c in COLUMNAS_INGESTA)
        + ")"
    )
    max_params = connection.features.max_query_params or 60000
    por_sentencia = max(1, min(1000, max_params // len(COLUMNAS_INGESTA)))
    insertados: set[uuid.UUID] = set()
    with connection.cursor() as cursor:
        for inicio in range(0, len(filas), por_sentencia):
            trozo = filas[inicio : inicio + por_sentencia]
            insert = (
                f"INSERT INTO {TABLA} ({', '.join(COLUMNAS_INGESTA)}) VALUES "
                + ", ".join([marcador] * len(trozo))
                + " ON CONFLICT DO NOTHING"
            )
            sentencia = (
                _SQL_ENLACE_CTE.format(insert=insert)
                if enlazar and len(trozo) == 1
                else insert + " RETURNING id"
            )
            cursor.execute(sentencia, [valor for fila in trozo for valor in fila])
            for (valor,) in cursor.fetchall():
                insertados.add(valor if isinstance(valor, uuid.UUID) else uuid.UUID(str(valor)))
    return insertados


# --- Attribution's work queue and result -------------------------------------------------------
def eventos_pendientes_reclamar(
    *, campos: Sequence[str], evento_ids: Iterable[Any] | None, lote: int
) -> list[tuple[Any, ...]]:
    """Claim up to `lote` `pendiente` events (oldest received first) for the current
    transaction, skipping rows another worker holds; return their `campos` as tuples.

    PostgreSQL: one raw ``SELECT … FOR UPDATE SKIP LOCKED`` (ids as one array parameter, rows
    as tuples): building a ``IN (%s, …)`` of thousands of placeholders cost more than the
    query. Elsewhere (SQLite serialises writers) a plain ordered read.
    """
    columnas = ", ".join(columnas_validar(campos))
    if connection.vendor == "postgresql":
        parametros: list[Any] = []
        filtro = ""
        if evento_ids is not None:
            filtro = "AND id = ANY(%s::uuid[])"
            parametros.append(arreglo_pg(evento_ids))
        parametros.append(lote)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columnas} FROM {TABLA} "
                f"WHERE estado_atribucion = 'pendiente' {filtro} "
                "ORDER BY recibido_en, id LIMIT %s FOR UPDATE SKIP LOCKED",
                parametros,
            )
            return list(cursor.fetchall())
    qs = Evento.objects.filter(estado_atribucion=EstadoAtribucion.PENDIENTE)
    if evento_ids is not None:
        qs = qs.filter(id__in=list(evento_ids))
    return list(qs.order_by("recibido_en", "id").values_list(*campos)[:lote])


def eventos_pendientes_ids(*, recibidos_antes: dt.datetime, limite: int) -> list[uuid.UUID]:
    """Ids of up to `limite` events still `pendiente` that were received before
    `recibidos_antes`, oldest first (the attribution sweep)."""
    return list(
        Evento.objects.filter(
            estado_atribucion=EstadoAtribucion.PENDIENTE, recibido_en__lt=recibidos_antes
        )
        .order_by("recibido_en")
        .values_list("id", flat=True)[:limite]
    )


FilaAtribucion = (
    tuple[uuid.UUID, str, uuid.UUID | None] | tuple[uuid.UUID, str, uuid.UUID | None, str]
)
"""(evento_id, estado, socio_id[, motivo_atribucion]): what attribution decided for an event."""


def _motivo(fila: FilaAtribucion) -> str:
    return fila[3] if len(fila) > 3 else ""  # type: ignore[misc]


def eventos_marcar_atribucion(
    filas: Sequence[FilaAtribucion],
    *,
    ahora: dt.datetime,
    solo_pendientes: bool,
) -> None:
    """Set (estado_atribucion, socio, motivo_atribucion) of many events and stamp
    `atribuido_en`, set-based.

    `filas` are (evento_id, estado, socio_id) or (evento_id, estado, socio_id, motivo): the
    motivo (why nobody was credited, when a rule decided it) is written as given, '' when
    absent. Live attribution passes `solo_pendientes=True` (the conditional UPDATE is what
    makes a second attribution a no-op) and keeps a stored socio where the new one is None (a
    split never clears the socio of a direct credit); re-attribution writes the socio as
    given (a split or nobody clears it).
    PostgreSQL: one ``UPDATE … FROM unnest(…)``; elsewhere one UPDATE per (estado, socio,
    motivo).
    """
    if not filas:
        return
    if connection.vendor == "postgresql":
        socio = "COALESCE(x.socio, e.socio_id)" if solo_pendientes else "x.socio"
        condicion = " AND e.estado_atribucion = 'pendiente'" if solo_pendientes else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLA} AS e SET estado_atribucion = x.estado, "
                f"atribuido_en = %s, socio_id = {socio}, motivo_atribucion = x.motivo "
                "FROM unnest(%s::uuid[], %s::text[], %s::uuid[], %s::text[]) "
                "AS x(id, estado, socio, motivo) "
                f"WHERE e.id = x.id{condicion}",
                [
                    ahora,
                    arreglo_pg(f[0] for f in filas),
                    arreglo_pg(f[1] for f in filas),
                    arreglo_pg(f[2] for f in filas),
                    arreglo_pg(_motivo(f) for f in filas),
                ],
            )
        return
    _marcar_por_grupos(filas, ahora=ahora, solo_pendientes=solo_pendientes)


def _marcar_por_grupos(
    filas: Sequence[FilaAtribucion],
    *,
    ahora: dt.datetime,
    solo_pendientes: bool,
) -> None:
    grupos: dict[tuple[str, uuid.UUID | None, str], list[uuid.UUID]] = defaultdict(list)
    for fila in filas:
        grupos[(fila[1], fila[2], _motivo(fila))].append(fila[0])
    for (estado, socio_id, motivo), ids in grupos.items():
        for inicio in range(0, len(ids), 500):
            qs = Evento.objects.filter(id__in=ids[inicio : inicio + 500])
            campos: dict[str, Any] = {
                "estado_atribucion": estado,
                "atribuido_en": ahora,
                "motivo_atribucion": motivo,
            }
            if solo_pendientes:
                qs = qs.filter(estado_atribucion=EstadoAtribucion.PENDIENTE)
                if socio_id is not None:
                    campos["socio_id"] = socio_id
            else:
                campos["socio_id"] = socio_id
            qs.update(**campos)


# --- Touchpoints ----------------------------------------------------------------------------
VentanaVisitante = tuple[dt.datetime, dt.datetime]
CAMPOS_TOUCHPOINT = (
    "id",
    "marca_id",
    "visitante_id",
    "ocurrido_en",
    "tipo",
    "socio_id",
    "publicacion_id",
)


def touchpoints_leer(
    *, ventanas: Mapping[tuple[uuid.UUID, str], VentanaVisitante]
) -> list[tuple[Any, ...]]:
    """The valid touchpoints (`click`/`interaccion`, not discarded, with a partner) of each
    (marca, visitante) inside its [desde, hasta] window, as `CAMPOS_TOUCHPOINT` tuples.

    Only events whose visitante_id the brand vouches for (`origen_visitante = 'marca'`, PRODUCT.md
    §8): what a brand's back-end sent with that visitor, and tracking-link clicks a brand
    event bound to it. A visitante_id a tracking link supplied never makes a touchpoint.

    PostgreSQL: one query for the whole batch: each (marca, visitante) with its own time
    bounds is joined to `evento_touchpoint_marca_idx`, so the cost follows the batch, not the
    size of the marca's history (a marca-wide filter turned a long re-attribution quadratic).
    """
    if not ventanas:
        return []
    if connection.vendor != "postgresql":
        return _touchpoints_orm(ventanas)
    columnas = ", ".join(f"e.{c}" for c in columnas_validar(CAMPOS_TOUCHPOINT))
    tipos = ", ".join(f"'{t.value}'" for t in sorted(TIPOS_TOUCHPOINT))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columnas} FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[], "
            "%s::timestamptz[]) AS v(marca, visitante, desde, hasta) "
            f"JOIN {TABLA} AS e ON e.marca_id = v.marca "
            "AND e.visitante_id = v.visitante AND e.ocurrido_en >= v.desde "
            "AND e.ocurrido_en <= v.hasta "
            f"WHERE e.origen_visitante = '{OrigenVisitante.MARCA.value}' AND e.tipo IN ({tipos}) "
            "AND e.socio_id IS NOT NULL AND e.estado_atribucion <> 'descartado'",
            [
                arreglo_pg(m for m, _ in ventanas),
                arreglo_pg(v for _, v in ventanas),
                arreglo_pg(d for d, _ in ventanas.values()),
                arreglo_pg(h for _, h in ventanas.values()),
            ],
        )
        return list(cursor.fetchall())


def _touchpoints_orm(
    ventanas: Mapping[tuple[uuid.UUID, str], VentanaVisitante],
) -> list[tuple[Any, ...]]:
    """Portable version: one query over the batch's overall bounds, then each row is kept only
    inside its own (marca, visitante) window."""
    desde = min(d for d, _ in ventanas.values())
    hasta = max(h for _, h in ventanas.values())
    filas = (
        Evento.objects.filter(
            marca_id__in={m for m, _ in ventanas},
            visitante_id__in={v for _, v in ventanas},
            tipo__in=TIPOS_TOUCHPOINT,
            origen_visitante=OrigenVisitante.MARCA,
            ocurrido_en__gte=desde,
            ocurrido_en__lte=hasta,
            socio_id__isnull=False,
        )
        .exclude(estado_atribucion=EstadoAtribucion.DESCARTADO)
        .values_list(*CAMPOS_TOUCHPOINT)
    )
    return [
        fila
        for fila in filas
        if (ventana := ventanas.get((fila[1], fila[2]))) is not None
        and ventana[0] <= fila[3] <= ventana[1]
    ]


def eventos_leer(*, ids: Iterable[uuid.UUID], campos: Sequence[str]) -> list[tuple[Any, ...]]:
    """The `campos` of the events with these ids (any state), as tuples."""
    return list(Evento.objects.filter(id__in=list(ids)).values_list(*columnas_validar(campos)))


# --- Re-attribution and refunds ----------------------------------------------------------------
CursorEvento = tuple[dt.datetime, uuid.UUID] | None


def _conversiones_qs(
    *,
    desde: dt.datetime,
    hasta: dt.datetime,
    marca_id: uuid.UUID | None,
    cursor: CursorEvento,
) -> Any:
    qs = Evento.objects.filter(
        tipo__in=TIPOS_CONVERSION,
        ocurrido_en__gte=desde,
        ocurrido_en__lte=hasta,
        estado_atribucion__in=(EstadoAtribucion.ATRIBUIDO, EstadoAtribucion.SIN_ATRIBUCION),
    )
    if marca_id:
        qs = qs.filter(marca_id=marca_id)
    if cursor is not None:
        ocurrido, eid = cursor
        # `ocurrido_en >= cursor` bounds the index range scan; the OR alone was only a filter,
        # so every chunk re-read the run's earlier rows (quadratic over a long run).
        qs = qs.filter(ocurrido_en__gte=ocurrido).filter(
            Q(ocurrido_en__gt=ocurrido) | Q(id__gt=eid)
        )
    return qs


def conversiones_reatribuibles(
    *,
    campos: Sequence[str],
    desde: dt.datetime,
    hasta: dt.datetime,
    marca_id: uuid.UUID | None = None,
    cursor: CursorEvento = None,
    limite: int,
) -> list[tuple[Any, ...]]:
    """The next `limite` conversions already processed by attribution (`atribuido` or
    `sin_atribucion`) with `desde ≤ ocurrido_en ≤ hasta`, after `cursor` in (ocurrido_en, id)
    order (keyset pagination), as `campos` tuples."""
    qs = _conversiones_qs(desde=desde, hasta=hasta, marca_id=marca_id, cursor=cursor)
    return list(qs.order_by("ocurrido_en", "id").values_list(*columnas_validar(campos))[:limite])


def conversiones_reatribuibles_contar(
    *,
    desde: dt.datetime,
    hasta: dt.datetime,
    marca_id: uuid.UUID | None = None,
    cursor: CursorEvento = None,
) -> int:
    """How many conversions `conversiones_reatribuibles` would page through."""
    return int(_conversiones_qs(desde=desde, hasta=hasta, marca_id=marca_id, cursor=cursor).count())


def evento_bloquear(*, evento_id: uuid.UUID) -> str | None:
    """Lock one event's row for the current transaction (the first lock of a refund: event,
    then credits, then Pago) and return its `estado_atribucion` (None if it does not exist)."""
    return (
        Evento.objects.select_for_update()
        .filter(pk=evento_id)
        .values_list("estado_atribucion", flat=True)
        .first()
    )
