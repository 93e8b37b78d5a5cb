"""Issue 10's findings on secrets and pages, each a test named after it (PRODUCT.md §8):

13. API keys stored only as hashes and shown once; caches hold ids and scopes, never pickles;
14. the admin login is throttled per username and per IP (django-axes);
15. every HTML page sends a Content-Security-Policy and references no external host.
"""

from __future__ import annotations

import io
import pickle
import re
import uuid

import orjson
import pytest
from django.conf import settings as ajustes
from django.core.cache import cache
from django.core.management import call_command, get_commands
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from alpespartners.api import authentication
from alpespartners.cache_sin_pickle import SerializadorSinPickle
from comision_recompensa.tests.factories import ComisionFactory, PagoFactory
from conftest import cliente_para, token_para
from eventos_medios.models import TokenApi
from eventos_medios.signals import credencial_emitida
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    PublicacionFactory,
    SocioFactory,
    StaffFactory,
    UsuarioFactory,
)

pytestmark = pytest.mark.django_db
CLAVE = "clave-segura-123"  # the factories' password


def _con_clave(clave: str) -> APIClient:
    cliente = APIClient()
    cliente.credentials(HTTP_AUTHORIZATION=f"Token {clave}")
    return cliente


# --- Finding 13: secrets ----------------------------------------------------------------------


@pytest.mark.parametrize("tipo", ["socios", "marcas"])
def test_hallazgo_13_clave_guardada_solo_como_hash_y_mostrada_una_vez(cliente_staff, tipo):
    objeto = SocioFactory() if tipo == "socios" else MarcaFactory()
    emitidas = []
    for _ in range(2):
        r = cliente_staff.post(f"/api/v1/{tipo}/{objeto.pk}/credenciales/")
        assert r.status_code == 200
        emitidas.append(r.json()["token"])
    vieja, nueva = emitidas
    assert nueva.startswith("ap_") and len(nueva) >= 40 and nueva != vieja
    fila = TokenApi.objects.get(hash=TokenApi.hash_de(nueva))
    assert fila.prefijo == nueva[:10] and nueva not in (fila.hash, fila.prefijo)
    # Nothing in the database can give the key back: no column holds it, no plain-key table.
    assert "authtoken_token" not in connection.introspection.table_names()
    for columna in ("hash", "prefijo"):
        assert not TokenApi.objects.filter(**{f"{columna}__contains": nueva[10:]}).exists()
    # Shown once: the old key is dead at once, the new one works; listing never shows keys.
    assert _con_clave(vieja).get("/api/v1/eventos/").status_code == 401
    assert _con_clave(nueva).get("/api/v1/eventos/").status_code == 200
    assert nueva not in cliente_staff.get(f"/api/v1/{tipo}/{objeto.pk}/").content.decode()


def test_hallazgo_13_drf_create_token_emite_una_clave_nueva_cada_vez():
    assert get_commands()["drf_create_token"] == "eventos_medios"  # ours, not DRF's
    usuario = UsuarioFactory(username="integrador")
    claves = []
    for _ in range(2):
        salida = io.StringIO()
        call_command("drf_create_token", "integrador", stdout=salida)
        claves.append(re.search(r"Generated token (\S+) for user integrador", salida.getvalue())[1])
    assert claves[0] != claves[1]
    assert _con_clave(claves[0]).get("/api/v1/eventos/").status_code == 401
    assert _con_clave(claves[1]).get("/api/v1/eventos/").status_code == 200
    assert TokenApi.objects.get(usuario=usuario).hash == TokenApi.hash_de(claves[1])


def _entrada_cacheada(clave: str) -> bytes:
    nombre = authentication._clave(TokenApi.hash_de(clave))
    from alpespartners.api.ratelimit import redis_crudo

    r = redis_crudo()
    crudo = r.get(cache.make_key(nombre)) if r is not None else cache.get(nombre)
    assert crudo is not None, "the request did not cache its key"
    return crudo


def test_hallazgo_13_la_cache_guarda_ids_y_alcance_nunca_objetos(marca, usuario_marca):
    usuario_marca.email = "privado@example.com"
    usuario_marca.save()
    clave = token_para(usuario_marca)
    assert _con_clave(clave).get("/api/v1/eventos/").status_code == 200
    crudo = _entrada_cacheada(clave)
    documento = orjson.loads(crudo)  # JSON, not a pickle
    assert set(documento) == {"token", "prefijo", "usuario", "marcas", "socio", "socio_activo"}
    assert documento["marcas"] == [str(marca.pk)]
    texto = crudo.decode()
    for secreto in (usuario_marca.password, usuario_marca.email, usuario_marca.username, clave):
        assert secreto not in texto


class _Explosivo:
    """Unpickling it would run code (here: record that it ran)."""

    ejecutado = False

    def __reduce__(self):
        return (_marcar_ejecutado, ())


def _marcar_ejecutado() -> None:
    _Explosivo.ejecutado = True


def test_hallazgo_13_un_pickle_plantado_en_la_cache_nunca_se_ejecuta(marca, usuario_marca):
    clave = token_para(usuario_marca)
    nombre = authentication._clave(TokenApi.hash_de(clave))
    from alpespartners.api.ratelimit import redis_crudo

    carga = pickle.dumps(_Explosivo())
    r = redis_crudo()
    if r is not None:
        r.set(cache.make_key(nombre), carga, ex=30)
    else:
        cache.set(nombre, carga, 30)
    # The planted entry is not a JSON document: distrusted, the database answers.
    assert _con_clave(clave).get("/api/v1/eventos/").status_code == 200
    assert not _Explosivo.ejecutado
    # Nor does the Redis cache's serializer ever unpickle.
    assert SerializadorSinPickle().loads(carga) == carga
    assert not _Explosivo.ejecutado
    if ajustes.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        assert ajustes.CACHES["default"]["OPTIONS"]["serializer"].endswith("SerializadorSinPickle")
        cache.set(f"plantado-{uuid.uuid4()}", carga)
        assert not _Explosivo.ejecutado


def test_hallazgo_13_el_usuario_se_carga_solo_si_se_pide(
    marca, usuario_marca, django_assert_num_queries
):
    cliente = cliente_para(usuario_marca)
    assert cliente.get("/api/v1/eventos/").status_code == 200  # cached now
    autenticacion = authentication.CachedTokenAuthentication()
    clave = token_para(usuario_marca)
    with django_assert_num_queries(0):
        usuario, token = autenticacion.authenticate_credentials(clave)
        assert usuario.pk == usuario_marca.pk and usuario.is_active and not usuario.is_staff
        assert token.prefijo == clave[:10]
    with django_assert_num_queries(1):  # deferred fields load on demand
        assert usuario.username == usuario_marca.username


def test_hallazgo_13_emitir_una_clave_envia_credencial_emitida(cliente_staff, staff):
    recibidas = []

    def receptor(sender, **kwargs):
        recibidas.append(kwargs)

    credencial_emitida.connect(receptor, dispatch_uid="prueba-credencial")
    try:
        socio = SocioFactory()
        primera = cliente_staff.post(f"/api/v1/socios/{socio.pk}/credenciales/").json()["token"]
        segunda = cliente_staff.post(f"/api/v1/socios/{socio.pk}/credenciales/").json()["token"]
    finally:
        credencial_emitida.disconnect(dispatch_uid="prueba-credencial")
    socio.refresh_from_db()
    assert [(r["usuario_id"], r["rotada"]) for r in recibidas] == [
        (socio.usuario_id, False),
        (socio.usuario_id, True),
    ]
    assert recibidas[1]["prefijo"] == segunda[:10] and recibidas[1]["por"].pk == staff.pk
    for r in recibidas:  # the key itself never travels with the signal
        assert primera not in repr(r) and segunda not in repr(r)


def test_hallazgo_13_un_receptor_que_falla_deshace_la_emision(staff):
    socio = SocioFactory(usuario=UsuarioFactory())
    vieja = token_para(socio.usuario)

    def falla(sender, **kwargs):
        raise RuntimeError("audit log unavailable")

    credencial_emitida.connect(falla, dispatch_uid="prueba-falla")
    try:
        with pytest.raises(RuntimeError):
            cliente_para(staff).post(f"/api/v1/socios/{socio.pk}/credenciales/")
    finally:
        credencial_emitida.disconnect(dispatch_uid="prueba-falla")
    assert TokenApi.objects.get(usuario=socio.usuario).hash == TokenApi.hash_de(vieja)


# --- Finding 14: admin brute force --------------------------------------------------------------


def _login(cliente: Client, usuario: str, clave: str, ip: str = "203.0.113.7"):
    return cliente.post(
        "/admin/login/?next=/admin/",
        {"username": usuario, "password": clave},
        REMOTE_ADDR=ip,
    )


def test_hallazgo_14_login_del_admin_bloqueado_por_usuario():
    staff = StaffFactory()
    cliente = Client()
    limite = ajustes.AXES_FAILURE_LIMIT
    for intento in range(1, limite + 1):
        r = _login(cliente, staff.username, "mala", ip=f"198.51.100.{intento}")
        # The form again, with its error; the limit-th failure locks the username.
        assert r.status_code == (429 if intento == limite else 200)
    # Locked: even the right password, even from a fresh IP, gets a 429 (and no session).
    r = _login(Client(), staff.username, CLAVE, ip="192.0.2.50")
    assert r.status_code == 429
    assert "_auth_user_id" not in Client().session
    # An operator unlocks it (the runbook: `manage.py axes_reset_username <user>`).
    call_command("axes_reset_username", staff.username, stdout=io.StringIO())
    assert _login(Client(), staff.username, CLAVE, ip="192.0.2.50").status_code == 302


def test_hallazgo_14_login_del_admin_bloqueado_por_ip():
    cliente = Client()
    for intento in range(1, ajustes.AXES_FAILURE_LIMIT + 1):
        r = _login(cliente, f"nadie-{uuid.uuid4().hex[:6]}", "mala")
        assert r.status_code == (429 if intento == ajustes.AXES_FAILURE_LIMIT else 200)
    staff = StaffFactory()
    assert _login(Client(), staff.username, CLAVE).status_code == 429  # same IP: locked
    assert _login(Client(), staff.username, CLAVE, ip="192.0.2.9").status_code == 302
    call_command("axes_reset", stdout=io.StringIO())
    assert _login(Client(), staff.username, CLAVE).status_code == 302


def test_hallazgo_14_la_api_con_token_no_se_ve_afectada(marca, usuario_marca):
    for _ in range(ajustes.AXES_FAILURE_LIMIT + 2):
        _login(Client(), usuario_marca.username, "mala", ip="127.0.0.1")
    assert _login(Client(), usuario_marca.username, CLAVE, ip="10.9.9.9").status_code == 429
    # The same user's API key keeps working: token auth never goes through the login backend.
    assert cliente_para(usuario_marca).get("/api/v1/eventos/").status_code == 200


# --- Finding 15: Content-Security-Policy --------------------------------------------------------

DIRECTIVAS = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}
# Elements the browser loads (or submits to) by itself; a plain link (<a href>, e.g. to a
# brand's site) is not a load. Any of their URL attributes pointing to another host fails.
_ELEMENTO_QUE_CARGA = re.compile(
    r"<(?:script|link|img|image|iframe|frame|source|video|audio|embed|object|form|use|input)\b"
    r"[^>]*>",
    re.IGNORECASE,
)
_URL_EXTERNA = re.compile(
    r"""\b(?:src|href|action|srcset|poster|data|formaction)\s*=\s*["']\s*(?:https?:)?//""",
    re.IGNORECASE,
)
_CSS_EXTERNO = re.compile(r"""(?:url\(|@import)\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _paginas_html(staff) -> dict[str, Client]:
    """Every kind of HTML page the service serves, with a client that may see it."""
    socio = SocioFactory()
    publicacion = PublicacionFactory(medio__socio=socio)
    evento = EventoFactory(publicacion=publicacion)
    comision = ComisionFactory(evento=evento, socio=socio)
    pago = PagoFactory(socio=socio)
    admin = Client()
    admin.force_login(staff)
    paginas = {
        "/admin/login/": Client(),
        "/api/v1/docs/": Client(),
        "/no-existe": Client(),  # Django's 404 page
        "/admin/": admin,
        "/admin/tablero/": admin,
        "/admin/tablero/?desde=2026-01-01&hasta=2026-01-31": admin,
        "/admin/password_change/": admin,
    }
    for modelo, objeto in (
        ("eventos_medios/socio", socio),
        ("eventos_medios/marca", publicacion.marca),
        ("eventos_medios/publicacion", publicacion),
        ("eventos_medios/mediomarketing", publicacion.medio),
        ("eventos_medios/evento", evento),
        ("eventos_medios/tokenapi", None),
        ("comision_recompensa/comision", comision),
        ("comision_recompensa/pago", pago),
        ("comision_recompensa/asociacionestrategica", None),
        ("axes/accessattempt", None),
        ("auth/user", staff),
    ):
        paginas[f"/admin/{modelo}/"] = admin
        if objeto is not None:
            paginas[f"/admin/{modelo}/{objeto.pk}/change/"] = admin
    paginas["/admin/eventos_medios/publicacion/add/"] = admin
    return paginas


def test_hallazgo_15_cada_pagina_html_envia_csp_y_nada_externo(staff):
    paginas = _paginas_html(staff)
    # The browsable API (a staff session asking for HTML).
    navegable = Client()
    navegable.force_login(staff)
    vistas = {ruta: cliente.get(ruta) for ruta, cliente in paginas.items()}
    for ruta in ("/api/v1/eventos/", "/api/v1/socios/", "/api/v1/reportes/resumen/"):
        vistas[ruta] = navegable.get(ruta, HTTP_ACCEPT="text/html")
    assert len(vistas) >= 25
    for ruta, r in vistas.items():
        assert r["Content-Type"].startswith("text/html"), (ruta, r.status_code, r["Content-Type"])
        assert r.status_code in (200, 404), (ruta, r.status_code)
        politica = dict(d.partition(" ")[::2] for d in r["Content-Security-Policy"].split("; "))
        for directiva, valor in DIRECTIVAS.items():
            assert politica[directiva] == valor, (ruta, directiva)
        html = r.content.decode()
        externos = [e for e in _ELEMENTO_QUE_CARGA.findall(html) if _URL_EXTERNA.search(e)]
        assert not externos, (ruta, externos)
        assert not _CSS_EXTERNO.findall(html), ruta
        # No inline script the policy would have to allow (JSON data blocks are not run).
        for apertura in re.findall(r"<script\b[^>]*>", html, re.IGNORECASE):
            assert "src=" in apertura or "application/json" in apertura, (ruta, apertura)


def test_hallazgo_15_la_documentacion_sirve_sus_recursos_desde_la_app():
    r = Client().get("/api/v1/docs/")
    html = r.content.decode()
    recursos = re.findall(r"""(?:src|href)="([^"]+)\"""", html)
    assert any("swagger-ui-bundle.js" in x for x in recursos)
    assert all(x.startswith("/") for x in recursos), recursos
    guion = Client().get("/api/v1/docs/?script=")
    assert guion.status_code == 200 and "javascript" in guion["Content-Type"]
    assert "/api/v1/schema/" in guion.content.decode()
    # JSON answers carry no CSP (nothing to render); the policy is for HTML.
    assert "Content-Security-Policy" not in Client().get("/health")
