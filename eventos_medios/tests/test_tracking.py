"""The tracking link `GET /t/<codigo>` (PRODUCT.md §2)."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from alpespartners.api.ratelimit import cache_reiniciar_cortacircuitos, redis_crudo
from eventos_medios.models import EstadoAtribucion, Evento, MotivoDescarte, Publicacion, TipoEvento
from eventos_medios.services import duplicados
from eventos_medios.services.tracking import (
    es_bot,
    ip_hash,
    publicacion_cache_invalidar,
    url_con_click,
)
from eventos_medios.signals import eventos_registrados
from eventos_medios.tests.factories import MedioMarketingFactory, PublicacionFactory

pytestmark = pytest.mark.django_db

NAVEGADOR = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


@pytest.fixture(autouse=True)
def _cache_sana():
    cache_reiniciar_cortacircuitos()
    yield
    cache_reiniciar_cortacircuitos()


def _ip() -> str:
    """A fresh IP per test so duplicate claims in a shared Redis never collide."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def _clic(publicacion, *, ip=None, ua=NAVEGADOR, metodo="get", query=""):
    cliente = Client(REMOTE_ADDR=ip or _ip(), HTTP_USER_AGENT=ua)
    return getattr(cliente, metodo)(f"/t/{publicacion.codigo}{query}")


def _click_id(resp) -> uuid.UUID:
    return uuid.UUID(parse_qs(urlsplit(resp["Location"]).query)["apc_click"][0])


def test_redirige_a_url_destino_con_apc_click_y_guarda_el_click():
    pub = PublicacionFactory(url_destino="https://tienda.example.com/oferta")
    resp = _clic(pub, ip="203.0.113.7")

    assert resp.status_code == 302
    destino = urlsplit(resp["Location"])
    assert (destino.scheme, destino.netloc, destino.path) == (
        "https",
        "tienda.example.com",
        "/oferta",
    )
    evento = Evento.objects.get(id=_click_id(resp))
    assert evento.tipo == TipoEvento.CLICK
    assert evento.estado_atribucion == EstadoAtribucion.PENDIENTE
    assert evento.motivo_descarte == ""
    assert evento.publicacion_id == pub.id
    assert evento.marca_id == pub.marca_id
    assert evento.socio_id == pub.medio.socio_id
    assert evento.user_agent == NAVEGADOR
    assert evento.ip_hash == hashlib.sha256(b"dev-ip-salt203.0.113.7").hexdigest()
    assert "203.0.113.7" not in str(Evento.objects.filter(id=evento.id).values().get())
    assert resp["Cache-Control"] == "no-store"


def test_conserva_query_y_fragmento_del_destino():
    pub = PublicacionFactory(url_destino="https://tienda.example.com/p?utm_source=x&a=1#seccion")
    resp = _clic(pub)
    destino = urlsplit(resp["Location"])
    assert destino.fragment == "seccion"
    query = parse_qs(destino.query)
    assert query["utm_source"] == ["x"]
    assert query["a"] == ["1"]
    assert query["apc_click"] == [str(_click_id(resp))]


def test_url_con_click_reemplaza_un_apc_click_previo():
    evento_id = uuid.uuid4()
    url = url_con_click("https://x.example.com/?apc_click=viejo&b=2", evento_id)
    assert parse_qs(urlsplit(url).query) == {"b": ["2"], "apc_click": [str(evento_id)]}


@pytest.mark.parametrize(
    "query",
    [
        "?next=https://malo.example.com",
        "?url=//malo.example.com",
        "?url_destino=javascript:alert(1)&redirect=https://malo.example.com",
        "?apc_click=https://malo.example.com",
    ],
)
def test_ningun_parametro_cambia_el_destino(query):
    pub = PublicacionFactory(url_destino="https://tienda.example.com/oferta")
    resp = _clic(pub, query=query)
    assert resp.status_code == 302
    assert resp["Location"].startswith("https://tienda.example.com/oferta?apc_click=")
    assert "malo" not in resp["Location"]


def test_codigo_desconocido_es_404():
    assert Client().get("/t/NOEXISTE99").status_code == 404
    assert Client().get("/t/..%2F..%2Fetc").status_code == 404
    assert Evento.objects.count() == 0


def test_publicacion_sin_url_destino_es_404():
    pub = PublicacionFactory(url_destino="")
    assert _clic(pub).status_code == 404
    assert Evento.objects.count() == 0


def test_metodo_no_permitido():
    pub = PublicacionFactory()
    assert Client().post(f"/t/{pub.codigo}").status_code == 405


@pytest.mark.parametrize("metodo", ["post", "put", "patch", "delete"])
def test_otros_metodos_son_405_json_sin_csrf(metodo):
    """A cross-site POST (CSRF checks on, no token) gets a JSON 405, not the CSRF HTML 403."""
    pub = PublicacionFactory()
    resp = getattr(Client(enforce_csrf_checks=True), metodo)(f"/t/{pub.codigo}")

    assert resp.status_code == 405
    assert resp["Allow"] == "GET, HEAD"
    assert resp["Content-Type"] == "application/json"
    assert resp.json()["code"] == "method_not_allowed"
    assert Evento.objects.count() == 0


def test_health_responde_a_head_y_get():
    assert Client().head("/health").status_code == 200
    assert Client().get("/health").status_code == 200
    resp = Client().post("/health")
    assert resp.status_code == 405 and "HEAD" in resp["Allow"]


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Twitterbot/1.0",
        "curl/8.5.0",
        "python-requests/2.32",
        "",
    ],
)
def test_bots_se_redirigen_pero_se_guardan_descartados(ua):
    pub = PublicacionFactory()
    resp = _clic(pub, ua=ua)
    assert resp.status_code == 302
    evento = Evento.objects.get(id=_click_id(resp))
    assert evento.estado_atribucion == EstadoAtribucion.DESCARTADO
    assert evento.motivo_descarte == MotivoDescarte.BOT


def test_navegadores_reales_no_son_bots():
    assert not es_bot(NAVEGADOR)
    assert not es_bot("Mozilla/5.0 (Linux; Android 13; Cubot X30) AppleWebKit/537.36 Mobile")
    assert not es_bot(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )


def test_head_se_redirige_y_se_guarda_descartado():
    pub = PublicacionFactory()
    resp = _clic(pub, metodo="head")
    assert resp.status_code == 302
    evento = Evento.objects.get(id=_click_id(resp))
    assert evento.estado_atribucion == EstadoAtribucion.DESCARTADO
    assert evento.motivo_descarte == MotivoDescarte.HEAD


def test_repeticion_de_la_misma_ip_en_una_hora_es_duplicado():
    pub = PublicacionFactory()
    ip = _ip()
    primero = Evento.objects.get(id=_click_id(_clic(pub, ip=ip)))
    segundo = Evento.objects.get(id=_click_id(_clic(pub, ip=ip)))
    otra_ip = Evento.objects.get(id=_click_id(_clic(pub, ip=_ip())))
    otra_pub = Evento.objects.get(id=_click_id(_clic(PublicacionFactory(), ip=ip)))

    assert primero.estado_atribucion == EstadoAtribucion.PENDIENTE
    assert segundo.estado_atribucion == EstadoAtribucion.DESCARTADO
    assert segundo.motivo_descarte == MotivoDescarte.DUPLICADO
    assert otra_ip.estado_atribucion == EstadoAtribucion.PENDIENTE
    assert otra_pub.estado_atribucion == EstadoAtribucion.PENDIENTE


def test_un_click_cuenta_una_vez_por_socio_marca_e_ip_en_todos_sus_codigos():
    """PRODUCT.md §8: ten publicaciones of one partner for one brand, one IP: one counted
    click. Another brand of the same partner, or another partner, counts on its own."""
    pub = PublicacionFactory()
    misma_clave = [
        PublicacionFactory(medio=MedioMarketingFactory(socio=pub.medio.socio), marca=pub.marca)
        for _ in range(3)
    ]
    otra_marca = PublicacionFactory(medio=pub.medio)
    ip = _ip()
    primero = Evento.objects.get(id=_click_id(_clic(pub, ip=ip)))
    repetidos = [Evento.objects.get(id=_click_id(_clic(p, ip=ip))) for p in misma_clave]
    distinto = Evento.objects.get(id=_click_id(_clic(otra_marca, ip=ip)))

    assert primero.motivo_descarte == ""
    assert {e.motivo_descarte for e in repetidos} == {MotivoDescarte.DUPLICADO}
    assert distinto.marca_id != pub.marca_id and distinto.motivo_descarte == ""


def test_el_reclamo_del_enlace_es_el_de_la_regla_redis():
    """The claim taken inside the tracking script is the Redis backend's claim (same key)."""
    r = redis_crudo()
    if r is None:
        pytest.skip("needs Redis (REDIS_URL)")
    pub = PublicacionFactory()
    ip = _ip()
    _clic(pub, ip=ip)  # caches the destination (the script cannot claim without it)
    otra = PublicacionFactory(medio=MedioMarketingFactory(socio=pub.medio.socio), marca=pub.marca)
    _clic(otra, ip="203.0.113.250")  # warm the second code's cache with another IP
    clave = duplicados.ClaveClick(pub.medio.socio_id, pub.marca_id, ip_hash(ip))
    regla = duplicados.DuplicadosRedis(r)
    assert regla.reclamar(clave, ahora=timezone.now()) is False
    regla.liberar(clave)
    segundo = Evento.objects.get(id=_click_id(_clic(otra, ip=ip)))  # claimed in the script
    assert segundo.motivo_descarte == ""
    assert regla.reclamar(clave, ahora=timezone.now()) is False


def test_un_bot_no_consume_la_ventana_de_duplicados():
    pub = PublicacionFactory()
    ip = _ip()
    _clic(pub, ip=ip, ua="Twitterbot/1.0")
    humano = Evento.objects.get(id=_click_id(_clic(pub, ip=ip)))
    assert humano.estado_atribucion == EstadoAtribucion.PENDIENTE


# A TCP port with nothing listening: a real, unreachable Redis.
CACHE_CAIDA = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_sin_redis_la_regla_de_duplicados_usa_la_base():
    pub = PublicacionFactory()
    ip = _ip()
    with override_settings(CACHES=CACHE_CAIDA, RATE_LIMIT_TRACKING="5/m"):
        primero = _clic(pub, ip=ip)
        cache_reiniciar_cortacircuitos()
        segundo = _clic(pub, ip=ip)
    assert primero.status_code == segundo.status_code == 302
    assert Evento.objects.get(id=_click_id(primero)).motivo_descarte == ""
    assert Evento.objects.get(id=_click_id(segundo)).motivo_descarte == MotivoDescarte.DUPLICADO


@pytest.mark.reloj  # a fixed one-hour window: its boundary resets the count
def test_un_click_limitado_no_consume_la_ventana_de_duplicados():
    pub = PublicacionFactory()
    ip = _ip()
    with override_settings(RATE_LIMIT_TRACKING="1/h"):
        assert _clic(PublicacionFactory(), ip=ip).status_code == 302
        assert _clic(pub, ip=ip).status_code == 429
    contado = Evento.objects.get(id=_click_id(_clic(pub, ip=ip)))
    assert contado.estado_atribucion == EstadoAtribucion.PENDIENTE


def test_apc_vid_es_solo_una_pista_en_metadata():
    """PRODUCT.md §8: the link's apc_vid is kept in the click's metadata, never as its
    visitante_id (only the brand binds a click to a visitor)."""
    pub = PublicacionFactory()
    bueno = Evento.objects.get(id=_click_id(_clic(pub, query="?apc_vid=vis-123")))
    malo = Evento.objects.get(id=_click_id(_clic(pub, query="?apc_vid=<script>")))
    assert (bueno.visitante_id, bueno.origen_visitante) == ("", "")
    assert bueno.metadata == {"apc_vid": "vis-123"}
    assert (malo.visitante_id, malo.metadata) == ("", {})


def test_user_agent_se_trunca_a_512():
    pub = PublicacionFactory()
    resp = _clic(pub, ua="Mozilla/5.0 " + "x" * 2000)
    assert len(Evento.objects.get(id=_click_id(resp)).user_agent) == 512


def test_publicacion_legada_sin_marca_no_redirige():
    """A publicacion without a marca has no domains to redirect to (PRODUCT.md §8): 404."""
    pub = PublicacionFactory(marca=None, medio=MedioMarketingFactory(socio=None))
    assert _clic(pub).status_code == 404
    assert not Evento.objects.filter(publicacion=pub).exists()


def test_publicacion_legada_sin_socio_registra_el_click():
    pub = PublicacionFactory(medio=MedioMarketingFactory(socio=None))
    evento = Evento.objects.get(id=_click_id(_clic(pub)))
    assert evento.marca_id == pub.marca_id and evento.socio_id is None


def test_la_senal_se_envia_tras_commit_solo_para_clicks_contados(
    django_capture_on_commit_callbacks,
):
    recibidos: list[list] = []

    def receptor(sender, evento_ids, **kwargs):
        recibidos.append(list(evento_ids))

    eventos_registrados.connect(receptor)
    try:
        pub = PublicacionFactory()
        with django_capture_on_commit_callbacks(execute=True):
            contado = _click_id(_clic(pub))
            _clic(pub, ua="Googlebot/2.1")
    finally:
        eventos_registrados.disconnect(receptor)
    assert recibidos == [[contado]]


def test_cambio_de_url_destino_tras_invalidar_la_cache():
    pub = PublicacionFactory(url_destino="https://a.example.com/")
    assert _clic(pub)["Location"].startswith("https://a.example.com/")
    pub.url_destino = "https://b.example.com/"
    pub.save()
    publicacion_cache_invalidar(codigo=pub.codigo)
    assert _clic(pub)["Location"].startswith("https://b.example.com/")


def test_consultas_por_click_con_cache_caliente(django_assert_max_num_queries):
    pub = PublicacionFactory()
    _clic(pub)
    # With Redis the INSERT is the only query; without it (embedded mode) the duplicate rule
    # is one more: its database backend looks for a counted click of the last hour.
    maximo = 1 if redis_crudo() is not None else 2
    with django_assert_max_num_queries(maximo):
        resp = _clic(pub)
    assert resp.status_code == 302


def test_actualizar_url_destino_por_el_servicio_aplica_al_instante(
    django_capture_on_commit_callbacks,
):
    """The catalog service drops the cached destination after commit: no 30 s stale window."""
    from eventos_medios.services.catalogo import publicacion_actualizar

    pub = PublicacionFactory(url_destino="https://antes.example.com/")
    assert _clic(pub)["Location"].startswith("https://antes.example.com/")
    with django_capture_on_commit_callbacks(execute=True):
        publicacion_actualizar(
            publicacion=pub, datos={"url_destino": "https://despues.example.com/"}
        )
    assert _clic(pub)["Location"].startswith("https://despues.example.com/")


def test_el_destino_cacheado_lleva_la_bandera_de_actividad():
    from eventos_medios.services.tracking import DestinoPublicacion, _codificar, _decodificar

    destino = DestinoPublicacion(
        publicacion_id=uuid.uuid4(),
        marca_id=uuid.uuid4(),
        socio_id=None,
        url_destino="https://tienda.example.com/a|b?c=d",
        activo=False,
    )
    assert _decodificar(_codificar(destino)) == destino


def test_invalidar_muchos_destinos_a_la_vez():
    from eventos_medios.services.tracking import destinos_cache_invalidar, publicacion_destino

    pubs = PublicacionFactory.create_batch(3, url_destino="https://a.example.com/")
    for pub in pubs:
        assert publicacion_destino(codigo=pub.codigo).url_destino == "https://a.example.com/"
    Publicacion.objects.filter(pk__in=[p.pk for p in pubs]).update(
        url_destino="https://b.example.com/"
    )
    destinos_cache_invalidar(codigos=[p.codigo for p in pubs] + [f"X{i}" for i in range(600)])
    for pub in pubs:
        assert publicacion_destino(codigo=pub.codigo).url_destino == "https://b.example.com/"


def test_marca_inactiva_redirige_y_descarta():
    pub = PublicacionFactory(marca__activo=False)
    resp = _clic(pub)
    assert resp.status_code == 302
    evento = Evento.objects.get(id=_click_id(resp))
    assert (evento.estado_atribucion, evento.motivo_descarte) == (
        EstadoAtribucion.DESCARTADO,
        MotivoDescarte.INACTIVO,
    )


def test_un_bot_en_un_enlace_inactivo_sigue_siendo_bot():
    pub = PublicacionFactory(medio__socio__activo=False)
    evento = Evento.objects.get(id=_click_id(_clic(pub, ua="Googlebot/2.1")))
    assert evento.motivo_descarte == MotivoDescarte.BOT
