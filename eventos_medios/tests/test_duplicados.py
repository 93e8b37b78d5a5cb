"""The duplicate-click rule (PRODUCT.md §8): one set of cases, run against both backends.

`contar(clave)` plays what the tracking service does: ask the rule, and store the click
(counted or `duplicado`) right after. The Redis backend needs a reachable Redis (REDIS_URL);
the database backend runs everywhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from alpespartners.api.ratelimit import redis_crudo
from eventos_medios.models import EstadoAtribucion, Evento, MotivoDescarte, TipoEvento
from eventos_medios.services import duplicados
from eventos_medios.services.duplicados import ClaveClick
from eventos_medios.tests.factories import MarcaFactory, SocioFactory

pytestmark = pytest.mark.django_db

Contar = Callable[[ClaveClick], bool]


@pytest.fixture(params=["redis", "base_de_datos"])
def regla(request) -> Iterator[duplicados.ReglaDuplicados]:
    if request.param == "base_de_datos":
        yield duplicados.DuplicadosBaseDeDatos()
        return
    cliente = redis_crudo() if getattr(settings, "REDIS_URL", "") else None
    if cliente is None:
        pytest.skip("needs Redis (REDIS_URL)")
    claves: list[str] = []
    regla = duplicados.DuplicadosRedis(cliente)
    original = regla.reclamar

    def reclamar(clave: ClaveClick, *, ahora: dt.datetime) -> bool:
        claves.append(duplicados.clave_redis(clave))
        return original(clave, ahora=ahora)

    regla.reclamar = reclamar  # type: ignore[method-assign]
    yield regla
    for clave in claves:
        cliente.delete(clave)


@pytest.fixture
def contar(regla) -> Contar:
    def _contar(clave: ClaveClick, ahora: dt.datetime | None = None) -> bool:
        ahora = ahora or timezone.now()
        contado = regla.reclamar(clave, ahora=ahora)
        _click(clave, ahora, motivo="" if contado else MotivoDescarte.DUPLICADO)
        return contado

    return _contar


def _click(clave: ClaveClick, ahora: dt.datetime, *, motivo: str) -> None:
    """A stored click of `clave` (counted, or discarded with `motivo`)."""
    Evento.objects.create(
        tipo=TipoEvento.CLICK,
        ocurrido_en=ahora,
        socio_id=clave.socio_id,
        marca_id=clave.marca_id,
        ip_hash=clave.ip_hash,
        estado_atribucion=EstadoAtribucion.DESCARTADO if motivo else EstadoAtribucion.PENDIENTE,
        motivo_descarte=motivo,
    )


@pytest.fixture
def clave() -> ClaveClick:
    return ClaveClick(SocioFactory().pk, MarcaFactory().pk, uuid.uuid4().hex)


def test_el_primer_click_cuenta_y_el_segundo_es_duplicado(contar, clave):
    assert contar(clave) is True
    assert contar(clave) is False
    assert contar(clave) is False


def test_otra_ip_otro_socio_u_otra_marca_cuentan_aparte(contar, clave):
    assert contar(clave)
    assert contar(ClaveClick(clave.socio_id, clave.marca_id, uuid.uuid4().hex))
    assert contar(ClaveClick(SocioFactory().pk, clave.marca_id, clave.ip_hash))
    assert contar(ClaveClick(clave.socio_id, MarcaFactory().pk, clave.ip_hash))


def test_sin_socio_ni_marca_la_clave_es_la_ip(contar):
    ip = uuid.uuid4().hex
    assert contar(ClaveClick(None, None, ip))
    assert not contar(ClaveClick(None, None, ip))
    assert contar(ClaveClick(SocioFactory().pk, None, ip))


def test_un_reclamo_liberado_deja_contar_el_siguiente(regla, clave):
    """The click that took the claim could not be stored: the retry counts."""
    ahora = timezone.now()
    assert regla.reclamar(clave, ahora=ahora)
    regla.liberar(clave)
    assert regla.reclamar(clave, ahora=ahora)


def test_la_ventana_dura_una_hora(regla, contar, clave):
    inicio = timezone.now()
    assert contar(clave, inicio)
    if isinstance(regla, duplicados.DuplicadosRedis):
        # Redis forgets the claim by itself: its key expires with the window.
        ttl = regla.cliente.ttl(duplicados.clave_redis(clave))
        assert 0 < ttl <= duplicados.SEGUNDOS_VENTANA
    else:
        assert not contar(clave, inicio + dt.timedelta(minutes=59))
        assert contar(clave, inicio + dt.timedelta(minutes=61))


def test_la_clave_redis_es_la_del_script_del_enlace():
    """The tracking script appends `socio:marca:ip_hash` to this prefix: the same key."""
    clave = ClaveClick(uuid.uuid4(), uuid.uuid4(), "abc")
    sufijo = f"{clave.socio_id}:{clave.marca_id}:abc"
    assert duplicados.clave_redis(clave) == duplicados.prefijo_redis() + sufijo
    assert duplicados.clave_redis(clave) == cache.make_key("clk:" + sufijo)


def test_un_click_descartado_no_cuenta_como_previo():
    """Only counted clicks block the next one (a bot's click does not)."""
    base = duplicados.DuplicadosBaseDeDatos()
    clave = ClaveClick(SocioFactory().pk, MarcaFactory().pk, uuid.uuid4().hex)
    _click(clave, timezone.now(), motivo=MotivoDescarte.BOT)
    assert base.reclamar(clave, ahora=timezone.now())
    assert Evento.objects.count() == 1
