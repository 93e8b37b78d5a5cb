"""GET /api/v1/pagos/: staff see all, a partner only its own, a brand user its programme's (a
Pago is per socio, marca and moneda; legacy brandless Pagos only staff and the partner)."""

from __future__ import annotations

import pytest

from comision_recompensa.models import EstadoPago, Pago
from comision_recompensa.pagos.services import pagos_generar
from comision_recompensa.tests.factories import PagoFactory
from comision_recompensa.tests.pagos_helpers import comision_aprobada, recompensa_aprobada
from conftest import cliente_para
from eventos_medios.tests.factories import MarcaFactory, SocioFactory, UsuarioFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/pagos/"


@pytest.fixture
def pagos(socio, marca):
    otro = SocioFactory()
    comision_aprobada(socio, "10.00", marca=marca)
    recompensa_aprobada(socio, "1.50", marca=marca)
    comision_aprobada(socio, "3.00", "USD", marca=marca)
    comision_aprobada(socio, "4.00", marca=MarcaFactory())  # another programme of the partner
    comision_aprobada(otro, "7.00")
    generados = pagos_generar()
    Pago.objects.filter(socio=socio, moneda="EUR").update(ultimo_error="HTTP 500 internal detail")

    def uno(socio_id, moneda, marca_id):
        return next(
            p
            for p in generados
            if (p.socio_id, p.moneda) == (socio_id, moneda) and (p.marca_id == marca_id)
        )

    otra_marca = next(
        p.marca_id for p in generados if p.socio_id == socio.id and p.marca_id != marca.id
    )
    return {
        "propio_eur": uno(socio.id, "EUR", marca.id),
        "propio_usd": uno(socio.id, "USD", marca.id),
        "propio_otra_marca": uno(socio.id, "EUR", otra_marca),
        "ajeno": next(p for p in generados if p.socio_id == otro.id),
        "legado": PagoFactory(socio=socio, marca=None),
    }


def _ids(respuesta):
    assert respuesta.status_code == 200, respuesta.content
    return {r["id"] for r in respuesta.json()["results"]}


def test_staff_ve_todos(cliente_staff, pagos):
    assert _ids(cliente_staff.get(URL)) == {str(p.id) for p in pagos.values()}
    fila = next(
        r
        for r in cliente_staff.get(URL).json()["results"]
        if r["id"] == str(pagos["propio_eur"].id)
    )
    assert fila["ultimo_error"] == "HTTP 500 internal detail"
    assert fila["monto"] == "11.50"


def test_socio_ve_solo_los_suyos(cliente_socio, pagos):
    assert _ids(cliente_socio.get(URL)) == {
        str(pagos[k].id) for k in ("propio_eur", "propio_usd", "propio_otra_marca", "legado")
    }
    # Filtering for another partner's Pagos yields nothing.
    otro_socio = pagos["ajeno"].socio_id
    assert _ids(cliente_socio.get(URL, {"socio": str(otro_socio)})) == set()
    assert cliente_socio.get(f"{URL}{pagos['ajeno'].id}/").status_code == 404


def test_detalle_propio_con_items_y_sin_detalle_interno(cliente_socio, pagos):
    r = cliente_socio.get(f"{URL}{pagos['propio_eur'].id}/")
    assert r.status_code == 200
    datos = r.json()
    assert datos["ultimo_error"] == ""
    assert sorted(i["tipo"] for i in datos["items"]) == ["comision", "recompensa"]
    assert sorted(i["monto"] for i in datos["items"]) == ["1.50", "10.00"]


def test_usuario_de_marca_ve_los_pagos_de_su_programa(cliente_marca, pagos):
    """Each brand funds its own programme's Pagos: it sees those, never the partner's Pagos of
    another brand nor a legacy Pago that mixed brands."""
    assert _ids(cliente_marca.get(URL)) == {
        str(pagos["propio_eur"].id),
        str(pagos["propio_usd"].id),
    }
    for ajeno in ("propio_otra_marca", "legado", "ajeno"):
        assert cliente_marca.get(f"{URL}{pagos[ajeno].id}/").status_code == 404
    detalle = cliente_marca.get(f"{URL}{pagos['propio_eur'].id}/").json()
    assert detalle["ultimo_error"] == ""
    assert detalle["marca_nombre"]


def test_usuario_sin_vinculo_no_ve_nada(pagos):
    cliente = cliente_para(UsuarioFactory())
    assert _ids(cliente.get(URL)) == set()


def test_anonimo_rechazado(cliente_anonimo, pagos):
    assert cliente_anonimo.get(URL).status_code in (401, 403)
    assert cliente_anonimo.get(f"{URL}{pagos['ajeno'].id}/").status_code in (401, 403)


def test_filtros_y_solo_lectura(cliente_staff, pagos):
    Pago.objects.filter(id=pagos["ajeno"].id).update(estado=EstadoPago.PAGADO)
    assert _ids(cliente_staff.get(URL, {"estado": "pagado"})) == {str(pagos["ajeno"].id)}
    assert _ids(cliente_staff.get(URL, {"moneda": "USD"})) == {str(pagos["propio_usd"].id)}
    marca_id = str(pagos["propio_otra_marca"].marca_id)
    assert _ids(cliente_staff.get(URL, {"marca": marca_id})) == {str(pagos["propio_otra_marca"].id)}
    assert cliente_staff.get(URL, {"estado": "nope"}).status_code == 400
    assert cliente_staff.post(URL, {}).status_code == 405
    assert cliente_staff.delete(f"{URL}{pagos['ajeno'].id}/").status_code == 405


def test_id_mal_formado_es_404(cliente_staff, pagos):
    assert cliente_staff.get(f"{URL}no-es-un-uuid/").status_code == 404
