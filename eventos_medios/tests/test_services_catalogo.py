"""Catalogue services: domain rules, atomic writes, credential rotation."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from alpespartners.errors import ErrorDominio, ErrorValidacion
from eventos_medios.enlaces import enlace_tracking
from eventos_medios.models import Marca, MedioMarketing, Publicacion, Socio, TokenApi
from eventos_medios.services import catalogo as servicios
from eventos_medios.services.tokens import token_emitir
from eventos_medios.tests.factories import (
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _campo(exc: ErrorDominio) -> set[str]:
    if isinstance(exc, ErrorValidacion):
        return set(exc.errores)
    return {exc.campo} if exc.campo else set()


def test_socio_crear_genera_codigo_y_respeta_id():
    propio = uuid.uuid4()
    socio = servicios.socio_crear(id=propio, nombre="Ana", tipo="influencer", email="a@x.com")
    assert socio.id == propio
    assert len(socio.codigo_referido) == 8
    assert Socio.objects.get(pk=propio).tipo == "influencer"


def test_socio_crear_tipo_desconocido_nombra_el_campo():
    with pytest.raises(ErrorDominio) as exc:
        servicios.socio_crear(nombre="Ana", tipo="pirata")
    assert _campo(exc.value) == {"tipo"}
    assert not Socio.objects.exists()


def test_socio_crear_email_invalido_nombra_el_campo():
    with pytest.raises(ErrorValidacion) as exc:
        servicios.socio_crear(nombre="Ana", tipo="afiliado", email="no-es-email")
    assert "email" in exc.value.errores
    assert not Socio.objects.exists()


def test_socio_actualizar_cambia_solo_campos_editables():
    socio = SocioFactory()
    codigo = socio.codigo_referido
    servicios.socio_actualizar(socio=socio, datos={"nombre": "Nuevo", "activo": False})
    socio.refresh_from_db()
    assert (socio.nombre, socio.activo, socio.codigo_referido) == ("Nuevo", False, codigo)
    with pytest.raises(ErrorValidacion) as exc:
        servicios.socio_actualizar(socio=socio, datos={"codigo_referido": "X"})
    assert "codigo_referido" in exc.value.errores


def test_marca_crear_valida_modelo_ventana_y_sitio():
    marca = servicios.marca_crear(
        nombre="M", modelo_atribucion="lineal", ventana_atribucion_dias=7, sitio_web=""
    )
    assert (marca.modelo_atribucion, marca.ventana_atribucion_dias) == ("lineal", 7)
    for kwargs, campo in [
        ({"modelo_atribucion": "al_azar"}, "modelo_atribucion"),
        ({"ventana_atribucion_dias": 0}, "ventana_atribucion_dias"),
        ({"ventana_atribucion_dias": 366}, "ventana_atribucion_dias"),
        ({"sitio_web": "ftp://marca.example.com"}, "sitio_web"),
        ({"sitio_web": "javascript:alert(1)"}, "sitio_web"),
    ]:
        with pytest.raises(ErrorDominio) as exc:
            servicios.marca_crear(nombre="X", **kwargs)
        assert _campo(exc.value) == {campo}, kwargs
    assert Marca.objects.count() == 1


def test_marca_actualizar_con_usuarios():
    marca = MarcaFactory()
    u1, u2 = UsuarioFactory(), UsuarioFactory()
    servicios.marca_actualizar(
        marca=marca, datos={"modelo_atribucion": "posicional"}, usuarios=[u1, u2]
    )
    marca.refresh_from_db()
    assert marca.modelo_atribucion == "posicional"
    assert set(marca.usuarios.all()) == {u1, u2}


def test_medio_crear_y_actualizar():
    socio = SocioFactory()
    medio = servicios.medio_crear(socio=socio, plataforma="tiktok", nombre="@a")
    assert medio.socio == socio
    servicios.medio_actualizar(medio=medio, datos={"url": "https://tiktok.com/@a"})
    medio.refresh_from_db()
    assert medio.url == "https://tiktok.com/@a"
    with pytest.raises(ErrorDominio) as exc:
        servicios.medio_crear(socio=socio, plataforma="myspace")
    assert _campo(exc.value) == {"plataforma"}
    with pytest.raises(ErrorDominio) as exc2:
        servicios.medio_actualizar(medio=medio, datos={"socio": SocioFactory()})
    assert _campo(exc2.value) == {"socio"}
    medio.refresh_from_db()
    assert medio.socio == socio


def test_medio_legado_sin_socio_puede_recibir_uno():
    medio = MedioMarketing.objects.create(plataforma="blog")
    socio = SocioFactory()
    servicios.medio_actualizar(medio=medio, datos={"socio": socio})
    medio.refresh_from_db()
    assert medio.socio == socio


@pytest.mark.parametrize(
    "url_destino",
    ["javascript:alert(1)", "/relativa", "ftp://files.example.com/x", "", "https://"],
)
def test_publicacion_url_destino_solo_http(url_destino):
    medio, marca = MedioMarketingFactory(), MarcaFactory()
    with pytest.raises(ErrorDominio) as exc:
        servicios.publicacion_crear(medio=medio, marca=marca, tipo="post", url_destino=url_destino)
    assert _campo(exc.value) == {"url_destino"}
    assert not Publicacion.objects.exists()


def test_publicacion_crear_y_actualizar():
    medio, marca = MedioMarketingFactory(), MarcaFactory()
    pub = servicios.publicacion_crear(
        medio=medio, marca=marca, tipo="reel", url_destino="https://tienda.example.com/a"
    )
    assert len(pub.codigo) == 10
    servicios.publicacion_actualizar(
        publicacion=pub, datos={"url_destino": "http://tienda.example.com/b", "titulo": "T"}
    )
    pub.refresh_from_db()
    assert (pub.url_destino, pub.titulo) == ("http://tienda.example.com/b", "T")
    with pytest.raises(ErrorDominio) as exc:
        servicios.publicacion_actualizar(publicacion=pub, datos={"url_destino": "javascript:x"})
    assert _campo(exc.value) == {"url_destino"}
    with pytest.raises(ErrorDominio) as exc:
        servicios.publicacion_actualizar(publicacion=pub, datos={"tipo": "tweet"})
    assert _campo(exc.value) == {"tipo"}
    with pytest.raises(ErrorValidacion) as exc3:
        servicios.publicacion_actualizar(publicacion=pub, datos={"marca": MarcaFactory()})
    assert "marca" in exc3.value.errores
    pub.refresh_from_db()
    assert pub.url_destino == "http://tienda.example.com/b"


def test_publicacion_de_medio_sin_socio_rechazada():
    medio = MedioMarketing.objects.create(plataforma="blog")
    with pytest.raises(ErrorDominio) as exc:
        servicios.publicacion_crear(
            medio=medio, marca=MarcaFactory(), tipo="post", url_destino="https://x.example.com"
        )
    assert _campo(exc.value) == {"medio"}


def test_socio_credenciales_crea_usuario_y_rota_token():
    socio = SocioFactory(usuario=None)
    primera = servicios.socio_credenciales_rotar(socio=socio)
    socio.refresh_from_db()
    assert socio.usuario is not None
    assert socio.usuario.username == primera.usuario
    assert not socio.usuario.has_usable_password()
    assert not socio.usuario.is_staff
    segunda = servicios.socio_credenciales_rotar(socio=socio)
    assert segunda.usuario == primera.usuario
    assert segunda.token != primera.token
    assert list(TokenApi.objects.filter(usuario=socio.usuario).values_list("hash", flat=True)) == [
        TokenApi.hash_de(segunda.token)
    ]


def test_socio_credenciales_usa_el_usuario_ya_vinculado():
    usuario = UsuarioFactory()
    socio = SocioFactory(usuario=usuario)
    viejo = token_emitir(usuario=usuario)
    cred = servicios.socio_credenciales_rotar(socio=socio)
    assert cred.usuario == usuario.username
    assert not TokenApi.objects.filter(hash=TokenApi.hash_de(viejo)).exists()


def test_marca_credenciales_crea_usuario_dedicado_de_la_marca():
    marca = MarcaFactory()
    persona = UsuarioFactory()
    marca.usuarios.add(persona)
    token_persona = token_emitir(usuario=persona)
    cred = servicios.marca_credenciales_rotar(marca=marca)
    api = get_user_model().objects.get(username=cred.usuario)
    assert api in marca.usuarios.all() and api != persona
    otra = servicios.marca_credenciales_rotar(marca=marca)
    assert otra.usuario == cred.usuario and otra.token != cred.token
    # The brand's people keep their own tokens.
    assert TokenApi.objects.filter(hash=TokenApi.hash_de(token_persona)).exists()


def test_enlace_tracking_desde_setting_o_peticion(rf):
    with override_settings(PUBLIC_BASE_URL="https://go.example.com"):
        assert enlace_tracking("ABC123") == "https://go.example.com/t/ABC123"
    with override_settings(PUBLIC_BASE_URL="", ALLOWED_HOSTS=["api.example.org"]):
        peticion = rf.get("/api/v1/publicaciones/", HTTP_HOST="api.example.org")
        assert enlace_tracking("ABC123", peticion) == "http://api.example.org/t/ABC123"
        assert enlace_tracking("ABC123") == "/t/ABC123"


def test_publicacion_factory_sigue_siendo_valida_para_los_servicios():
    # Guards the factories other tests build on against drifting from the service rules.
    pub = PublicacionFactory()
    servicios.publicacion_actualizar(publicacion=pub, datos={"titulo": "ok"})
