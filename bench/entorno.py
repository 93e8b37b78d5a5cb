"""The benchmark's own database and the environment of every process it starts."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench.procesos import RAIZ

_PROTEGIDAS = {"postgres", "template0", "template1"}


class ErrorEntorno(RuntimeError):
    """The benchmark cannot run in this environment (message says why)."""


@dataclass(frozen=True)
class Entorno:
    database_url: str  # the bench's own database
    redis_url: str
    nombre_bd: str
    env: dict[str, str]  # environment of the app, the worker and the commands


def _con_bd(url: str, nombre: str) -> str:
    partes = urlsplit(url)
    return urlunsplit(partes._replace(path="/" + nombre))


def preparar() -> Entorno:
    """Check DATABASE_URL/REDIS_URL and build the environment of the benchmarked processes."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://", "pgsql://")):
        raise ErrorEntorno(
            "DATABASE_URL must point to PostgreSQL (e.g. postgres://user@127.0.0.1:5432/alpes) "
            "and REDIS_URL to Redis (e.g. redis://127.0.0.1:6379/1): the benchmark measures "
            "the production stack. The database named there is left untouched; the benchmark "
            "creates its own, `<name>_bench` (or BENCH_DATABASE_NAME)."
        )
    if not redis_url.startswith(("redis://", "rediss://")):
        raise ErrorEntorno("REDIS_URL must point to Redis (e.g. redis://127.0.0.1:6379/1).")
    original = urlsplit(database_url).path.lstrip("/") or "alpes"
    nombre = os.environ.get("BENCH_DATABASE_NAME") or f"{original}_bench"
    if nombre == original or nombre in _PROTEGIDAS:
        raise ErrorEntorno(
            f"refusing to drop database {nombre!r}: BENCH_DATABASE_NAME must name a database "
            "that only the benchmark uses (it is dropped and recreated at every run)."
        )
    url = _con_bd(database_url, nombre)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "IP_HASH_SALT": secrets.token_hex(16),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "RATE_LIMIT_TRACKING": "0",
        "RATE_LIMIT_INGESTA": "0",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_DB_REUSE_MAX": "1000",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "PAGOS_URL": "",
        # The load generator sends X-Forwarded-For as a load balancer would (distinct visitors).
        "NUM_PROXIES": "1",
        "PYTHONUNBUFFERED": "1",
    }
    pythonpath = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = f"{RAIZ}{os.pathsep}{pythonpath}" if pythonpath else str(RAIZ)
    return Entorno(database_url=url, redis_url=redis_url, nombre_bd=nombre, env=env)


def recrear_bd(entorno: Entorno) -> None:
    """Drop and recreate the bench database, then migrate it."""
    mantenimiento = _con_bd(entorno.database_url, "postgres")
    try:
        with psycopg.connect(mantenimiento, autocommit=True, connect_timeout=5) as con:
            nombre = sql.Identifier(entorno.nombre_bd)
            con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(nombre))
            con.execute(sql.SQL("CREATE DATABASE {}").format(nombre))
    except psycopg.OperationalError as exc:
        raise ErrorEntorno(f"cannot reach PostgreSQL at DATABASE_URL: {exc}") from None
    proc = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=RAIZ,
        env=entorno.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ErrorEntorno(f"migrate failed:\n{proc.stdout}\n{proc.stderr}")


def limpiar_prefijo(redis_url: str, prefijo: str) -> None:
    """Delete every Redis key of this run's namespace (queues, debounce keys, cache)."""
    import redis

    if not prefijo:
        return
    try:
        cliente = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        claves = list(cliente.scan_iter(match=prefijo + "*", count=1000))
        for i in range(0, len(claves), 500):
            cliente.delete(*claves[i : i + 500])
        cliente.close()
    except redis.RedisError:
        pass


def borrar_bd(entorno: Entorno, nombre: str) -> None:
    """Drop a throw-away database the benchmark created beside its own (best effort)."""
    if nombre in _PROTEGIDAS or nombre == entorno.nombre_bd:
        return
    mantenimiento = _con_bd(entorno.database_url, "postgres")
    try:
        with psycopg.connect(mantenimiento, autocommit=True, connect_timeout=5) as con:
            con.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(nombre))
            )
    except psycopg.Error:
        pass
