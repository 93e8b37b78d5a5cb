"""Set-based SQL helpers shared by both apps (PostgreSQL fast paths, portable fallbacks).

- `arreglo_pg`: a list as ONE PostgreSQL array literal parameter;
- `filas_insertar` / `filas_actualizar`: many rows of a model in one statement through
  ``jsonb_to_recordset`` (``bulk_create`` / ``bulk_update`` elsewhere).

They write whatever model they are given: which app may write which table is decided by the
callers (each app writes only its own tables; see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, models
from django.utils import timezone


def arreglo_pg(valores: Iterable[Any]) -> str:
    """The PostgreSQL array literal of `valores` (None → NULL; datetimes in ISO format), to be
    sent as ONE text parameter cast in SQL (``%s::uuid[]``). psycopg's client-side binding
    adapts a Python list element by element in pure Python, which cost more than the query."""
    partes = []
    for v in valores:
        if v is None:
            partes.append("NULL")
        elif isinstance(v, uuid.UUID):
            partes.append(str(v))
        else:
            texto = v.isoformat() if isinstance(v, dt.datetime) else str(v)
            partes.append('"' + texto.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(partes) + "}"


def _json_nativo(valor: Any) -> Any:
    if isinstance(valor, Decimal | uuid.UUID):
        return str(valor)
    raise TypeError(f"{type(valor).__name__} is not JSON serialisable")


def filas_insertar(
    modelo: type[models.Model],
    filas: Sequence[dict[str, Any]],
    *,
    ignorar_conflictos: bool,
    lote: int = 2000,
) -> None:
    """INSERT many rows given as {attname: value} (missing fields take their default).

    On PostgreSQL the rows travel as ONE jsonb parameter per `lote` rows, expanded by
    ``jsonb_to_recordset`` (``ON CONFLICT DO NOTHING`` when asked). Django's ``bulk_create``
    sends UNNEST arrays there, which the client-side-binding cursor escapes element by element
    in pure Python (measured ~100 rows/s for rows carrying a JSON explanation); one JSON
    document serialised by orjson costs a few microseconds per row. Elsewhere: ``bulk_create``.
    """
    if not filas:
        return
    if connection.vendor != "postgresql":
        modelo._default_manager.bulk_create(
            [modelo(**f) for f in filas], batch_size=500, ignore_conflicts=ignorar_conflictos
        )
        return
    campos = [f for f in modelo._meta.concrete_fields if not isinstance(f, models.AutoField)]
    ahora = timezone.now()
    fijos: dict[str, Any] = {}
    for f in campos:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fijos[f.attname] = ahora
        elif f.attname not in filas[0]:
            fijos[f.attname] = f.get_default()
    qn = connection.ops.quote_name
    columnas = ", ".join(qn(str(f.column)) for f in campos)
    tipos = ", ".join(f"{qn(str(f.column))} {f.db_type(connection)}" for f in campos)
    sql = (
        f"INSERT INTO {qn(modelo._meta.db_table)} ({columnas}) "
        f"SELECT {columnas} FROM jsonb_to_recordset(%s::jsonb) AS x({tipos})"
        + (" ON CONFLICT DO NOTHING" if ignorar_conflictos else "")
    )
    nombres = [(f.attname, f.column) for f in campos]
    with connection.cursor() as cursor:
        for inicio in range(0, len(filas), lote):
            documento = [
                {
                    columna: (fila[attname] if attname in fila else fijos[attname])
                    for attname, columna in nombres
                }
                for fila in filas[inicio : inicio + lote]
            ]
            cursor.execute(sql, [orjson.dumps(documento, default=_json_nativo).decode()])


def filas_actualizar(
    modelo: type[models.Model], filas: Sequence[dict[str, Any]], campos: Sequence[str]
) -> None:
    """UPDATE `campos` of many rows given as {attname: value} including the primary key.

    PostgreSQL: one ``UPDATE … FROM jsonb_to_recordset(…)`` per call; elsewhere ``bulk_update``.
    """
    if not filas:
        return
    meta = modelo._meta
    if connection.vendor != "postgresql":
        modelo._default_manager.bulk_update(
            [modelo(**f) for f in filas], list(campos), batch_size=500
        )
        return
    pk = meta.pk
    assert pk is not None
    # (attname, column, SQL type) of the key and of each updated field.
    columnas: list[tuple[str, str, str]] = [
        (pk.attname, str(pk.column), pk.db_type(connection) or "")
    ]
    for nombre in campos:
        f = meta.get_field(nombre)
        assert isinstance(f, models.Field)
        columnas.append((f.attname, str(f.column), f.db_type(connection) or ""))
    qn = connection.ops.quote_name
    tipos = ", ".join(f"{qn(col)} {tipo}" for _, col, tipo in columnas)
    asignaciones = ", ".join(f"{qn(col)} = x.{qn(col)}" for _, col, _ in columnas[1:])
    sql = (
        f"UPDATE {qn(meta.db_table)} AS t SET {asignaciones} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS x({tipos}) "
        f"WHERE t.{qn(str(pk.column))} = x.{qn(str(pk.column))}"
    )
    documento = [{col: fila[attname] for attname, col, _ in columnas} for fila in filas]
    with connection.cursor() as cursor:
        cursor.execute(sql, [orjson.dumps(documento, default=_json_nativo).decode()])
