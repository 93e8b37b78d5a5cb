"""Rate limits through the cache (Redis in CI): 429 + Retry-After, "0" = off, fail open."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from alpespartners.api.ratelimit import (
    Limite,
    cache_reiniciar_cortacircuitos,
    limite_consumir,
    parse_limite,
)
from eventos_medios.models import Evento
from eventos_medios.tests.factories import PublicacionFactory

NAVEGADOR = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
# A TCP port with nothing listening: a real, unreachable Redis.
CACHE_CAIDA = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture(autouse=True)
def _cache_sana():
    cache_reiniciar_cortacircuitos()
    yield
    cache_reiniciar_cortacircuitos()


@pytest.mark.parametrize(
    ("texto", "esperado"),
    [
        ("0", None),
        ("", None),
        ("0/m", None),
        ("600/m", Limite(600, 60)),
        ("5/s", Limite(5, 1)),
        ("100/h", Limite(100, 3600)),
        ("10/min", Limite(10, 60)),
    ],
)
def test_parse_limite(texto, esperado):
    assert parse_limite(texto) == esperado


@pytest.mark.parametrize("texto", ["abc", "10/d", "-1/m", "10"])
def test_parse_limite_invalido(texto):
    with pytest.raises(ImproperlyConfigured):
        parse_limite(texto)


@pytest.mark.reloj  # fixed windows: a minute or hour boundary resets the count
def test_limite_consumir_cuenta_por_identidad():
    identidad = uuid.uuid4().hex
    limite = Limite(2, 60)
    assert limite_consumir(ambito="x", identidad=identidad, limite=limite) is None
    assert limite_consumir(ambito="x", identidad=identidad, limite=limite) is None
    espera = limite_consumir(ambito="x", identidad=identidad, limite=limite)
    assert espera is not None and 1 <= espera <= 60
    assert limite_consumir(ambito="x", identidad=uuid.uuid4().hex, limite=limite) is None


@pytest.mark.django_db
@pytest.mark.reloj  # fixed windows: a minute or hour boundary resets the count
def test_tracking_429_con_retry_after_por_ip():
    pub = PublicacionFactory()
    ip, otra_ip = f"198.51.100.{uuid.uuid4().int % 250}", "2001:db8::" + uuid.uuid4().hex[:4]
    cliente = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=NAVEGADOR)
    with override_settings(RATE_LIMIT_TRACKING="3/h"):
        codigos = [cliente.get(f"/t/{pub.codigo}").status_code for _ in range(4)]
        bloqueado = cliente.get(f"/t/{pub.codigo}")
        otro = Client(REMOTE_ADDR=otra_ip, HTTP_USER_AGENT=NAVEGADOR).get(f"/t/{pub.codigo}")
    assert codigos == [302, 302, 302, 429]
    assert bloqueado.status_code == 429
    assert 1 <= int(bloqueado["Retry-After"]) <= 3600
    assert otro.status_code == 302
    assert Evento.objects.count() == 4  # throttled requests store nothing


@pytest.mark.django_db
def test_tracking_con_limite_0_no_limita():
    pub = PublicacionFactory()
    cliente = Client(REMOTE_ADDR="192.0.2.55", HTTP_USER_AGENT=NAVEGADOR)
    with override_settings(RATE_LIMIT_TRACKING="0"):
        codigos = {cliente.get(f"/t/{pub.codigo}").status_code for _ in range(20)}
    assert codigos == {302}


@pytest.mark.django_db
def test_tracking_falla_abierto_si_redis_no_responde():
    pub = PublicacionFactory()
    with override_settings(CACHES=CACHE_CAIDA, RATE_LIMIT_TRACKING="1/h"):
        codigos = []
        for _ in range(3):
            cache_reiniciar_cortacircuitos()  # force a real attempt against the dead Redis
            cliente = Client(REMOTE_ADDR="192.0.2.77", HTTP_USER_AGENT=NAVEGADOR)
            codigos.append(cliente.get(f"/t/{pub.codigo}").status_code)
    assert codigos == [302, 302, 302]
    assert Evento.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.reloj  # fixed windows: a minute or hour boundary resets the count
def test_ingesta_429_por_token(cliente_marca, cliente_staff, marca):
    with override_settings(RATE_LIMIT_INGESTA="2/m"):
        codigos = [
            cliente_marca.post("/api/v1/eventos/", {"tipo": "lead"}, format="json").status_code
            for _ in range(3)
        ]
        bloqueado = cliente_marca.post(
            "/api/v1/eventos/lote/", {"eventos": [{"tipo": "lead"}]}, format="json"
        )
        lectura = cliente_marca.get("/api/v1/eventos/")
        otro_token = cliente_staff.post(
            "/api/v1/eventos/", {"tipo": "lead", "marca": str(marca.id)}, format="json"
        )
    assert codigos == [201, 201, 429]
    assert bloqueado.status_code == 429
    assert 1 <= int(bloqueado["Retry-After"]) <= 60
    assert bloqueado.json()["code"] == "throttled"
    assert lectura.status_code == 200  # reads are not ingestion
    assert otro_token.status_code == 201


@pytest.mark.django_db
def test_ingesta_falla_abierto_si_redis_no_responde(cliente_marca):
    with override_settings(CACHES=CACHE_CAIDA, RATE_LIMIT_INGESTA="1/h"):
        codigos = []
        for _ in range(3):
            cache_reiniciar_cortacircuitos()
            resp = cliente_marca.post("/api/v1/eventos/", {"tipo": "lead"}, format="json")
            codigos.append(resp.status_code)
    assert codigos == [201, 201, 201]


@pytest.mark.django_db
@pytest.mark.reloj  # fixed windows: a minute or hour boundary resets the count
def test_ingesta_429_mensaje_y_retry_after_coinciden(cliente_marca, usuario_marca):
    """The body's "Expected available in N seconds" and the Retry-After header agree."""
    import re
    import time

    from django.core.cache import cache

    from alpespartners.api.ratelimit import limite_clave

    clave = limite_clave(
        ambito="ingesta",
        identidad=f"u{usuario_marca.pk}",
        limite=Limite(1, 3600),
        ahora=time.time(),
    )
    cache.delete(clave)  # a counter left in a shared Redis by an earlier run
    with override_settings(RATE_LIMIT_INGESTA="1/h"):
        primero = cliente_marca.post("/api/v1/eventos/", {"tipo": "lead"}, format="json")
        bloqueado = cliente_marca.post("/api/v1/eventos/", {"tipo": "lead"}, format="json")
    cache.delete(clave)
    assert primero.status_code == 201
    assert bloqueado.status_code == 429
    espera = re.search(r"Expected available in (\d+) seconds?", bloqueado.json()["detail"])
    assert espera is not None, bloqueado.json()
    assert int(bloqueado["Retry-After"]) == int(espera.group(1))
    assert 1 <= int(espera.group(1)) <= 3600
