"""`GET /api/v1/eventos/` and `/api/v1/eventos/{id}/`: scoping, filters, cursor pagination."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import cliente_para
from eventos_medios.models import EstadoAtribucion, MotivoDescarte, TipoEvento
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/eventos/"


def _ids(resp) -> set[str]:
    assert resp.status_code == 200, resp.content
    return {e["id"] for e in resp.json()["results"]}


@pytest.fixture
def dos_mundos(marca, socio):
    """Two brands and two partners, each with its own events."""
    pub_propia = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=socio))
    otra_marca = MarcaFactory()
    otro_socio = SocioFactory(usuario=UsuarioFactory())
    pub_ajena = PublicacionFactory(marca=otra_marca, medio=MedioMarketingFactory(socio=otro_socio))
    return {
        "propio": EventoFactory(publicacion=pub_propia),
        "ajeno": EventoFactory(publicacion=pub_ajena),
        "otro_socio": otro_socio,
        "otra_marca": otra_marca,
    }


def test_anonimo_recibe_401(cliente_anonimo):
    assert cliente_anonimo.get(URL).status_code == 401


def test_staff_ve_todo(cliente_staff, dos_mundos):
    assert _ids(cliente_staff.get(URL)) == {
        str(dos_mundos["propio"].id),
        str(dos_mundos["ajeno"].id),
    }


def test_marca_ve_solo_lo_suyo(cliente_marca, dos_mundos):
    assert _ids(cliente_marca.get(URL)) == {str(dos_mundos["propio"].id)}
    ajeno = dos_mundos["ajeno"].id
    assert cliente_marca.get(f"{URL}{ajeno}/").status_code == 404
    assert _ids(cliente_marca.get(URL, {"marca": str(dos_mundos["otra_marca"].id)})) == set()


def test_socio_ve_solo_lo_suyo(cliente_socio, dos_mundos):
    assert _ids(cliente_socio.get(URL)) == {str(dos_mundos["propio"].id)}
    assert cliente_socio.get(f"{URL}{dos_mundos['ajeno'].id}/").status_code == 404
    assert _ids(cliente_socio.get(URL, {"socio": str(dos_mundos["otro_socio"].id)})) == set()
    otro = cliente_para(dos_mundos["otro_socio"].usuario)
    assert _ids(otro.get(URL)) == {str(dos_mundos["ajeno"].id)}


def test_detalle(cliente_staff, dos_mundos):
    evento = dos_mundos["propio"]
    resp = cliente_staff.get(f"{URL}{evento.id}/")
    assert resp.status_code == 200
    cuerpo = resp.json()
    assert cuerpo["id"] == str(evento.id)
    assert cuerpo["publicacion"] == str(evento.publicacion_id)
    assert "ip_hash" not in cuerpo and "huella" not in cuerpo
    assert cliente_staff.get(f"{URL}{uuid.uuid4()}/").status_code == 404
    assert cliente_staff.get(f"{URL}no-es-uuid/").status_code == 404


def test_filtros(cliente_staff, marca):
    ahora = timezone.now()
    pub = PublicacionFactory(marca=marca)
    viejo = EventoFactory(publicacion=pub, ocurrido_en=ahora - timedelta(days=10))
    lead = EventoFactory(
        publicacion=pub, tipo=TipoEvento.LEAD, visitante_id="vis-1", ocurrido_en=ahora
    )
    descartado = EventoFactory(
        estado_atribucion=EstadoAtribucion.DESCARTADO, motivo_descarte=MotivoDescarte.BOT
    )

    def ids(**params):
        return _ids(cliente_staff.get(URL, params))

    assert ids(tipo="lead") == {str(lead.id)}
    assert ids(marca=str(marca.id)) == {str(viejo.id), str(lead.id)}
    assert ids(socio=str(pub.medio.socio_id)) == {str(viejo.id), str(lead.id)}
    assert ids(publicacion=str(pub.id)) == {str(viejo.id), str(lead.id)}
    assert ids(estado_atribucion="descartado") == {str(descartado.id)}
    assert ids(visitante_id="vis-1") == {str(lead.id)}
    assert str(viejo.id) not in ids(desde=(ahora - timedelta(days=1)).isoformat())
    assert ids(hasta=(ahora - timedelta(days=5)).isoformat()) == {str(viejo.id)}


def test_desde_y_hasta_aceptan_fecha_y_hasta_incluye_todo_el_dia(cliente_staff):
    """Same rule as comisiones/recompensas/reportes: a bare `hasta` date is the whole day."""
    import datetime as dt

    def en(dia, h, m=0, s=0, us=0):
        return dt.datetime(2026, 11, dia, h, m, s, us, tzinfo=dt.UTC)

    inicio = EventoFactory(ocurrido_en=en(27, 0))
    mediodia = EventoFactory(ocurrido_en=en(27, 12))
    ultimo = EventoFactory(ocurrido_en=en(27, 23, 59, 59, 500000))
    siguiente = EventoFactory(ocurrido_en=en(28, 0))
    antes = EventoFactory(ocurrido_en=en(26, 23, 59, 59))

    def ids(**params):
        resp = cliente_staff.get(URL, params)
        assert resp.status_code == 200, resp.json()
        return _ids(resp)

    del_27 = {str(inicio.id), str(mediodia.id), str(ultimo.id)}
    assert ids(hasta="2026-11-27") == del_27 | {str(antes.id)}
    assert ids(desde="2026-11-27", hasta="2026-11-27") == del_27
    assert ids(desde="2026-11-27") == del_27 | {str(siguiente.id)}
    # ISO datetimes keep their exact meaning; a naive one is UTC, offsets are converted.
    assert ids(hasta="2026-11-27T12:00:00Z") == {str(antes.id), str(inicio.id), str(mediodia.id)}
    assert ids(desde="2026-11-27T12:00:00") == {str(mediodia.id), str(ultimo.id), str(siguiente.id)}
    assert ids(desde="2026-11-27T13:00:00+01:00", hasta="2026-11-27T12:00:00Z") == {
        str(mediodia.id)
    }


@pytest.mark.parametrize("campo", ["desde", "hasta"])
@pytest.mark.parametrize("valor", ["ayer", "2026-13-45", "2026-11-27T25:00", "27/11/2026"])
def test_desde_hasta_invalidos_son_400_con_el_campo(cliente_staff, campo, valor):
    resp = cliente_staff.get(URL, {campo: valor})
    assert resp.status_code == 400
    assert campo in resp.json()["errors"]


@pytest.mark.parametrize(
    "params", [{"tipo": "nada"}, {"marca": "x"}, {"desde": "ayer"}, {"estado_atribucion": "z"}]
)
def test_filtro_invalido_es_400(cliente_staff, params):
    assert cliente_staff.get(URL, params).status_code == 400


def test_paginacion_por_cursor(cliente_staff, marca):
    pub = PublicacionFactory(marca=marca)
    ahora = timezone.now()
    creados = {
        str(EventoFactory(publicacion=pub, ocurrido_en=ahora - timedelta(seconds=i)).id)
        for i in range(7)
    }
    vistos: list[str] = []
    resp = cliente_staff.get(URL, {"page_size": 3})
    paginas = 0
    while True:
        cuerpo = resp.json()
        assert set(cuerpo) == {"next", "previous", "results"}
        vistos += [e["id"] for e in cuerpo["results"]]
        paginas += 1
        if not cuerpo["next"]:
            break
        resp = cliente_staff.get(cuerpo["next"])
    assert paginas == 3
    assert len(vistos) == 7 and set(vistos) == creados
