"""Issue 10's tracking findings, each a test named after it (PRODUCT.md §8):

1. planted touchpoints: visitors are bound by the brand, never by the link;
2. click farming: a click counts once per (socio, marca, IP hash) per hour, and a
   pay-per-click rule pays only counted clicks;
3. phishing through the brand's links: destinations only on the marca's `dominios`;
4. `activo` does nothing: deactivation of a socio and of a marca;
5. cross-programme referral codes: 400, the same for unknown and foreign codes, and no leak.

Each goes through the real entry points (HTTP `/t/`, the API with real tokens, the admin, the
seed's endpoints) and through attribution, as an attacker would.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alpespartners.api.ratelimit import cache_reiniciar_cortacircuitos, redis_crudo
from comision_recompensa.atribucion.reatribucion import (
    ParametrosReatribucion,
    reatribucion_ejecutar,
)
from comision_recompensa.atribucion.services import eventos_pendientes_atribuir
from comision_recompensa.models import Comision, Modalidad, Recompensa, ReglaPago
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from conftest import cliente_para
from eventos_medios.models import (
    EstadoAtribucion,
    Evento,
    MotivoAtribucion,
    MotivoDescarte,
    OrigenVisitante,
    Publicacion,
    TipoEvento,
    TipoSocio,
)
from eventos_medios.services import catalogo
from eventos_medios.services.ingesta import MENSAJE_CODIGO_REFERIDO
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"
D = Decimal
NAVEGADOR = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
CACHE_LOCAL = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _cache_sana():
    cache_reiniciar_cortacircuitos()
    yield
    cache_reiniciar_cortacircuitos()


class Programa:
    """A brand selling on tienda.example.com, two partners with agreements (10 % of ventas)
    and a publicacion each, and API clients for the brand and the first partner."""

    def __init__(self) -> None:
        self.marca = MarcaFactory(
            sitio_web="https://tienda.example.com", dominios=["tienda.example.com"]
        )
        self.usuario_marca = UsuarioFactory()
        self.marca.usuarios.add(self.usuario_marca)
        self.cliente_marca = cliente_para(self.usuario_marca)
        self.socio = SocioFactory(usuario=UsuarioFactory(), tipo=TipoSocio.AFILIADO)
        self.otro = SocioFactory(tipo=TipoSocio.AFILIADO)
        self.cliente_socio = cliente_para(self.socio.usuario)
        self.medio = MedioMarketingFactory(socio=self.socio)
        self.pub = PublicacionFactory(
            marca=self.marca, medio=self.medio, url_destino="https://tienda.example.com/oferta"
        )
        self.pub_otro = PublicacionFactory(
            marca=self.marca,
            medio=MedioMarketingFactory(socio=self.otro),
            url_destino="https://tienda.example.com/otra",
        )
        for s in (self.socio, self.otro):
            ReglaPagoFactory(asociacion=AsociacionFactory(marca=self.marca, socio=s))

    def evento(self, **cuerpo):
        return self.cliente_marca.post(f"{API}/eventos/", cuerpo, format="json")

    def venta(self, valor: str = "100.00", **cuerpo):
        return self.evento(
            tipo="venta",
            valor=valor,
            moneda="EUR",
            referencia_externa=f"PEDIDO-{uuid.uuid4()}",
            **cuerpo,
        )


@pytest.fixture
def programa() -> Programa:
    return Programa()


@pytest.fixture
def admin_client_staff(client, staff):
    client.force_login(staff)
    return client


def _ip() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def clic(pub, *, ip: str | None = None, query: str = "", ua: str = NAVEGADOR):
    return Client(REMOTE_ADDR=ip or _ip(), HTTP_USER_AGENT=ua).get(f"/t/{pub.codigo}{query}")


def click_id(resp) -> str:
    assert resp.status_code == 302, resp.content
    return parse_qs(urlsplit(resp["Location"]).query)["apc_click"][0]


def atribuir() -> None:
    while eventos_pendientes_atribuir().reclamados:
        pass


def creditos(evento_id) -> dict:
    filas = [*Comision.objects.filter(evento_id=evento_id)]
    filas += Recompensa.objects.filter(evento_id=evento_id)
    return {c.socio_id: c.monto for c in filas}


def reatribuir(marca) -> None:
    hoy = timezone.now()
    reatribucion_ejecutar(
        parametros=ParametrosReatribucion(
            desde=hoy - dt.timedelta(days=2), hasta=hoy + dt.timedelta(days=1), marca_id=marca.pk
        )
    )


# --- Finding 1: planted touchpoints -------------------------------------------------------


def test_hallazgo_01_un_socio_crea_enlaces_no_visitantes(programa):
    """The partner plants `apc_vid=victim-1` on its own link; the brand later reports a sale
    of victim-1: nobody is credited, live or re-attributed."""
    plantado = click_id(clic(programa.pub, query="?apc_vid=victim-1"))
    guardado = Evento.objects.get(pk=plantado)
    assert (guardado.visitante_id, guardado.origen_visitante) == ("", "")
    assert guardado.metadata == {"apc_vid": "victim-1"}

    venta = programa.venta(visitante_id="victim-1")
    assert venta.status_code == 201, venta.content
    atribuir()
    evento = Evento.objects.get(pk=venta.json()["id"])
    assert evento.estado_atribucion == EstadoAtribucion.SIN_ATRIBUCION
    assert creditos(evento.pk) == {}
    reatribuir(programa.marca)
    evento.refresh_from_db()
    assert evento.estado_atribucion == EstadoAtribucion.SIN_ATRIBUCION
    assert creditos(evento.pk) == {}


def test_hallazgo_01_un_click_que_la_marca_vincula_acredita(programa):
    """The brand binds the click to its visitor (the landing carries click_id and
    visitante_id); a later sale of that visitor credits the partner, live and re-attributed."""
    click = click_id(clic(programa.pub, query="?apc_vid=cualquiera"))
    aterrizaje = programa.evento(tipo="interaccion", click_id=click, visitante_id="cliente-7")
    assert aterrizaje.status_code == 201, aterrizaje.content
    vinculado = Evento.objects.get(pk=click)
    assert (vinculado.visitante_id, vinculado.origen_visitante) == ("cliente-7", "marca")

    venta = programa.venta(visitante_id="cliente-7")
    atribuir()
    assert creditos(venta.json()["id"]) == {programa.socio.pk: D("10.00")}
    reatribuir(programa.marca)
    assert creditos(venta.json()["id"]) == {programa.socio.pk: D("10.00")}


def test_hallazgo_01_la_primera_vinculacion_gana(programa):
    click = click_id(clic(programa.pub))
    assert programa.evento(tipo="lead", click_id=click, visitante_id="v-1").status_code == 201
    assert programa.evento(tipo="lead", click_id=click, visitante_id="v-2").status_code == 201
    assert Evento.objects.get(pk=click).visitante_id == "v-1"
    venta = programa.venta(visitante_id="v-2")
    atribuir()
    assert creditos(venta.json()["id"]) == {}


def test_hallazgo_01_vinculacion_en_un_lote(programa):
    """In a batch the earliest event binds the click; a click the brand's redirector sends
    in the same batch can be bound by a later item of it."""
    click = click_id(clic(programa.pub))
    propio = str(uuid.uuid4())
    ahora = timezone.now()
    lote = programa.cliente_marca.post(
        f"{API}/eventos/lote/",
        {
            "eventos": [
                {
                    "tipo": "interaccion",
                    "click_id": click,
                    "visitante_id": "tarde",
                    "ocurrido_en": ahora.isoformat(),
                },
                {
                    "tipo": "interaccion",
                    "click_id": click,
                    "visitante_id": "temprano",
                    "ocurrido_en": (ahora - dt.timedelta(minutes=1)).isoformat(),
                },
                {"id": propio, "tipo": "click", "publicacion": str(programa.pub_otro.pk)},
                {"tipo": "lead", "click_id": propio, "visitante_id": "del-lote"},
            ]
        },
        format="json",
    )
    assert lote.status_code == 201, lote.content
    assert Evento.objects.get(pk=click).visitante_id == "temprano"
    assert Evento.objects.get(pk=propio).visitante_id == "del-lote"
    assert Evento.objects.get(pk=propio).origen_visitante == OrigenVisitante.MARCA


def test_hallazgo_01_clicks_del_enlace_anteriores_a_la_regla_no_cuentan(programa):
    """A click stored before the rule with its link-supplied visitante_id (migrated to
    `enlace`) is no touchpoint, live or re-attributed; the brand can still bind it."""
    viejo = EventoFactory(
        tipo=TipoEvento.CLICK,
        publicacion=programa.pub,
        visitante_id="victim-2",
        origen_visitante=OrigenVisitante.ENLACE,
        ocurrido_en=timezone.now() - dt.timedelta(hours=1),
    )
    venta = programa.venta(visitante_id="victim-2")
    atribuir()
    assert creditos(venta.json()["id"]) == {}
    reatribuir(programa.marca)
    assert creditos(venta.json()["id"]) == {}
    programa.evento(tipo="interaccion", click_id=str(viejo.pk), visitante_id="victim-2")
    viejo.refresh_from_db()
    assert viejo.origen_visitante == OrigenVisitante.MARCA
    reatribuir(programa.marca)
    assert creditos(venta.json()["id"]) == {programa.socio.pk: D("10.00")}


def test_hallazgo_01_migracion_de_los_clicks_guardados():
    """The data migration: link clicks (no body hash) → `enlace`; events a brand or staff
    sent with a visitante_id → `marca`; without one → ''."""
    import importlib

    from django.apps import apps

    migracion = importlib.import_module(
        "eventos_medios.migrations.0009_origen_visitante_de_eventos_guardados"
    )
    enlace = EventoFactory(tipo="click", visitante_id="v", huella="", origen_visitante="")
    marca = EventoFactory(tipo="click", visitante_id="v", huella="h" * 64, origen_visitante="")
    venta = EventoFactory(
        tipo="venta", visitante_id="v", huella="x" * 64, origen_visitante="", publicacion=None
    )
    anonimo = EventoFactory(tipo="click", huella="")
    migracion.marcar_origen(apps, None)
    origenes = dict(Evento.objects.values_list("pk", "origen_visitante"))
    assert origenes == {enlace.pk: "enlace", marca.pk: "marca", venta.pk: "marca", anonimo.pk: ""}


@pytest.mark.postgres
def test_hallazgo_01_vincular_no_cuesta_otra_sentencia_en_postgresql(programa):
    """One event that binds a click is still ONE statement (the binding is a data-modifying
    CTE of the INSERT): no transaction round trips on the single-event hot path."""
    click = click_id(clic(programa.pub))
    with CaptureQueriesContext(connection) as consultas:
        programa.evento(tipo="interaccion", click_id=click, visitante_id="v-cte")
    escrituras = [
        q["sql"]
        for q in consultas.captured_queries
        if "eventos_medios_evento" in q["sql"] and not q["sql"].startswith("SELECT")
    ]
    assert len(escrituras) == 1 and escrituras[0].startswith("WITH nuevos AS (INSERT")
    assert Evento.objects.get(pk=click).visitante_id == "v-cte"


# --- Finding 2: click farming -------------------------------------------------------------


@pytest.fixture(params=["redis", "base_de_datos"])
def backend_duplicados(request):
    if request.param == "redis":
        if redis_crudo() is None:
            pytest.skip("needs Redis (REDIS_URL)")
        yield
        return
    with override_settings(CACHES=CACHE_LOCAL):
        assert redis_crudo() is None
        yield


def test_hallazgo_02_diez_publicaciones_propias_una_ip_un_click_pagado(
    programa, backend_duplicados
):
    """The partner creates ten publicaciones itself and clicks each from one IP and one user
    agent: one counted click, and a pay-per-click rule pays it once."""
    asociacion = programa.socio.asociaciones.get(marca=programa.marca)
    ReglaPago.objects.create(
        asociacion=asociacion,
        tipo_evento=TipoEvento.CLICK,
        modalidad=Modalidad.FIJO,
        valor=D("0.05"),
        moneda="EUR",
    )
    codigos = []
    for i in range(10):
        r = programa.cliente_socio.post(
            f"{API}/publicaciones/",
            {
                "medio": str(programa.medio.pk),
                "marca": str(programa.marca.pk),
                "tipo": "post",
                "url_destino": f"https://tienda.example.com/granja/{i}",
            },
            format="json",
        )
        assert r.status_code == 201, r.content
        codigos.append(r.json()["codigo"])
    ip = _ip()
    for codigo in codigos:
        resp = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=NAVEGADOR).get(f"/t/{codigo}")
        assert resp.status_code == 302
    atribuir()
    clicks = Evento.objects.filter(tipo=TipoEvento.CLICK, publicacion__codigo__in=codigos)
    assert clicks.count() == 10
    assert clicks.exclude(estado_atribucion=EstadoAtribucion.DESCARTADO).count() == 1
    assert set(
        clicks.filter(estado_atribucion=EstadoAtribucion.DESCARTADO).values_list(
            "motivo_descarte", flat=True
        )
    ) == {MotivoDescarte.DUPLICADO}
    pagados = Comision.objects.filter(evento__in=clicks, monto__gt=0)
    assert [(c.socio_id, c.monto) for c in pagados] == [(programa.socio.pk, D("0.05"))]


# --- Finding 3: destinations ----------------------------------------------------------------

PERMITIDAS = [
    "https://tienda.example.com/oferta",
    "http://tienda.example.com/",
    "https://www.tienda.example.com/x?utm=1",
    "https://TIENDA.Example.COM/mayusculas",
    "https://tienda.example.com./punto-final",
    "https://tienda.example.com:8443/puerto",
    "https://tienda.example.com/x#@evil.example",
]
PROHIBIDAS = [
    "https://evil.example/phish",
    "http://user:pass@evil.example:8080/x",
    "https://user:pass@tienda.example.com/x",
    "https://evil.example\\@tienda.example.com/",
    "https://evil.example%5C@tienda.example.com/",
    "https://tienda.example.com@evil.example/",
    "https://tienda.example.com.evil.example/",
    "https://eviltienda.example.com/",
    "https://evil.example#@tienda.example.com",
    "https://evil.example?@tienda.example.com",
    "https://evil.example/\\tienda.example.com",
    "https:\\\\evil.example",
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/x",
    "https:evil.example",
    "HTTPS://tienda.example.com/",
    "https://tienda.example.com /x",
    "https://tienda.example.com/\u200bx",  # a zero-width space
    "https://tienda.example.com\u3000/x",  # an ideographic space
    "https://tienda.example.com/\tx",
    "https://tienda.example.com/\nx",
    "https://tіenda.example.com/",  # Cyrillic "і": another domain (xn--tenda-…)
    "https://xn--tenda-n2e.example.com/",  # that homograph, already in punycode
    "https://tienda%2Eexample.com/",
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://tienda.example.com:0/",
    "https://tienda.example.com:99999/",
    "ftp://tienda.example.com/",
]


def _crear_publicacion(cliente, programa, url):
    return cliente.post(
        f"{API}/publicaciones/",
        {
            "medio": str(programa.medio.pk),
            "marca": str(programa.marca.pk),
            "tipo": "post",
            "url_destino": url,
        },
        format="json",
    )


@pytest.mark.parametrize("url", PROHIBIDAS)
def test_hallazgo_03_url_destino_fuera_de_los_dominios_es_400(programa, cliente_staff, url):
    antes = Publicacion.objects.count()
    for cliente in (programa.cliente_socio, cliente_staff):
        r = _crear_publicacion(cliente, programa, url)
        assert r.status_code == 400, (url, r.content)
        assert "url_destino" in r.json()["errors"], r.json()
    cambio = programa.cliente_socio.patch(
        f"{API}/publicaciones/{programa.pub.pk}/", {"url_destino": url}, format="json"
    )
    assert cambio.status_code == 400 and "url_destino" in cambio.json()["errors"]
    programa.pub.refresh_from_db()
    assert programa.pub.url_destino == "https://tienda.example.com/oferta"
    assert Publicacion.objects.count() == antes


@pytest.mark.parametrize("url", PERMITIDAS)
def test_hallazgo_03_url_destino_en_los_dominios_redirige_alli(programa, url):
    r = _crear_publicacion(programa.cliente_socio, programa, url)
    assert r.status_code == 201, r.content
    resp = Client(HTTP_USER_AGENT=NAVEGADOR).get(f"/t/{r.json()['codigo']}")
    assert resp.status_code == 302
    assert resp["Location"].startswith(url.split("#")[0].rstrip("/"))


@pytest.mark.parametrize("url", ["https://evil.example/phish", "http://u:p@evil.example:8080/x"])
def test_hallazgo_03_filas_anteriores_a_la_regla_no_redirigen(programa, url):
    """A row written before the rule (or behind the application's back) answers 404 and
    stores nothing: the link checks the destination when it caches it."""
    vieja = PublicacionFactory(marca=programa.marca, medio=programa.medio, url_destino=url)
    resp = clic(vieja)
    assert resp.status_code == 404 and "Location" not in resp
    assert not Evento.objects.filter(publicacion=vieja).exists()


def test_hallazgo_03_cambiar_los_dominios_aplica_al_instante(
    programa, django_capture_on_commit_callbacks
):
    assert clic(programa.pub).status_code == 302  # the destination is cached now
    with django_capture_on_commit_callbacks(execute=True):
        catalogo.marca_actualizar(marca=programa.marca, datos={"dominios": ["otra.example.org"]})
    assert clic(programa.pub).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        catalogo.marca_actualizar(marca=programa.marca, datos={"dominios": []})
    # No dominios: the host of sitio_web (tienda.example.com) is the one.
    assert clic(programa.pub).status_code == 302


def test_hallazgo_03_sin_dominios_vale_el_host_de_sitio_web(cliente_staff):
    marca = MarcaFactory(sitio_web="https://www.brand.example", dominios=[])
    medio = MedioMarketingFactory()
    cuerpo = {"medio": str(medio.pk), "marca": str(marca.pk), "tipo": "post"}
    ok = cliente_staff.post(
        f"{API}/publicaciones/", {**cuerpo, "url_destino": "https://www.brand.example/a"}
    )
    assert ok.status_code == 201, ok.content
    fuera = cliente_staff.post(
        f"{API}/publicaciones/", {**cuerpo, "url_destino": "https://brand.example/a"}
    )
    assert fuera.status_code == 400 and "url_destino" in fuera.json()["errors"]
    sin_nada = MarcaFactory(sitio_web="", dominios=[])
    r = cliente_staff.post(
        f"{API}/publicaciones/",
        {**cuerpo, "marca": str(sin_nada.pk), "url_destino": "https://www.brand.example/a"},
    )
    assert r.status_code == 400 and "url_destino" in r.json()["errors"]


def test_hallazgo_03_dominios_de_la_marca_por_la_api(cliente_staff):
    r = cliente_staff.post(
        f"{API}/marcas/",
        {
            "nombre": "Ñandú",
            "dominios": ["Tienda.Example.COM.", "ñandú.example", "tienda.example.com"],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["dominios"] == ["tienda.example.com", "xn--and-6ma2c.example"]
    marca = MarcaFactory()
    for malo in (
        ["https://tienda.example.com"],
        ["tienda.example.com/ruta"],
        ["tienda.example.com:443"],
        ["*.example.com"],
        ["com"],
        ["10.0.0.1"],
        ["a b.example"],
        ["x" * 250 + ".com"],
        [f"s{i}.example.com" for i in range(21)],
        "tienda.example.com",
        [{"host": "x.example"}],
    ):
        r = cliente_staff.patch(f"{API}/marcas/{marca.pk}/", {"dominios": malo}, format="json")
        assert r.status_code == 400, (malo, r.content)
        assert list(r.json()["errors"]) == ["dominios"], r.json()
    marca.refresh_from_db()
    assert marca.dominios == ["example.com"]


def test_hallazgo_03_el_admin_aplica_la_misma_regla(programa, admin_client_staff):
    url = "/admin/eventos_medios/publicacion/add/"
    cuerpo = {
        "medio": str(programa.medio.pk),
        "marca": str(programa.marca.pk),
        "tipo": "post",
        "titulo": "Phishing",
        "url_destino": "https://tienda.example.com@evil.example/",
    }
    r = admin_client_staff.post(url, cuerpo)
    assert r.status_code == 200  # the form again, with the error
    assert "url_destino" in r.context["adminform"].form.errors
    assert not Publicacion.objects.filter(titulo="Phishing").exists()
    cuerpo["url_destino"] = "https://tienda.example.com/bien"
    assert admin_client_staff.post(url, cuerpo).status_code == 302
    assert Publicacion.objects.filter(titulo="Phishing").exists()


def test_hallazgo_03_dominios_en_el_admin_de_marcas(admin_client_staff):
    marca = MarcaFactory(dominios=["tienda.example.com"])
    url = f"/admin/eventos_medios/marca/{marca.pk}/change/"
    formulario = admin_client_staff.get(url)
    assert "tienda.example.com" in formulario.content.decode()
    base = {
        "nombre": marca.nombre,
        "sitio_web": marca.sitio_web,
        "activo": "on",
        "modelo_atribucion": marca.modelo_atribucion,
        "ventana_atribucion_dias": marca.ventana_atribucion_dias,
    }
    malo = admin_client_staff.post(url, {**base, "dominios": "https://evil.example/"})
    assert malo.status_code == 200 and "dominios" in malo.context["adminform"].form.errors
    bueno = admin_client_staff.post(url, {**base, "dominios": "Shop.Example.com\nñandú.example"})
    assert bueno.status_code == 302
    marca.refresh_from_db()
    assert marca.dominios == ["shop.example.com", "xn--and-6ma2c.example"]


@override_settings(DEBUG=True, EMBEBIDO=True)
def test_hallazgo_03_el_endpoint_legado_de_publicaciones(programa):
    """The seed's bodies carry no url_destino (no redirect); one that does obeys the rule,
    and without a marca it is refused (a publicacion without marca cannot redirect)."""
    cliente = Client()
    base = {"id_medio_marketing": str(programa.medio.pk), "tipo_publicacion": "Tipo 1"}

    def enviar(**extra):
        return cliente.post(
            "/medios_marketing/publicacion-comando",
            {"id": str(uuid.uuid4()), **base, **extra},
            content_type="application/json",
        )

    sin_destino = enviar()
    assert sin_destino.status_code == 202
    for cuerpo in (
        {"url_destino": "https://evil.example/x"},
        {"url_destino": "https://evil.example/x", "id_marca": str(programa.marca.pk)},
        {"url_destino": "https://tienda.example.com/x"},  # no marca
    ):
        r = enviar(**cuerpo)
        assert r.status_code == 400 and "url_destino" in r.json()["error"], r.content
    ok = enviar(url_destino="https://tienda.example.com/x", id_marca=str(programa.marca.pk))
    assert ok.status_code == 202, ok.content
    assert Publicacion.objects.filter(url_destino="https://tienda.example.com/x").count() == 1
    assert not Publicacion.objects.filter(url_destino__contains="evil").exists()


# --- Finding 4: deactivation ----------------------------------------------------------------


def _desactivar_socio(socio, por=None):
    catalogo.socio_actualizar(socio=socio, datos={"activo": False}, por=por)


def test_hallazgo_04_socio_inactivo_sus_enlaces_redirigen_pero_no_cuentan(
    programa, django_capture_on_commit_callbacks
):
    ip = _ip()
    assert clic(programa.pub, ip=ip).status_code == 302  # cached as active, claim taken
    with django_capture_on_commit_callbacks(execute=True):
        _desactivar_socio(programa.socio)
    resp = clic(programa.pub, ip=_ip())
    evento = Evento.objects.get(pk=click_id(resp))
    assert resp["Location"].startswith("https://tienda.example.com/oferta?apc_click=")
    assert evento.estado_atribucion == EstadoAtribucion.DESCARTADO
    assert evento.motivo_descarte == MotivoDescarte.INACTIVO
    # An inactive partner's click takes no duplicate-rule claim: back to active, it counts.
    nueva_ip = _ip()
    clic(programa.pub, ip=nueva_ip)
    with django_capture_on_commit_callbacks(execute=True):
        catalogo.socio_actualizar(socio=programa.socio, datos={"activo": True})
    contado = Evento.objects.get(pk=click_id(clic(programa.pub, ip=nueva_ip)))
    assert contado.estado_atribucion == EstadoAtribucion.PENDIENTE


def test_hallazgo_04_socio_inactivo_no_gana_nada_nuevo(programa):
    """Its touchpoints are skipped and the split is made over the rest; an event that names
    it directly falls through to the next precedence step, or credits nobody."""
    for pub, visitante in ((programa.pub, "v-a"), (programa.pub_otro, "v-a")):
        programa.evento(tipo="click", publicacion=str(pub.pk), visitante_id=visitante)
    click_otro = click_id(clic(programa.pub_otro))
    _desactivar_socio(programa.socio)
    por_visitante = programa.venta(visitante_id="v-a").json()["id"]
    por_publicacion = programa.venta(publicacion=str(programa.pub.pk), click_id=click_otro)
    por_codigo = programa.venta(codigo_referido=programa.socio.codigo_referido)
    atribuir()
    assert creditos(por_visitante) == {programa.otro.pk: D("10.00")}
    assert creditos(por_publicacion.json()["id"]) == {programa.otro.pk: D("10.00")}
    huerfana = Evento.objects.get(pk=por_codigo.json()["id"])
    assert creditos(huerfana.pk) == {}
    assert huerfana.estado_atribucion == EstadoAtribucion.SIN_ATRIBUCION
    assert huerfana.motivo_atribucion == MotivoAtribucion.SOCIO_INACTIVO
    reatribuir(programa.marca)
    assert creditos(por_visitante) == {programa.otro.pk: D("10.00")}
    assert creditos(huerfana.pk) == {}


def test_hallazgo_04_socio_inactivo_su_clave_solo_lee(programa):
    _desactivar_socio(programa.socio)
    c = programa.cliente_socio
    assert c.get(f"{API}/publicaciones/").status_code == 200
    assert c.get(f"{API}/medios/").status_code == 200
    for metodo, ruta, cuerpo in (
        ("post", "medios/", {"plataforma": "blog"}),
        ("patch", f"medios/{programa.medio.pk}/", {"nombre": "x"}),
        ("post", "publicaciones/", {"medio": str(programa.medio.pk), "tipo": "post"}),
        ("patch", f"publicaciones/{programa.pub.pk}/", {"titulo": "x"}),
    ):
        r = getattr(c, metodo)(f"{API}/{ruta}", cuerpo, format="json")
        assert r.status_code == 403, (ruta, r.content)
        assert "deactivated" in r.json()["detail"]
    programa.pub.refresh_from_db()
    assert programa.pub.titulo != "x"


def test_hallazgo_04_reactivado_vuelve_a_escribir(programa):
    """The token cache forgets the partner when it is saved: no stale read-only (or
    read-write) scope survives an activation change."""
    c = programa.cliente_socio
    ruta = f"{API}/publicaciones/{programa.pub.pk}/"
    assert c.patch(ruta, {"titulo": "antes"}, format="json").status_code == 200
    _desactivar_socio(programa.socio)
    assert c.patch(ruta, {"titulo": "durante"}, format="json").status_code == 403
    catalogo.socio_actualizar(socio=programa.socio, datos={"activo": True})
    assert c.patch(ruta, {"titulo": "despues"}, format="json").status_code == 200
    programa.pub.refresh_from_db()
    assert programa.pub.titulo == "despues"


def test_hallazgo_04_marca_inactiva_guarda_todo_y_no_acredita(
    programa, cliente_staff, django_capture_on_commit_callbacks
):
    assert clic(programa.pub).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        r = cliente_staff.patch(
            f"{API}/marcas/{programa.marca.pk}/", {"activo": False}, format="json"
        )
    assert r.status_code == 200
    click = Evento.objects.get(pk=click_id(clic(programa.pub)))
    assert click.motivo_descarte == MotivoDescarte.INACTIVO
    venta = programa.venta(codigo_referido=programa.socio.codigo_referido)
    assert venta.status_code == 201  # nothing lost
    atribuir()
    evento = Evento.objects.get(pk=venta.json()["id"])
    assert evento.estado_atribucion == EstadoAtribucion.SIN_ATRIBUCION
    assert evento.motivo_atribucion == MotivoAtribucion.MARCA_INACTIVA
    assert creditos(evento.pk) == {}


def test_hallazgo_04_la_activacion_emite_su_senal_en_la_transaccion(programa, cliente_staff, staff):
    from eventos_medios.signals import marca_activacion_cambiada, socio_activacion_cambiada

    recibidas = []

    def receptor(sender, **kwargs):
        recibidas.append((kwargs, connection.in_atomic_block))

    socio_activacion_cambiada.connect(receptor)
    marca_activacion_cambiada.connect(receptor)
    try:
        ruta = f"{API}/socios/{programa.socio.pk}/"
        cliente_staff.patch(ruta, {"activo": False}, format="json")
        cliente_staff.patch(ruta, {"activo": False}, format="json")  # no change: no signal
        cliente_staff.patch(f"{API}/marcas/{programa.marca.pk}/", {"activo": False}, format="json")
    finally:
        socio_activacion_cambiada.disconnect(receptor)
        marca_activacion_cambiada.disconnect(receptor)
    assert recibidas == [
        (
            {
                "signal": socio_activacion_cambiada,
                "socio_id": programa.socio.pk,
                "activo": False,
                "por": staff,
            },
            True,
        ),
        (
            {
                "signal": marca_activacion_cambiada,
                "marca_id": programa.marca.pk,
                "activo": False,
                "por": staff,
            },
            True,
        ),
    ]


def test_hallazgo_04_un_receptor_que_falla_deshace_la_desactivacion(programa, cliente_staff):
    from eventos_medios.signals import socio_activacion_cambiada

    def falla(sender, **kwargs):
        raise RuntimeError("review hold could not be written")

    socio_activacion_cambiada.connect(falla)
    try:
        with pytest.raises(RuntimeError):
            catalogo.socio_actualizar(socio=programa.socio, datos={"activo": False})
    finally:
        socio_activacion_cambiada.disconnect(falla)
    programa.socio.refresh_from_db()
    assert programa.socio.activo is True


def test_hallazgo_04_el_admin_desactiva_por_el_servicio(programa, admin_client_staff):
    from eventos_medios.signals import socio_activacion_cambiada

    recibidas = []

    def receptor(sender, **kwargs):
        recibidas.append(kwargs["activo"])

    socio_activacion_cambiada.connect(receptor)
    try:
        s = programa.socio
        r = admin_client_staff.post(
            f"/admin/eventos_medios/socio/{s.pk}/change/",
            {"nombre": s.nombre, "tipo": s.tipo, "email": s.email, "usuario": s.usuario_id},
        )
    finally:
        socio_activacion_cambiada.disconnect(receptor)
    assert r.status_code == 302
    assert recibidas == [False]


def test_hallazgo_04_el_click_de_un_inactivo_no_cuesta_mas(
    programa, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _desactivar_socio(programa.socio)
    clic(programa.pub)  # warm the cache
    maximo = 1 if redis_crudo() is not None else 2
    with django_assert_max_num_queries(maximo):
        assert clic(programa.pub).status_code == 302


# --- Finding 5: cross-programme referral codes ---------------------------------------------


def test_hallazgo_05_codigo_de_otro_programa_es_400_sin_oraculo(programa):
    ajeno = SocioFactory(nombre="Socio De Otra Marca", usuario=UsuarioFactory())
    AsociacionFactory(marca=MarcaFactory(), socio=ajeno)  # in another brand's programme only
    respuestas, consultas = [], []
    programa.cliente_marca.get(f"{API}/eventos/")  # the key is cached from here on
    for codigo in (ajeno.codigo_referido, "NOEXISTE", programa.otro.codigo_referido + "X"):
        with CaptureQueriesContext(connection) as capturadas:
            r = programa.venta(codigo_referido=codigo, metadata={"cliente": "secreto"})
        respuestas.append((r.status_code, r.json()))
        consultas.append(len(capturadas.captured_queries))
    assert respuestas[0] == respuestas[1] == respuestas[2]
    assert respuestas[0][0] == 400
    assert respuestas[0][1]["errors"] == {"codigo_referido": [MENSAJE_CODIGO_REFERIDO]}
    assert len(set(consultas)) == 1  # the same work whether the code exists or not
    assert not Evento.objects.filter(tipo=TipoEvento.VENTA).exists()
    # No leak either way: the brand does not see the partner, the partner not the sale.
    socios_vistos = programa.cliente_marca.get(f"{API}/socios/").json()["results"]
    assert ajeno.nombre not in {s["nombre"] for s in socios_vistos}
    vistos = cliente_para(ajeno.usuario).get(f"{API}/eventos/").json()["results"]
    assert vistos == []


def test_hallazgo_05_codigo_del_programa_se_acepta(programa):
    r = programa.venta(codigo_referido=programa.socio.codigo_referido)
    assert r.status_code == 201, r.content
    assert r.json()["socio"] == str(programa.socio.pk)
    atribuir()
    assert creditos(r.json()["id"]) == {programa.socio.pk: D("10.00")}


def test_hallazgo_05_un_lote_comprueba_los_codigos_con_una_consulta(programa):
    ajeno = SocioFactory()
    AsociacionFactory(marca=MarcaFactory(), socio=ajeno)
    eventos = [
        {"tipo": "lead", "codigo_referido": programa.socio.codigo_referido},
        {"tipo": "lead", "codigo_referido": programa.otro.codigo_referido},
        {"tipo": "lead", "codigo_referido": ajeno.codigo_referido},
        {"tipo": "lead", "codigo_referido": "NOEXISTE"},
    ]
    with CaptureQueriesContext(connection) as capturadas:
        r = programa.cliente_marca.post(f"{API}/eventos/lote/", {"eventos": eventos}, format="json")
    assert r.status_code == 400
    assert r.json()["errors"]["eventos"] == {
        "2": {"codigo_referido": [MENSAJE_CODIGO_REFERIDO]},
        "3": {"codigo_referido": [MENSAJE_CODIGO_REFERIDO]},
    }
    de_codigos = [q for q in capturadas.captured_queries if "codigo_referido" in q["sql"]]
    assert len(de_codigos) == 1
    ok = programa.cliente_marca.post(
        f"{API}/eventos/lote/", {"eventos": eventos[:2]}, format="json"
    )
    assert ok.status_code == 201 and not Evento.objects.filter(socio=ajeno).exists()


@override_settings(DEBUG=True, EMBEBIDO=True)
def test_hallazgo_05_el_endpoint_legado_aplica_la_misma_regla(programa):
    ajeno = SocioFactory()
    r = Client().post(
        "/eventos/evento-comando",
        {
            "id": str(uuid.uuid4()),
            "tipo_evento": "Lead",
            "id_marca": str(programa.marca.pk),
            "codigo_referido": ajeno.codigo_referido,
        },
        content_type="application/json",
    )
    assert r.status_code == 400 and "codigo_referido" in r.json()["error"]
    assert not Evento.objects.exists()
