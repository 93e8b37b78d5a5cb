"""Catalogue API v1 as staff: create/read/update, filters, pagination, bad input, credentials."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from eventos_medios.models import Marca, MedioMarketing, Publicacion, Socio
from eventos_medios.tests.factories import (
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


API = "/api/v1"


def _errores(resp) -> dict:
    assert resp.status_code == 400, resp.content
    cuerpo = resp.json()
    assert cuerpo["code"] == "invalid" or cuerpo["code"]
    return cuerpo["errors"]


# --- Socios ---------------------------------------------------------------------------------


def test_staff_crea_lee_y_actualiza_socio(cliente_staff):
    resp = cliente_staff.post(
        f"{API}/socios/", {"nombre": "Ana", "tipo": "influencer", "email": "ana@example.com"}
    )
    assert resp.status_code == 201, resp.content
    socio = resp.json()
    assert socio["tipo"] == "influencer" and len(socio["codigo_referido"]) == 8
    assert socio["activo"] is True and socio["usuario"] is None

    resp = cliente_staff.patch(f"{API}/socios/{socio['id']}/", {"activo": False})
    assert resp.status_code == 200 and resp.json()["activo"] is False
    resp = cliente_staff.put(
        f"{API}/socios/{socio['id']}/", {"nombre": "Ana B", "tipo": "embajador", "activo": True}
    )
    assert resp.status_code == 200, resp.content
    assert Socio.objects.get(pk=socio["id"]).tipo == "embajador"
    assert cliente_staff.get(f"{API}/socios/{socio['id']}/").json()["nombre"] == "Ana B"


def test_socio_tipo_desconocido_400(cliente_staff):
    assert "tipo" in _errores(cliente_staff.post(f"{API}/socios/", {"nombre": "A", "tipo": "x"}))
    assert not Socio.objects.exists()


def test_cuerpo_json_malformado_400(cliente_staff):
    resp = cliente_staff.post(f"{API}/socios/", data='{"nombre": ', content_type="application/json")
    assert resp.status_code == 400
    assert "detail" in resp.json()


def test_lista_socios_paginada_filtrada_y_estable(cliente_staff):
    for i in range(3):
        SocioFactory(nombre="Igual", tipo="afiliado", activo=i != 0)
    SocioFactory(nombre="Otro", tipo="influencer")
    resp = cliente_staff.get(f"{API}/socios/", {"page_size": 2})
    cuerpo = resp.json()
    assert set(cuerpo) == {"count", "next", "previous", "results"}
    assert cuerpo["count"] == 4 and len(cuerpo["results"]) == 2 and cuerpo["next"]
    segunda = cliente_staff.get(cuerpo["next"]).json()
    ids = [s["id"] for s in cuerpo["results"] + segunda["results"]]
    assert len(set(ids)) == 4  # same names, still no repeats or gaps across pages

    tipos = {s["tipo"] for s in cliente_staff.get(f"{API}/socios/?tipo=afiliado").json()["results"]}
    assert tipos == {"afiliado"}
    assert cliente_staff.get(f"{API}/socios/?tipo=afiliado&activo=false").json()["count"] == 1
    assert "tipo" in _errores(cliente_staff.get(f"{API}/socios/?tipo=pirata"))


# --- Marcas ---------------------------------------------------------------------------------


def test_staff_crea_marca_con_politica_de_atribucion(cliente_staff):
    resp = cliente_staff.post(
        f"{API}/marcas/",
        {"nombre": "Tienda", "sitio_web": "https://tienda.example.com"},
    )
    assert resp.status_code == 201, resp.content
    marca = resp.json()
    assert marca["modelo_atribucion"] == "ultimo_clic" and marca["ventana_atribucion_dias"] == 30
    resp = cliente_staff.patch(
        f"{API}/marcas/{marca['id']}/",
        {"modelo_atribucion": "decaimiento_temporal", "ventana_atribucion_dias": 365},
    )
    assert resp.status_code == 200, resp.content
    guardada = Marca.objects.get(pk=marca["id"])
    assert (guardada.modelo_atribucion, guardada.ventana_atribucion_dias) == (
        "decaimiento_temporal",
        365,
    )


@pytest.mark.parametrize(
    ("cuerpo", "campo"),
    [
        ({"modelo_atribucion": "al_azar"}, "modelo_atribucion"),
        ({"ventana_atribucion_dias": 0}, "ventana_atribucion_dias"),
        ({"ventana_atribucion_dias": 366}, "ventana_atribucion_dias"),
        ({"ventana_atribucion_dias": "muchos"}, "ventana_atribucion_dias"),
        ({"sitio_web": "javascript:alert(1)"}, "sitio_web"),
        ({"sitio_web": "ftp://tienda.example.com"}, "sitio_web"),
    ],
)
def test_marca_entrada_invalida_400(cliente_staff, cuerpo, campo):
    assert campo in _errores(cliente_staff.post(f"{API}/marcas/", {"nombre": "M", **cuerpo}))
    marca = MarcaFactory()
    assert campo in _errores(cliente_staff.patch(f"{API}/marcas/{marca.id}/", cuerpo))
    assert Marca.objects.count() == 1


def test_marcas_filtro_activo(cliente_staff):
    MarcaFactory(activo=True)
    inactiva = MarcaFactory(activo=False)
    resultados = cliente_staff.get(f"{API}/marcas/?activo=false").json()["results"]
    assert [m["id"] for m in resultados] == [str(inactiva.id)]


# --- Medios ---------------------------------------------------------------------------------


def test_staff_crea_medio_y_filtra(cliente_staff):
    socio = SocioFactory()
    resp = cliente_staff.post(
        f"{API}/medios/",
        {
            "socio": str(socio.id),
            "plataforma": "youtube",
            "nombre": "Canal",
            "url": "https://youtube.com/c/x",
        },
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["socio"] == str(socio.id)
    MedioMarketingFactory(plataforma="blog")
    assert cliente_staff.get(f"{API}/medios/?socio={socio.id}").json()["count"] == 1
    assert cliente_staff.get(f"{API}/medios/?plataforma=blog").json()["count"] == 1
    assert "plataforma" in _errores(cliente_staff.get(f"{API}/medios/?plataforma=myspace"))
    assert "socio" in _errores(cliente_staff.get(f"{API}/medios/?socio=no-es-uuid"))


@pytest.mark.parametrize(
    ("cuerpo", "campo"),
    [
        ({"plataforma": "myspace"}, "plataforma"),
        ({"plataforma": "blog", "url": "javascript:alert(1)"}, "url"),
        ({"plataforma": "blog", "socio": "00000000-0000-0000-0000-000000000000"}, "socio"),
        ({"plataforma": "blog", "socio": "no-es-uuid"}, "socio"),
        ({"plataforma": "blog"}, "socio"),  # staff must say whose medio it is
        ({"plataforma": "blog", "url": "/relativa"}, "url"),
        ({"plataforma": "blog", "url": "ftp://files.example.com"}, "url"),
    ],
)
def test_medio_entrada_invalida_400(cliente_staff, cuerpo, campo):
    if "socio" not in cuerpo and campo != "socio":
        cuerpo = {"socio": str(SocioFactory().id), **cuerpo}
    assert campo in _errores(cliente_staff.post(f"{API}/medios/", cuerpo))
    assert not MedioMarketing.objects.exists()


# --- Publicaciones --------------------------------------------------------------------------


def _cuerpo_publicacion(**extra):
    medio, marca = MedioMarketingFactory(), MarcaFactory()
    return {
        "medio": str(medio.id),
        "marca": str(marca.id),
        "tipo": "reel",
        "titulo": "Unboxing",
        "url": "https://instagram.com/p/xyz",
        "url_destino": "https://tienda.example.com/oferta?utm=1",
        **extra,
    }


@override_settings(PUBLIC_BASE_URL="")
def test_staff_crea_publicacion_con_enlace_absoluto(cliente_staff):
    resp = cliente_staff.post(f"{API}/publicaciones/", _cuerpo_publicacion())
    assert resp.status_code == 201, resp.content
    pub = resp.json()
    assert len(pub["codigo"]) == 10
    assert pub["enlace_tracking"] == f"http://testserver/t/{pub['codigo']}"
    assert pub["socio"] == str(Publicacion.objects.get(pk=pub["id"]).medio.socio_id)
    detalle = cliente_staff.get(f"{API}/publicaciones/{pub['id']}/").json()
    assert detalle["enlace_tracking"] == pub["enlace_tracking"]


@override_settings(PUBLIC_BASE_URL="https://go.alpes.example")
def test_enlace_tracking_usa_public_base_url(cliente_staff):
    pub = PublicacionFactory()
    resultados = cliente_staff.get(f"{API}/publicaciones/").json()["results"]
    assert resultados[0]["enlace_tracking"] == f"https://go.alpes.example/t/{pub.codigo}"


@pytest.mark.parametrize(
    ("extra", "campo"),
    [
        ({"url_destino": "javascript:alert(document.cookie)"}, "url_destino"),
        ({"url_destino": "/relativa/oferta"}, "url_destino"),
        ({"url_destino": "ftp://files.example.com/oferta"}, "url_destino"),
        ({"url_destino": ""}, "url_destino"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"tipo": "tweet"}, "tipo"),
        ({"medio": "00000000-0000-0000-0000-000000000000"}, "medio"),
        ({"marca": "00000000-0000-0000-0000-000000000000"}, "marca"),
        ({"publicada_en": "ayer"}, "publicada_en"),
    ],
)
def test_publicacion_entrada_invalida_400(cliente_staff, extra, campo):
    assert campo in _errores(
        cliente_staff.post(f"{API}/publicaciones/", _cuerpo_publicacion(**extra))
    )
    assert not Publicacion.objects.exists()


def test_publicacion_sin_url_destino_400(cliente_staff):
    cuerpo = _cuerpo_publicacion()
    del cuerpo["url_destino"]
    assert "url_destino" in _errores(cliente_staff.post(f"{API}/publicaciones/", cuerpo))


def test_publicacion_actualizar_valida_y_no_cambia_medio(cliente_staff):
    pub = PublicacionFactory()
    medio_original = pub.medio_id
    resp = cliente_staff.patch(
        f"{API}/publicaciones/{pub.id}/",
        {
            "url_destino": "https://tienda.example.com/nueva",
            "medio": str(MedioMarketingFactory().id),
        },
    )
    assert resp.status_code == 200, resp.content
    pub.refresh_from_db()
    assert pub.url_destino == "https://tienda.example.com/nueva"
    assert pub.medio_id == medio_original
    assert "url_destino" in _errores(
        cliente_staff.patch(f"{API}/publicaciones/{pub.id}/", {"url_destino": "javascript:x"})
    )
    assert "tipo" in _errores(cliente_staff.patch(f"{API}/publicaciones/{pub.id}/", {"tipo": "x"}))


def test_publicaciones_filtros(cliente_staff):
    a = PublicacionFactory(tipo="video")
    b = PublicacionFactory(tipo="post")

    def ids(q: str) -> set[str]:
        return {p["id"] for p in cliente_staff.get(f"{API}/publicaciones/?{q}").json()["results"]}

    assert ids(f"marca={a.marca_id}") == {str(a.id)}
    assert ids(f"medio={b.medio_id}") == {str(b.id)}
    assert ids(f"socio={a.medio.socio_id}") == {str(a.id)}
    assert ids("tipo=post") == {str(b.id)}
    assert ids(f"codigo={b.codigo}") == {str(b.id)}
    assert "tipo" in _errores(cliente_staff.get(f"{API}/publicaciones/?tipo=tweet"))
    assert "marca" in _errores(cliente_staff.get(f"{API}/publicaciones/?marca=123"))


def test_no_hay_delete(cliente_staff):
    socio = SocioFactory()
    assert cliente_staff.delete(f"{API}/socios/{socio.id}/").status_code == 405
    assert Socio.objects.filter(pk=socio.id).exists()


# --- Credenciales ---------------------------------------------------------------------------


def _cliente_token(key: str) -> APIClient:
    cliente = APIClient()
    cliente.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return cliente


def test_credenciales_socio_crean_y_rotan(cliente_staff):
    socio = SocioFactory(usuario=None)
    PublicacionFactory(medio=MedioMarketingFactory(socio=socio))
    resp = cliente_staff.post(f"{API}/socios/{socio.id}/credenciales/")
    assert resp.status_code == 200, resp.content
    primera = resp.json()
    assert set(primera) == {"usuario", "token"}
    socio.refresh_from_db()
    assert socio.usuario.username == primera["usuario"]

    viejo = _cliente_token(primera["token"])
    # Used once, so the key is in the token cache when it is rotated.
    propios = viejo.get(f"{API}/socios/").json()["results"]
    assert [s["id"] for s in propios] == [str(socio.id)]

    segunda = cliente_staff.post(f"{API}/socios/{socio.id}/credenciales/").json()
    assert segunda["usuario"] == primera["usuario"] and segunda["token"] != primera["token"]
    assert viejo.get(f"{API}/socios/").status_code == 401
    assert _cliente_token(segunda["token"]).get(f"{API}/socios/").status_code == 200


def test_credenciales_marca_crean_y_rotan(cliente_staff):
    marca = MarcaFactory()
    primera = cliente_staff.post(f"{API}/marcas/{marca.id}/credenciales/").json()
    assert marca.usuarios.filter(username=primera["usuario"]).exists()
    viejo = _cliente_token(primera["token"])
    assert [m["id"] for m in viejo.get(f"{API}/marcas/").json()["results"]] == [str(marca.id)]
    segunda = cliente_staff.post(f"{API}/marcas/{marca.id}/credenciales/").json()
    assert segunda["token"] != primera["token"]
    assert viejo.get(f"{API}/marcas/").status_code == 401
    assert _cliente_token(segunda["token"]).get(f"{API}/marcas/").status_code == 200


def test_credenciales_solo_staff(cliente_socio, cliente_marca, cliente_anonimo, socio, marca):
    for cliente, esperado in [(cliente_socio, 403), (cliente_marca, 403), (cliente_anonimo, 401)]:
        assert cliente.post(f"{API}/socios/{socio.id}/credenciales/").status_code == esperado
        assert cliente.post(f"{API}/marcas/{marca.id}/credenciales/").status_code == esperado


def test_credenciales_de_inexistente_404(cliente_staff):
    assert (
        cliente_staff.post(
            f"{API}/socios/00000000-0000-0000-0000-000000000000/credenciales/"
        ).status_code
        == 404
    )


def test_ordering_estable_con_desempate(cliente_staff):
    for _ in range(4):
        SocioFactory(nombre="Igual")
    SocioFactory(nombre="Aaa")
    primera = cliente_staff.get(f"{API}/socios/?ordering=-nombre&page_size=2").json()
    segunda = cliente_staff.get(primera["next"]).json()
    tercera = cliente_staff.get(segunda["next"]).json()
    filas = primera["results"] + segunda["results"] + tercera["results"]
    assert len({s["id"] for s in filas}) == 5
    assert filas[-1]["nombre"] == "Aaa"
    assert "ordering" in _errores(cliente_staff.get(f"{API}/socios/?ordering=email"))
