"""Exclusive locks for periodic work that must never run twice at once (the report rollup).

`cerrojo_exclusivo(nombre)` never waits: it yields True when this caller holds the lock and
False when someone else does, so a second run simply skips.

- PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on the default connection,
  released at the end. The database holds it, so it works across worker processes and hosts,
  and a worker that dies mid-run loses its connection and with it the lock: never a stale lock
  to clear by hand, and no TTL that could expire while a long run is still going.
- SQLite (the embedded mode: one process, eager Celery): a process-local lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator

from django.db import connection

__all__ = ["cerrojo_exclusivo"]

_locales: dict[str, threading.Lock] = {}
_locales_guardia = threading.Lock()


def _clave_pg(nombre: str) -> int:
    """A stable signed 64-bit key for `nombre` (advisory locks are keyed by bigint)."""
    return int.from_bytes(hashlib.sha256(nombre.encode()).digest()[:8], "big", signed=True)


def _soltar_pg(clave: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [clave])
    except Exception:  # noqa: BLE001 - a broken connection: closing it releases the lock
        if connection.get_autocommit():
            connection.close()


@contextlib.contextmanager
def cerrojo_exclusivo(nombre: str) -> Iterator[bool]:
    """Hold the lock `nombre` for the block if nobody else does; yields whether we hold it."""
    if connection.vendor == "postgresql":
        clave = _clave_pg(nombre)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [clave])
            obtenido = bool(cursor.fetchone()[0])
        try:
            yield obtenido
        finally:
            if obtenido:
                _soltar_pg(clave)
        return
    with _locales_guardia:
        cerrojo = _locales.setdefault(nombre, threading.Lock())
    obtenido = cerrojo.acquire(blocking=False)
    try:
        yield obtenido
    finally:
        if obtenido:
            cerrojo.release()
