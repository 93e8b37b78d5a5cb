"""Access to the catalogue API (PRODUCT.md §6): isolation between two partners and two brands,
users without a link, anonymous callers, and what each may write."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from conftest import cliente_para
from eventos_medios.models import MedioMarketing, Publicacion, Socio
from eventos_medios.tests.factories import (
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Programa:
    """One brand with its own partner: marca, socio, medio, publicacion and their clients."""

    marca: object
    socio: object
    medio: object
    publicacion: object
    cliente_marca: APIClient
    cliente_socio: APIClient


def _programa() -> Programa:
    marca = MarcaFactory()
    usuario_marca = UsuarioFactory()
    marca.usuarios.add(usuario_marca)
    socio = SocioFactory(usuario=UsuarioFactory())
    medio = MedioMarketingFactory(socio=socio)
    publicacion = PublicacionFactory(medio=medio, marca=marca)
    return Programa(
        marca, socio, medio, publicacion, cliente_para(usuario_marca), cliente_para(socio.usuario)
    )


@pytest.fixture
def a() -> Programa:
    return _programa()


@pytest.fixture
def b() -> Programa:
    return _programa()


def _ids(cliente: APIClient, ruta: str) -> set[str]:
    resp = cliente.get(f"{API}/{ruta}")
    assert resp.status_code == 200, resp.content
    return {o["id"] for o in resp.json()["results"]}


# --- Reading --------------------------------------------------------------------------------


def test_socio_solo_ve_lo_suyo(a, b):
    c = a.cliente_socio
    assert _ids(c, "socios/") == {str(a.socio.id)}
    assert _ids(c, "medios/") == {str(a.medio.id)}
    assert _ids(c, "publicaciones/") == {str(a.publicacion.id)}
    assert _ids(c, "marcas/") == {str(a.marca.id)}
    for ruta in (
        f"socios/{b.socio.id}/",
        f"medios/{b.medio.id}/",
        f"publicaciones/{b.publicacion.id}/",
        f"marcas/{b.marca.id}/",
    ):
        assert c.get(f"{API}/{ruta}").status_code == 404, ruta
    # Filtering by the other's ids finds nothing.
    assert _ids(c, f"medios/?socio={b.socio.id}") == set()
    assert _ids(c, f"publicaciones/?socio={b.socio.id}") == set()
    assert _ids(c, f"publicaciones/?marca={b.marca.id}") == set()
    assert _ids(c, f"publicaciones/?medio={b.medio.id}") == set()
    assert _ids(c, f"publicaciones/?codigo={b.publicacion.codigo}") == set()


def test_marca_ve_su_programa_y_nada_mas(a, b):
    c = a.cliente_marca
    assert _ids(c, "marcas/") == {str(a.marca.id)}
    assert _ids(c, "socios/") == {str(a.socio.id)}
    assert _ids(c, "medios/") == {str(a.medio.id)}
    assert _ids(c, "publicaciones/") == {str(a.publicacion.id)}
    for ruta in (
        f"socios/{b.socio.id}/",
        f"medios/{b.medio.id}/",
        f"publicaciones/{b.publicacion.id}/",
        f"marcas/{b.marca.id}/",
    ):
        assert c.get(f"{API}/{ruta}").status_code == 404, ruta
    assert _ids(c, f"publicaciones/?marca={b.marca.id}") == set()
    assert _ids(c, f"medios/?socio={b.socio.id}") == set()


def test_marca_no_ve_otras_publicaciones_de_su_socio(a, b):
    # The same partner also publishes for brand B: brand A sees only its own publicacion.
    ajena = PublicacionFactory(medio=MedioMarketingFactory(socio=a.socio), marca=b.marca)
    assert str(ajena.id) not in _ids(a.cliente_marca, "publicaciones/")
    assert str(ajena.id) in _ids(a.cliente_socio, "publicaciones/")
    assert str(ajena.id) in _ids(b.cliente_marca, "publicaciones/")


def test_staff_ve_todo(a, b, cliente_staff):
    assert {str(a.socio.id), str(b.socio.id)} <= _ids(cliente_staff, "socios/")
    assert _ids(cliente_staff, "publicaciones/") == {str(a.publicacion.id), str(b.publicacion.id)}


def test_usuario_sin_vinculo_ve_listas_vacias(a):
    c = cliente_para(UsuarioFactory())
    for ruta in ("socios/", "marcas/", "medios/", "publicaciones/"):
        resp = c.get(f"{API}/{ruta}")
        assert resp.status_code == 200
        assert resp.json()["count"] == 0 and resp.json()["results"] == []
    assert c.get(f"{API}/socios/{a.socio.id}/").status_code == 404
    assert c.post(f"{API}/medios/", {"plataforma": "blog"}).status_code == 403


def test_anonimo_401_en_todo(cliente_anonimo, a):
    rutas = [
        ("get", "socios/"),
        ("get", f"socios/{a.socio.id}/"),
        ("get", "marcas/"),
        ("get", "medios/"),
        ("get", "publicaciones/"),
        ("post", "socios/"),
        ("post", "medios/"),
        ("post", "publicaciones/"),
        ("patch", f"medios/{a.medio.id}/"),
        ("post", f"socios/{a.socio.id}/credenciales/"),
    ]
    for metodo, ruta in rutas:
        resp = getattr(cliente_anonimo, metodo)(f"{API}/{ruta}")
        assert resp.status_code == 401, (metodo, ruta)
        assert resp["WWW-Authenticate"].startswith("Token")


def test_token_invalido_401(a):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token no-existe")
    assert c.get(f"{API}/socios/").status_code == 401


def test_sesion_del_admin_tambien_vale(a):
    c = APIClient()
    c.force_login(a.socio.usuario)
    assert _ids(c, "socios/") == {str(a.socio.id)}


# --- Writing --------------------------------------------------------------------------------


def test_marca_y_socio_no_escriben_socios_ni_marcas(a):
    for c in (a.cliente_marca, a.cliente_socio):
        assert c.post(f"{API}/socios/", {"nombre": "X", "tipo": "afiliado"}).status_code == 403
        assert c.post(f"{API}/marcas/", {"nombre": "X"}).status_code == 403
        assert c.patch(f"{API}/socios/{a.socio.id}/", {"nombre": "X"}).status_code == 403
        assert c.patch(f"{API}/marcas/{a.marca.id}/", {"nombre": "X"}).status_code == 403
    a.socio.refresh_from_db()
    assert a.socio.nombre != "X"


def test_marca_no_escribe_medios_ni_publicaciones(a):
    c = a.cliente_marca
    assert c.post(f"{API}/medios/", {"plataforma": "blog"}).status_code == 403
    assert c.patch(f"{API}/medios/{a.medio.id}/", {"nombre": "X"}).status_code == 403
    assert c.patch(f"{API}/publicaciones/{a.publicacion.id}/", {"titulo": "X"}).status_code == 403


def test_socio_crea_su_medio_forzado_a_si_mismo(a, b):
    c = a.cliente_socio
    resp = c.post(f"{API}/medios/", {"plataforma": "tiktok", "nombre": "@ana"})
    assert resp.status_code == 201, resp.content
    assert resp.json()["socio"] == str(a.socio.id)
    assert MedioMarketing.objects.get(pk=resp.json()["id"]).socio_id == a.socio.id
    # Naming another socio is refused like an unknown id (no leak of its existence).
    resp = c.post(f"{API}/medios/", {"plataforma": "tiktok", "socio": str(b.socio.id)})
    assert resp.status_code == 400 and "socio" in resp.json()["errors"]
    assert MedioMarketing.objects.filter(socio=b.socio).count() == 1


def test_socio_crea_publicacion_en_su_medio(a, b):
    c = a.cliente_socio
    cuerpo = {
        "medio": str(a.medio.id),
        "marca": str(a.marca.id),
        "tipo": "historia",
        "url_destino": "https://tienda.example.com/a",
    }
    resp = c.post(f"{API}/publicaciones/", cuerpo)
    assert resp.status_code == 201, resp.content
    assert resp.json()["enlace_tracking"].endswith(f"/t/{resp.json()['codigo']}")

    # Another partner's medio, or a brand outside its programme: 400 naming the field,
    # the same answer as for an id that does not exist.
    ajeno = c.post(f"{API}/publicaciones/", {**cuerpo, "medio": str(b.medio.id)})
    inexistente = c.post(
        f"{API}/publicaciones/", {**cuerpo, "medio": "00000000-0000-0000-0000-000000000000"}
    )
    assert ajeno.status_code == inexistente.status_code == 400
    assert list(ajeno.json()["errors"]) == ["medio"]
    assert ajeno.json()["errors"]["medio"][0].replace(str(b.medio.id), "?") == inexistente.json()[
        "errors"
    ]["medio"][0].replace("00000000-0000-0000-0000-000000000000", "?")
    resp = c.post(f"{API}/publicaciones/", {**cuerpo, "marca": str(b.marca.id)})
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["marca"]
    assert Publicacion.objects.filter(medio=b.medio).count() == 1


def test_socio_edita_lo_suyo_no_lo_ajeno(a, b):
    c = a.cliente_socio
    resp = c.patch(f"{API}/medios/{a.medio.id}/", {"nombre": "@nuevo"})
    assert resp.status_code == 200 and resp.json()["nombre"] == "@nuevo"
    resp = c.patch(f"{API}/publicaciones/{a.publicacion.id}/", {"titulo": "Nuevo"})
    assert resp.status_code == 200 and resp.json()["titulo"] == "Nuevo"
    assert c.patch(f"{API}/medios/{b.medio.id}/", {"nombre": "x"}).status_code == 404
    assert c.patch(f"{API}/publicaciones/{b.publicacion.id}/", {"titulo": "x"}).status_code == 404
    b.medio.refresh_from_db()
    assert b.medio.nombre != "x"


def test_usuario_socio_y_marca_a_la_vez_solo_escribe_lo_suyo(a, b):
    # A partner's login that also belongs to brand B sees B's programme but only writes its own.
    b.marca.usuarios.add(a.socio.usuario)
    c = cliente_para(a.socio.usuario)
    assert str(b.medio.id) in _ids(c, "medios/")
    assert c.patch(f"{API}/medios/{b.medio.id}/", {"nombre": "x"}).status_code == 403
    resp = c.post(f"{API}/medios/", {"plataforma": "blog", "socio": str(b.socio.id)})
    assert resp.status_code == 400 and "socio" in resp.json()["errors"]
    assert Socio.objects.count() == 2
