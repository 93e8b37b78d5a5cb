"""Shared pytest fixtures: users of each kind of access and authenticated API clients."""

from __future__ import annotations

import os

# Unit tests run Celery tasks eagerly and without rate limits; integration tests start real
# processes with their own environment, and rate-limit tests override the settings they test.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("RATE_LIMIT_TRACKING", "0")
os.environ.setdefault("RATE_LIMIT_INGESTA", "0")

import pytest
from rest_framework.test import APIClient

from eventos_medios.tests.factories import (
    MarcaFactory,
    SocioFactory,
    StaffFactory,
    UsuarioFactory,
)


@pytest.fixture(autouse=True, scope="session")
def _tareas_en_linea_y_sin_limites():
    """Settings may be imported before this module sets the environment (pytest-django loads
    them early), so enforce the unit-test defaults on the live objects as well."""
    from django.test.utils import override_settings

    from alpespartners.celery import app

    app.conf.task_always_eager = True
    # A cheap hasher: each test user otherwise costs ~1.5 s of PBKDF2 on this kind of machine.
    rapido = override_settings(
        CELERY_TASK_ALWAYS_EAGER=True,
        RATE_LIMIT_TRACKING="0",
        RATE_LIMIT_INGESTA="0",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    rapido.enable()
    yield
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
