"""A marca's programme includes the partners it has an agreement with: the money app widens
tracking's access rules at start-up (tracking never looks up the money app's relations)."""

from __future__ import annotations

import pytest

from comision_recompensa.tests.factories import AsociacionFactory
from eventos_medios.tests.factories import MarcaFactory, SocioFactory
from eventos_medios.tests.test_acceso import API, Programa, _ids, _programa

pytestmark = pytest.mark.django_db


@pytest.fixture
def a() -> Programa:
    return _programa()


def test_marca_ve_socios_asociados_sin_publicaciones(a):
    asociado = SocioFactory()
    AsociacionFactory(marca=a.marca, socio=asociado)
    assert str(asociado.id) in _ids(a.cliente_marca, "socios/")


def test_socio_publica_para_marca_asociada(a):
    nueva = MarcaFactory()
    c = a.cliente_socio
    cuerpo = {
        "medio": str(a.medio.id),
        "marca": str(nueva.id),
        "tipo": "post",
        "url_destino": "https://nueva.example.com",
    }
    assert c.post(f"{API}/publicaciones/", cuerpo).status_code == 400
    AsociacionFactory(marca=nueva, socio=a.socio)
    assert c.post(f"{API}/publicaciones/", cuerpo).status_code == 201
