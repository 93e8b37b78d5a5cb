"""Shared pytest set-up: the suite's rules (clock, CI, skip summary, parallel runs) and the
users of each kind of access with authenticated API clients."""

from __future__ import annotations

import os
import uuid

# Unit tests run Celery tasks eagerly and without rate limits; integration tests start real
# processes with their own environment, and rate-limit tests override the settings they test.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("RATE_LIMIT_TRACKING", "0")
os.environ.setdefault("RATE_LIMIT_INGESTA", "0")
os.environ.setdefault("RATE_LIMIT_SOLICITUDES", "0")

import pytest
from rest_framework.test import APIClient

from eventos_medios.tests.factories import (
    MarcaFactory,
    SocioFactory,
    StaffFactory,
    UsuarioFactory,
)

# The clock (ALPES_RELOJ), CI strictness and the skip summary: tests/complemento_pytest.py.
pytest_plugins = ["pytester", "tests.complemento_pytest"]

# Parallel runs (pytest-xdist): each worker gets its own test database from pytest-django
# (test_<name>_gw<N>) and, here, its own Redis key namespace.
TRABAJADOR = os.environ.get("PYTEST_XDIST_WORKER", "")


def _prefijo_redis() -> str:
    """A Redis key namespace for this test process: workers (and concurrent runs) sharing one
    Redis database never see each other's rate-limit counters, duplicate claims or caches."""
    return f"pruebas-{TRABAJADOR or 'solo'}-{uuid.uuid4().hex[:6]}:"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `postgres` (row locks, SKIP LOCKED, concurrent connections) need it."""
    from django.conf import settings

    if item.get_closest_marker("postgres") and not settings.USANDO_POSTGRES:
        pytest.skip("needs PostgreSQL (row locks, concurrent connections): set DATABASE_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In parallel runs start the slow tests (real processes, the browser) first, so that the
    quick ones fill the gaps instead of one worker finishing alone with a long test."""
    if not TRABAJADOR:
        return
    lentos = ("integration", "faults", "browser")
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in lentos))


@pytest.fixture(autouse=True, scope="session")
def _tareas_en_linea_y_sin_limites():
    """Settings may be imported before this module sets the environment (pytest-django loads
    them early), so enforce the unit-test defaults on the live objects as well."""
    from django.conf import settings
    from django.test.utils import override_settings

    from alpespartners.celery import app

    app.conf.task_always_eager = True
    ajustes_cache = {alias: dict(conf) for alias, conf in settings.CACHES.items()}
    if settings.REDIS_URL:
        ajustes_cache["default"]["KEY_PREFIX"] = _prefijo_redis()
    # A cheap hasher: each test user otherwise costs ~1.5 s of PBKDF2 on this kind of machine.
    rapido = override_settings(
        CELERY_TASK_ALWAYS_EAGER=True,
        RATE_LIMIT_TRACKING="0",
        RATE_LIMIT_INGESTA="0",
        RATE_LIMIT_SOLICITUDES="0",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        CACHES=ajustes_cache,
    )
    rapido.enable()
    yield
    _borrar_claves_redis(ajustes_cache["default"].get("KEY_PREFIX", ""))
    rapido.disable()


# Keys issued to test users in this process: the service keeps only hashes, and issuing a key
# revokes the previous one, so later clients of the same user reuse the key while it is live.
_claves_emitidas: dict[object, str] = {}


def token_para(usuario) -> str:
    """The user's API key: the one issued earlier in this test if still valid, else a new one."""
    from eventos_medios.models import TokenApi
    from eventos_medios.services.tokens import token_emitir

    clave = _claves_emitidas.get(usuario.pk)
    if (
        clave is None
        or not TokenApi.objects.filter(usuario_id=usuario.pk, hash=TokenApi.hash_de(clave)).exists()
    ):
        clave = token_emitir(usuario=usuario)
        _claves_emitidas[usuario.pk] = clave
    return clave


def _borrar_claves_redis(prefijo: str) -> None:
    """Drop this test process's keys from the shared Redis at the end of the session."""
    from django.conf import settings

    if not (settings.REDIS_URL and prefijo):
        return
    import redis

    cliente = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        claves = list(cliente.scan_iter(match=f"{prefijo}*", count=1000))
        for i in range(0, len(claves), 500):
            cliente.delete(*claves[i : i + 500])
    except redis.RedisError:
        pass  # nothing to tidy when Redis is gone
    finally:
        cliente.close()


def cliente_para(usuario) -> APIClient:
    """An APIClient authenticated with the user's API key (see `token_para`)."""
    cliente = APIClient()
    cliente.credentials(HTTP_AUTHORIZATION=f"Token {token_para(usuario)}")
    return cliente


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def cliente_staff(staff) -> APIClient:
    return cliente_para(staff)


@pytest.fixture
def marca(db):
    return MarcaFactory()


@pytest.fixture
def usuario_marca(marca):
    usuario = UsuarioFactory()
    marca.usuarios.add(usuario)
    return usuario


@pytest.fixture
def cliente_marca(usuario_marca) -> APIClient:
    return cliente_para(usuario_marca)


@pytest.fixture
def socio(db):
    return SocioFactory(usuario=UsuarioFactory())


@pytest.fixture
def cliente_socio(socio) -> APIClient:
    return cliente_para(socio.usuario)


@pytest.fixture
def cliente_anonimo() -> APIClient:
    return APIClient()
