"""Who reaches which portal page: a partner only its own pages and objects (another partner's
ids are a 404, exactly as in the API), anonymous users are sent to the sign-in page, brand and
staff users get the 403 page."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from comision_recompensa.tests.portal.datos import socio_portal
from conftest import cliente_para
from eventos_medios.tests.factories import MarcaFactory, StaffFactory, UsuarioFactory

pytestmark = pytest.mark.django_db

DESCONOCIDO = uuid.UUID("7d1c0c1e-0000-4000-8000-000000000001")  # fixed: xdist collects alike
PAGINAS = ["resumen", "enlaces", "creditos", "pagos", "token", "preferencias", "clave_cambiar"]


def _detalles(d):
    return [
        reverse("portal:credito", args=["comision", d.comision.pk]),
        reverse("portal:credito", args=["recompensa", d.recompensa.pk]),
        reverse("portal:pago", args=[d.pago.pk]),
    ]


@pytest.fixture
def dos_socios():
    marca = MarcaFactory()
    return socio_portal(nombre="Ana", marca=marca), socio_portal(nombre="Bruno", marca=marca)


def test_anonimo_va_a_la_pagina_de_entrada(client, dos_socios):
    a, _ = dos_socios
    for ruta in [reverse(f"portal:{p}") for p in PAGINAS] + _detalles(a):
        respuesta = client.get(ruta)
        assert respuesta.status_code == 302, ruta
        assert respuesta["Location"].startswith("/portal/entrar/?next=")


def test_socio_a_nunca_ve_objetos_de_b(client, dos_socios):
    a, b = dos_socios
    client.force_login(a.usuario)
    for ruta in _detalles(b):
        assert client.get(ruta).status_code == 404, ruta
    for ruta in _detalles(a):
        assert client.get(ruta).status_code == 200, ruta
    enlaces = client.get(reverse("portal:enlaces")).content.decode()
    assert a.publicacion.codigo in enlaces and b.publicacion.codigo not in enlaces
    for clase, credito_b in (("comision", b.comision), ("recompensa", b.recompensa)):
        lista = client.get(reverse("portal:creditos"), {"clase": clase}).content.decode()
        assert str(credito_b.pk) not in lista
    pagos = client.get(reverse("portal:pagos")).content.decode()
    assert str(b.pago.pk) not in pagos and str(a.pago.pk) in pagos


def test_la_explicacion_no_nombra_a_otros_socios(client, dos_socios):
    a, _ = dos_socios
    client.force_login(a.usuario)
    html = client.get(reverse("portal:credito", args=["comision", a.comision.pk])).content.decode()
    otros = [t["socio_id"] for t in a.comision.detalle_atribucion["touchpoints"] if not t["propio"]]
    assert otros and all(o not in html for o in otros)
    assert "Otro socio" in html and "Otro Socio Secreto" not in html


@pytest.mark.parametrize(
    "ruta",
    [
        "/portal/creditos/comision/no-es-un-uuid/",
        f"/portal/creditos/otra-cosa/{DESCONOCIDO}/",
        f"/portal/creditos/comision/{DESCONOCIDO}/",
        f"/portal/pagos/{DESCONOCIDO}/",
        "/portal/no-existe/",
    ],
)
def test_ids_malformados_o_desconocidos_son_404(client, dos_socios, ruta):
    client.force_login(dos_socios[0].usuario)
    respuesta = client.get(ruta)
    assert respuesta.status_code == 404
    assert "Página no encontrada" in respuesta.content.decode()


def test_cursor_manipulado_muestra_la_primera_pagina(client, dos_socios):
    client.force_login(dos_socios[0].usuario)
    for nombre in ("creditos", "pagos", "enlaces"):
        for cursor in ("%%%", "YWJj", "x" * 500, "MjAyNi0wMS0wMXxub3QtYS11dWlk"):
            assert client.get(reverse(f"portal:{nombre}"), {"despues": cursor}).status_code == 200


@pytest.mark.parametrize("tipo", ["marca", "staff", "ninguno"])
def test_quien_no_es_socio_recibe_la_pagina_403(client, dos_socios, tipo):
    usuario = StaffFactory() if tipo == "staff" else UsuarioFactory()
    if tipo == "marca":
        dos_socios[0].marca.usuarios.add(usuario)
    client.force_login(usuario)
    for ruta in [reverse(f"portal:{p}") for p in PAGINAS] + _detalles(dos_socios[0]):
        respuesta = client.get(ruta)
        assert respuesta.status_code == 403, ruta
        html = respuesta.content.decode()
        assert "Este portal es para socios" in html
        if tipo == "staff":
            assert 'href="/admin/"' in html
        if tipo == "marca":
            assert 'href="/api/v1/docs/"' in html


def test_login_de_marca_y_socio_ve_solo_lo_del_socio(client, dos_socios):
    """A login linked to a marca and a socio reads, in the portal, only its partner data (its
    brand's other partners are for the API)."""
    a, b = dos_socios
    a.marca.usuarios.add(a.usuario)
    client.force_login(a.usuario)
    assert (
        client.get(reverse("portal:credito", args=["comision", b.comision.pk])).status_code == 404
    )
    assert (
        client.get(reverse("portal:credito", args=["comision", a.comision.pk])).status_code == 200
    )


def test_el_portal_y_la_api_ven_los_mismos_creditos(client, dos_socios):
    a, _ = dos_socios
    client.force_login(a.usuario)
    for clase, ruta_api in (
        ("comision", "/api/v1/comisiones/"),
        ("recompensa", "/api/v1/recompensas/"),
    ):
        html = client.get(reverse("portal:creditos"), {"clase": clase}).content.decode()
        api = cliente_para(a.usuario).get(ruta_api).json()["results"]
        assert api and all(reverse("portal:credito", args=[clase, c["id"]]) in html for c in api)


def test_salir_es_un_post(client, dos_socios):
    client.force_login(dos_socios[0].usuario)
    assert client.get(reverse("portal:salir")).status_code == 405
    respuesta = client.post(reverse("portal:salir"))
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:entrar")
    assert client.get(reverse("portal:resumen")).status_code == 302


def test_formularios_con_csrf(dos_socios):
    from django.test import Client

    cliente = Client(enforce_csrf_checks=True)
    cliente.force_login(dos_socios[0].usuario)
    for nombre in ("token", "preferencias", "idioma", "salir"):
        assert cliente.post(reverse(f"portal:{nombre}"), {}).status_code == 403, nombre
