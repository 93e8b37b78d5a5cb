"""Security review written as tests (PRODUCT.md §6).

- partner A can never read, filter for, or explain partner B's items;
- a brand user cannot send events for another brand (nor can a partner send any);
- anonymous access is refused everywhere except /health, /t/<codigo>, the schema and the docs;
- tokens can be rotated, and the old one stops working at once;
- the admin requires staff;
- production settings pass `manage.py check --deploy`, and insecure ones refuse to start;
- secrets never appear in logs or error bodies.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from comision_recompensa.tests.factories import (
    ComisionFactory,
    PagoFactory,
    RecompensaFactory,
)
from conftest import cliente_para, token_para
from eventos_medios.models import Evento, TokenApi
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    StaffFactory,
    UsuarioFactory,
)

RAIZ = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def _items_de(socio, marca) -> dict[str, str]:
    """One item of each kind owned by ``socio``; returns {recurso: id}."""
    medio = MedioMarketingFactory(socio=socio)
    publicacion = PublicacionFactory(marca=marca, medio=medio)
    evento = EventoFactory(
        marca=marca,
        publicacion=publicacion,
        socio=socio,
        tipo="venta",
        valor=Decimal("40.00"),
        moneda="EUR",
        estado_atribucion="atribuido",
    )
    comision = ComisionFactory(evento=evento, socio=socio, detalle_atribucion={"modelo": "x"})
    recompensa = RecompensaFactory(
        evento=EventoFactory(
            marca=marca,
            publicacion=publicacion,
            socio=socio,
            tipo="lead",
            estado_atribucion="atribuido",
        ),
        socio=socio,
        detalle_atribucion={"modelo": "x"},
    )
    pago = PagoFactory(socio=socio)
    return {
        "medios": str(medio.pk),
        "publicaciones": str(publicacion.pk),
        "eventos": str(evento.pk),
        "comisiones": str(comision.pk),
        "recompensas": str(recompensa.pk),
        "pagos": str(pago.pk),
    }


@pytest.fixture
def dos_socios():
    """Partners A and B in the same brand's programme, each with one item of every kind."""
    marca = MarcaFactory()
    a = SocioFactory(usuario=UsuarioFactory())
    b = SocioFactory(usuario=UsuarioFactory())
    return {"a": a, "b": b, "items_a": _items_de(a, marca), "items_b": _items_de(b, marca)}


def _ids(respuesta) -> set[str]:
    assert respuesta.status_code == 200, respuesta.content
    return {str(x["id"]) for x in respuesta.json()["results"]}


RECURSOS = ["medios", "publicaciones", "eventos", "comisiones", "recompensas", "pagos"]


@pytest.mark.parametrize("recurso", RECURSOS)
def test_socio_a_nunca_ve_ni_filtra_los_items_del_socio_b(dos_socios, recurso):
    cliente = cliente_para(dos_socios["a"].usuario)
    propio, ajeno = dos_socios["items_a"][recurso], dos_socios["items_b"][recurso]
    url = f"/api/v1/{recurso}/"

    visibles = _ids(cliente.get(url))
    assert propio in visibles and ajeno not in visibles
    assert cliente.get(f"{url}{ajeno}/").status_code == 404
    assert cliente.get(f"{url}{propio}/").status_code == 200
    # Filtering for B's items returns nothing (not an error that leaks existence).
    assert _ids(cliente.get(url, {"socio": str(dos_socios["b"].pk)})) == set()
    assert ajeno not in _ids(cliente.get(url, {"id": ajeno}))


@pytest.mark.parametrize("recurso", ["comisiones", "recompensas"])
def test_socio_a_no_puede_explicar_ni_tocar_los_creditos_de_b(dos_socios, recurso):
    cliente = cliente_para(dos_socios["a"].usuario)
    propio, ajeno = dos_socios["items_a"][recurso], dos_socios["items_b"][recurso]

    assert cliente.get(f"/api/v1/{recurso}/{propio}/explicacion/").status_code == 200
    assert cliente.get(f"/api/v1/{recurso}/{ajeno}/explicacion/").status_code == 404
    for accion in ("aprobar", "revertir"):
        assert cliente.post(f"/api/v1/{recurso}/{ajeno}/{accion}/").status_code in (403, 404)


def test_socio_a_no_ve_a_b_en_informes_ni_exportaciones(dos_socios):
    cliente = cliente_para(dos_socios["a"].usuario)
    b = dos_socios["b"]
    ajenos = set(dos_socios["items_b"].values()) | {str(b.pk), b.codigo_referido, b.nombre}
    for url in (
        "/api/v1/reportes/resumen/",
        "/api/v1/reportes/publicaciones/",
        "/api/v1/exportaciones/comisiones/",
        "/api/v1/exportaciones/recompensas/",
        "/api/v1/exportaciones/eventos/",
    ):
        respuesta = cliente.get(url)
        assert respuesta.status_code in (200, 400, 403, 404), (url, respuesta.status_code)
        if respuesta.streaming:
            cuerpo = b"".join(respuesta.streaming_content).decode()
        else:
            cuerpo = respuesta.content.decode()
        assert not [x for x in ajenos if x in cuerpo], url
    assert cliente.get("/api/v1/socios/").status_code in (403, 404) or str(b.pk) not in (
        cliente.get("/api/v1/socios/").content.decode()
    )


def _venta(marca) -> dict:
    return {
        "marca": str(marca.pk),
        "tipo": "venta",
        "valor": "10.00",
        "moneda": "EUR",
        "referencia_externa": f"r-{uuid.uuid4()}",
    }


def test_una_marca_no_puede_enviar_eventos_de_otra(cliente_marca, marca):
    otra = MarcaFactory()
    unico = cliente_marca.post("/api/v1/eventos/", _venta(otra), format="json")
    assert unico.status_code in (400, 403), unico.content
    lote = cliente_marca.post(
        "/api/v1/eventos/lote/", {"eventos": [_venta(marca), _venta(otra)]}, format="json"
    )
    assert lote.status_code in (400, 403), lote.content
    assert not Evento.objects.exists()  # all-or-nothing: not even the brand's own one
    # Nor may a partner send events at all, for any brand.
    socio = SocioFactory(usuario=UsuarioFactory())
    assert (
        cliente_para(socio.usuario)
        .post("/api/v1/eventos/", _venta(marca), format="json")
        .status_code
        == 403
    )
    # The brand's own event goes through.
    assert cliente_marca.post("/api/v1/eventos/", _venta(marca), format="json").status_code == 201


def _rutas_del_esquema() -> list[tuple[str, str]]:
    cliente = APIClient()
    esquema = cliente.get("/api/v1/schema/", {"format": "json"})
    assert esquema.status_code == 200
    rutas = []
    for ruta, operaciones in esquema.json()["paths"].items():
        concreta = re.sub(r"\{recurso\}", "comisiones", ruta)
        concreta = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), concreta)
        for metodo in operaciones:
            if metodo in {"get", "post", "put", "patch", "delete"}:
                rutas.append((metodo, concreta))
    return rutas


def test_anonimo_rechazado_en_toda_la_api(dos_socios):
    anonimo = APIClient()
    rutas = _rutas_del_esquema()
    assert len(rutas) > 40
    abiertas = []
    for metodo, ruta in rutas:
        respuesta = getattr(anonimo, metodo)(ruta, {}, format="json")
        if respuesta.status_code not in (401, 403):
            abiertas.append((metodo, ruta, respuesta.status_code))
    assert abiertas == [], abiertas
    # Anonymous requests never reached the data: nothing was created or changed.
    assert Evento.objects.count() == 4


def test_lo_unico_publico_es_health_tracking_esquema_y_docs(dos_socios):
    anonimo = Client()
    publicacion = PublicacionFactory(url_destino="https://tienda.example.com/")
    assert anonimo.get("/health").status_code == 200
    assert anonimo.get(f"/t/{publicacion.codigo}").status_code == 302
    assert anonimo.get("/api/v1/schema/").status_code == 200
    assert anonimo.get("/api/v1/docs/").status_code == 200
    # …even with a stale or bogus token header.
    assert anonimo.get("/api/v1/schema/", HTTP_AUTHORIZATION="Token nope").status_code == 200
    # Lists answer 401 with the error envelope and the auth scheme.
    respuesta = anonimo.get("/api/v1/comisiones/")
    assert respuesta.status_code == 401
    assert respuesta.json()["code"] == "not_authenticated"
    assert anonimo.get("/api/v1/comisiones/", HTTP_AUTHORIZATION="Token nope").status_code == 401


@pytest.mark.parametrize("tipo", ["socios", "marcas"])
def test_rotar_token_invalida_el_anterior_al_instante(cliente_staff, tipo):
    if tipo == "socios":
        objeto = SocioFactory(usuario=UsuarioFactory())
        usuario = objeto.usuario
    else:
        objeto = MarcaFactory()
        usuario = None
    primera = cliente_staff.post(f"/api/v1/{tipo}/{objeto.pk}/credenciales/")
    assert primera.status_code == 200, primera.content
    viejo = primera.json()["token"]
    usuario = usuario or TokenApi.objects.get(hash=TokenApi.hash_de(viejo)).usuario
    cliente_viejo = APIClient()
    cliente_viejo.credentials(HTTP_AUTHORIZATION=f"Token {viejo}")
    assert cliente_viejo.get("/api/v1/eventos/").status_code == 200  # and now it is cached

    segunda = cliente_staff.post(f"/api/v1/{tipo}/{objeto.pk}/credenciales/")
    nuevo = segunda.json()["token"]
    assert nuevo != viejo
    assert cliente_viejo.get("/api/v1/eventos/").status_code == 401
    cliente_nuevo = APIClient()
    cliente_nuevo.credentials(HTTP_AUTHORIZATION=f"Token {nuevo}")
    assert cliente_nuevo.get("/api/v1/eventos/").status_code == 200
    assert list(TokenApi.objects.filter(usuario=usuario).values_list("hash", flat=True)) == [
        TokenApi.hash_de(nuevo)
    ]


def test_solo_el_staff_rota_tokens(dos_socios, cliente_marca):
    socio = dos_socios["a"]
    for cliente in (cliente_para(socio.usuario), cliente_marca, APIClient()):
        r = cliente.post(f"/api/v1/socios/{socio.pk}/credenciales/")
        assert r.status_code in (401, 403, 404)
    assert TokenApi.objects.filter(usuario=socio.usuario).count() <= 1


@pytest.mark.parametrize("ruta", ["/admin/", "/admin/tablero/", "/admin/comision_recompensa/pago/"])
def test_el_admin_exige_staff(ruta):
    anonimo = Client()
    assert anonimo.get(ruta).status_code == 302
    normal = Client()
    normal.force_login(UsuarioFactory())
    respuesta = normal.get(ruta)
    assert respuesta.status_code in (302, 403)
    if respuesta.status_code == 302:
        assert "/login/" in respuesta["Location"]
    staff = Client()
    staff.force_login(StaffFactory(is_superuser=True))
    assert staff.get(ruta).status_code == 200


# --- Production settings -------------------------------------------------------------------
def _entorno_produccion(**extra: str) -> dict[str, str]:
    entorno = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "IP_HASH"))
    }
    entorno.update(
        DJANGO_SETTINGS_MODULE="alpespartners.settings",
        DEBUG="false",
        ALLOWED_HOSTS="alpes.example.com",
        SECRET_KEY=secrets.token_urlsafe(60),
        IP_HASH_SALT=secrets.token_urlsafe(24),
    )
    entorno.update(extra)
    return {k: v for k, v in entorno.items() if v != "<unset>"}


def _manage(entorno: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=RAIZ,
        env=entorno,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_la_configuracion_de_produccion_pasa_check_deploy():
    resultado = _manage(_entorno_produccion(), "check", "--deploy", "--fail-level", "WARNING")
    assert resultado.returncode == 0, resultado.stdout + resultado.stderr
    assert "no issues" in resultado.stdout


@pytest.mark.parametrize(
    ("variable", "valor"),
    [
        ("SECRET_KEY", "<unset>"),
        ("SECRET_KEY", "corta"),
        ("SECRET_KEY", "django-insecure-" + "x" * 60),
        ("IP_HASH_SALT", "<unset>"),
    ],
)
def test_sin_secretos_de_produccion_el_proceso_no_arranca(variable, valor):
    resultado = _manage(_entorno_produccion(**{variable: valor}), "check")
    assert resultado.returncode != 0
    assert variable in resultado.stderr
    assert "ImproperlyConfigured" in resultado.stderr


# --- Secrets never leak --------------------------------------------------------------------
def test_los_secretos_no_aparecen_en_logs_ni_en_errores(settings, caplog, dos_socios):
    settings.SECRET_KEY = "clave-secreta-" + secrets.token_hex(32)
    settings.PAGOS_SECRETO = "pagos-secreto-" + secrets.token_hex(16)
    settings.IP_HASH_SALT = "sal-ip-" + secrets.token_hex(16)
    socio = dos_socios["a"]
    token_socio = token_para(socio.usuario)
    token_staff = token_para(StaffFactory())
    pago = dos_socios["items_a"]["pagos"]
    publicacion = PublicacionFactory(url_destino="https://tienda.example.com/")
    secretos = [
        settings.SECRET_KEY,
        settings.PAGOS_SECRETO,
        settings.IP_HASH_SALT,
        token_socio,
        token_staff,
    ]
    caplog.set_level(logging.DEBUG)
    cuerpos: list[bytes] = []

    def con_token(token: str) -> APIClient:
        c = APIClient(raise_request_exception=False)
        c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return c

    socio_api, staff_api = con_token(token_socio), con_token(token_staff)
    respuestas = [
        # A partner doing what it may not: 403s and 404s.
        socio_api.post("/api/v1/eventos/", _venta(MarcaFactory()), format="json"),
        socio_api.get(f"/api/v1/comisiones/{dos_socios['items_b']['comisiones']}/"),
        socio_api.post("/api/v1/socios/", {"nombre": "x"}, format="json"),
        # Bad input, a bogus token, a malformed header.
        staff_api.post("/api/v1/eventos/", {"tipo": "nada"}, format="json"),
        staff_api.post("/api/v1/eventos/", b"{no es json", content_type="application/json"),
        con_token(token_staff + "x").get("/api/v1/eventos/"),
        con_token("a b c").get("/api/v1/eventos/"),
        # A forged payments callback, and one signed with the wrong key.
        APIClient().post(
            f"/api/v1/pagos/{pago}/confirmacion/",
            {"estado": "pagado"},
            format="json",
            HTTP_X_ALPES_FIRMA="t=1700000000,sha256=" + "0" * 64,
        ),
        APIClient().post(f"/api/v1/pagos/{pago}/confirmacion/", {}, format="json"),
        # The tracking link hashes the IP with the salt: the salt itself never shows.
        Client().get(f"/t/{publicacion.codigo}", REMOTE_ADDR="203.0.113.9"),
        Client().get("/t/no-existe"),
        # Rotation returns the new token (to staff only) but never logs it.
        staff_api.post(f"/api/v1/socios/{socio.pk}/credenciales/"),
    ]
    assert [r.status_code for r in respuestas][:10] == [
        403,
        404,
        403,
        400,
        400,
        401,
        401,
        401,  # a callback without a valid X-Alpes-Firma is not authenticated
        401,
        302,
    ], [r.status_code for r in respuestas]
    nuevo_token = respuestas[-1].json()["token"]
    cuerpos = [r.content for r in respuestas[:-1]]
    for r in respuestas:
        cuerpos.append(" ".join(f"{k}: {v}" for k, v in r.items()).encode())
    registro = caplog.text + " ".join(str(getattr(x, "args", "")) for x in caplog.records)
    for secreto in [*secretos, nuevo_token]:
        assert secreto not in registro
        assert all(secreto.encode() not in cuerpo for cuerpo in cuerpos), secreto[:8]
