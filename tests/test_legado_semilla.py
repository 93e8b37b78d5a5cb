"""Seed compatibility (PRODUCT.md §7): the prototype's Postman requests keep working."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from comision_recompensa.models import Comision, EstadoCredito, Recompensa
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from conftest import cliente_para
from eventos_medios.legacy.services import plataforma_mapear, tipo_publicacion_mapear
from eventos_medios.models import (
    EstadoAtribucion,
    Evento,
    MedioMarketing,
    Plataforma,
    Publicacion,
    TipoEvento,
    TipoPublicacion,
    TipoSocio,
)
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

pytestmark = pytest.mark.django_db

# The seed prototype's Postman collection, kept verbatim here (see tests/datos/README.md).
COLECCION = Path(__file__).resolve().parent / "datos" / "prototipo.postman_collection.json"
SHA256_COLECCION = "12a774603f6ee098637e3293ce5013b651d0ae41b9f39341d325c0f3a5e6d493"

RUTAS = {
    "Crear medio de marketing": "/medios_marketing/medio-comando",
    "Crear publicacion": "/medios_marketing/publicacion-comando",
    "Crear lead": "/eventos/evento-comando",
    "Crear InteraccionPublicacion": "/eventos/evento-comando",
    "Crear recompensa": "/prueba/recompensa-comando",
    "Crear comision": "/prueba/comision-comando",
}


def _peticiones_coleccion() -> dict[str, tuple[str, str, dict | None]]:
    """name → (method, path, body) of every request in the collection."""
    datos = json.loads(COLECCION.read_text(encoding="utf-8"))
    peticiones = {}
    for item in datos["item"]:
        req = item["request"]
        ruta = "/" + "/".join(req["url"]["path"])
        crudo = req.get("body", {}).get("raw")
        peticiones[item["name"]] = (req["method"], ruta, json.loads(crudo) if crudo else None)
    return peticiones


@pytest.fixture
def peticiones():
    return _peticiones_coleccion()


@pytest.fixture
def abierto():
    """The embedded mode (DEBUG on, no DATABASE_URL): legacy endpoints open, as in the seed."""
    with override_settings(DEBUG=True, EMBEBIDO=True):
        yield APIClient(enforce_csrf_checks=True)


def _post(cliente, ruta, cuerpo):
    return cliente.post(ruta, data=json.dumps(cuerpo), content_type="application/json")


def test_la_coleccion_es_la_del_prototipo():
    """The in-repo copy is the seed's file, unedited, with the requests the tests replay."""
    assert hashlib.sha256(COLECCION.read_bytes()).hexdigest() == SHA256_COLECCION
    coleccion = _peticiones_coleccion()
    for nombre, ruta in RUTAS.items():
        assert coleccion[nombre][:2] == ("POST", ruta), nombre
        assert isinstance(coleccion[nombre][2], dict), nombre
    assert coleccion["Health"][:2] == ("GET", "/health")
    assert coleccion["Obtener todos"][:2] == ("GET", "/eventos/evento-query")
    assert coleccion["Obtener por Id"][0] == "GET"
    assert coleccion["Obtener por Id"][1].startswith("/eventos/evento-query/")
    assert coleccion["Crear medio de marketing"][2]["platafoma"] == {"nombre": "Facebook"}


def test_replay_de_la_coleccion_con_ids_encadenados(abierto, peticiones):
    """medio → publicación on that medio → lead and interacción on that publicación → query."""
    assert abierto.get("/health").status_code == 200

    _, ruta, medio = peticiones["Crear medio de marketing"]
    r = _post(abierto, ruta, medio)
    assert (r.status_code, r.json()) == (202, {})
    guardado = MedioMarketing.objects.get(pk=medio["id"])  # the supplied id is kept
    assert guardado.plataforma == Plataforma.FACEBOOK
    assert guardado.plataforma_original == "Facebook"
    assert guardado.socio is None

    _, ruta, publicacion = peticiones["Crear publicacion"]
    publicacion = {**publicacion, "id_medio_marketing": medio["id"]}
    r = _post(abierto, ruta, publicacion)
    assert (r.status_code, r.json()) == (202, {})
    pub = Publicacion.objects.get(pk=publicacion["id"])
    assert pub.medio_id == uuid.UUID(medio["id"])
    assert (pub.tipo, pub.tipo_original) == (TipoPublicacion.OTRO, "Tipo 1")
    assert pub.marca is None

    ids_eventos = {}
    for nombre in ("Crear lead", "Crear InteraccionPublicacion"):
        _, ruta, cuerpo = peticiones[nombre]
        # The collection reuses one id for everything; each event gets its own here.
        cuerpo = {**cuerpo, "id": str(uuid.uuid4()), "id_publicacion": publicacion["id"]}
        r = _post(abierto, ruta, cuerpo)
        assert (r.status_code, r.json()) == (202, {}), r.content
        ids_eventos[cuerpo["tipo_evento"]] = cuerpo["id"]

    lead = Evento.objects.get(pk=ids_eventos["Lead"])
    interaccion = Evento.objects.get(pk=ids_eventos["InteraccionPublicacion"])
    assert lead.tipo == TipoEvento.LEAD and interaccion.tipo == TipoEvento.INTERACCION
    assert lead.publicacion_id == pub.pk and lead.marca is None and lead.socio is None
    assert lead.ocurrido_en.isoformat() == "2025-09-07T23:55:00+00:00"
    assert lead.estado_atribucion == EstadoAtribucion.PENDIENTE

    for tipo, evento_id in ids_eventos.items():
        r = abierto.get(f"/eventos/evento-query/{evento_id}")
        assert r.status_code == 200
        assert r.json()["id"] == evento_id
        assert r.json()["tipo_evento"] == tipo
        assert r.json()["id_publicacion"] == publicacion["id"]
        assert r.json()["fecha_creacion"] == "2025-09-07T23:55:00Z"

    r = abierto.get("/eventos/evento-query")
    assert r.status_code == 200
    assert set(ids_eventos.values()) <= {e["id"] for e in r.json()}


def test_la_coleccion_literal_no_escribe_nada_a_medias(abierto, peticiones):
    """Replayed verbatim, the collection references objects it never created (the seed's
    bug): those requests are 400 {"error"}, the others succeed."""
    resultados = {}
    for nombre in RUTAS:
        _, ruta, cuerpo = peticiones[nombre]
        resultados[nombre] = _post(abierto, ruta, cuerpo)
    assert resultados["Crear medio de marketing"].status_code == 202
    for nombre in ("Crear publicacion", "Crear lead", "Crear recompensa", "Crear comision"):
        assert resultados[nombre].status_code == 400, nombre
        assert set(resultados[nombre].json()) == {"error"}
    assert "id_medio_marketing" in resultados["Crear publicacion"].json()["error"]
    assert Publicacion.objects.count() == 0 and Evento.objects.count() == 0
    r = abierto.get(peticiones["Obtener por Id"][1])
    assert r.status_code == 404 and "error" in r.json()


def test_plataforma_con_la_clave_correcta_y_texto_libre(abierto):
    for cuerpo, esperado in [
        ({"plataforma": "Instagram"}, (Plataforma.INSTAGRAM, "Instagram")),
        ({"plataforma": {"nombre": "Twitter"}}, (Plataforma.X, "Twitter")),
        ({"platafoma": {"nombre": "MySpace"}}, (Plataforma.OTRO, "MySpace")),
        ({"plataforma": "Sitio Web"}, (Plataforma.SITIO_WEB, "Sitio Web")),
    ]:
        pk = str(uuid.uuid4())
        r = _post(abierto, "/medios_marketing/medio-comando", {"id": pk, **cuerpo})
        assert r.status_code == 202, r.content
        medio = MedioMarketing.objects.get(pk=pk)
        assert (medio.plataforma, medio.plataforma_original) == esperado


def test_mapeos_de_texto_libre():
    assert plataforma_mapear("YouTube") == "youtube"
    assert plataforma_mapear("algo raro") == "otro"
    assert tipo_publicacion_mapear("Tipo 1") == "otro"
    assert tipo_publicacion_mapear("Reseña") == "resena"
    assert tipo_publicacion_mapear("Artículo") == "articulo"


def test_mismo_id_mismo_cuerpo_es_idempotente_otro_cuerpo_es_conflicto(abierto):
    medio = {"id": str(uuid.uuid4()), "platafoma": {"nombre": "Facebook"}}
    assert _post(abierto, "/medios_marketing/medio-comando", medio).status_code == 202
    assert _post(abierto, "/medios_marketing/medio-comando", medio).status_code == 202
    assert MedioMarketing.objects.filter(pk=medio["id"]).count() == 1
    r = _post(abierto, "/medios_marketing/medio-comando", {**medio, "platafoma": "TikTok"})
    assert r.status_code == 409 and "different" in r.json()["error"]

    pub = {"id": str(uuid.uuid4()), "id_medio_marketing": medio["id"], "tipo_publicacion": "Post"}
    assert _post(abierto, "/medios_marketing/publicacion-comando", pub).status_code == 202
    assert _post(abierto, "/medios_marketing/publicacion-comando", pub).status_code == 202
    assert Publicacion.objects.get(pk=pub["id"]).tipo == TipoPublicacion.POST

    evento = {"id": str(uuid.uuid4()), "tipo_evento": "Lead", "id_publicacion": pub["id"]}
    evento["fecha_creacion"] = "2025-09-07T23:55:00Z"
    assert _post(abierto, "/eventos/evento-comando", evento).status_code == 202
    assert _post(abierto, "/eventos/evento-comando", evento).status_code == 202
    assert Evento.objects.filter(pk=evento["id"]).count() == 1
    otro = {**evento, "tipo_evento": "InteraccionPublicacion"}
    assert _post(abierto, "/eventos/evento-comando", otro).status_code == 409


@pytest.mark.parametrize(
    ("ruta", "cuerpo", "palabra"),
    [
        ("/medios_marketing/medio-comando", {"id": "no-es-uuid", "plataforma": "x"}, "id"),
        ("/medios_marketing/medio-comando", {"id": str(uuid.uuid4())}, "plataforma"),
        (
            "/medios_marketing/publicacion-comando",
            {"id": str(uuid.uuid4()), "id_medio_marketing": str(uuid.uuid4())},
            "id_medio_marketing",
        ),
        (
            "/medios_marketing/publicacion-comando",
            {"id": str(uuid.uuid4()), "tipo_publicacion": "Tipo 1"},
            "id_medio_marketing",
        ),
        (
            "/eventos/evento-comando",
            {"id": str(uuid.uuid4()), "tipo_evento": "Compra rara"},
            "tipo_evento",
        ),
        (
            "/eventos/evento-comando",
            {"id": str(uuid.uuid4()), "tipo_evento": "Lead", "id_publicacion": str(uuid.uuid4())},
            "id_publicacion",
        ),
        (
            "/eventos/evento-comando",
            {"tipo_evento": "Lead", "fecha_creacion": "ayer"},
            "fecha_creacion",
        ),
        ("/prueba/comision-comando", {"id_evento": str(uuid.uuid4())}, "id_evento"),
        ("/prueba/recompensa-comando", {}, "id_evento"),
    ],
)
def test_errores_de_dominio_son_400_con_error(abierto, ruta, cuerpo, palabra):
    r = _post(abierto, ruta, cuerpo)
    assert r.status_code == 400, r.content
    assert set(r.json()) == {"error"}
    assert palabra in r.json()["error"]
    assert MedioMarketing.objects.count() == Publicacion.objects.count() == 0
    assert Evento.objects.count() == 0


def test_json_malformado_es_400_con_error(abierto):
    r = abierto.post(
        "/medios_marketing/medio-comando", data="{no json", content_type="application/json"
    )
    assert r.status_code == 400 and set(r.json()) == {"error"}


def test_evento_de_medio_sin_socio_queda_sin_atribucion(abierto):
    medio = MedioMarketingFactory(socio=None)
    pub = PublicacionFactory(medio=medio, marca=None)
    evento_id = str(uuid.uuid4())
    r = _post(
        abierto,
        "/eventos/evento-comando",
        {"id": evento_id, "tipo_evento": "Lead", "id_publicacion": str(pub.pk)},
    )
    assert r.status_code == 202
    evento = Evento.objects.get(pk=evento_id)
    assert evento.socio is None and evento.estado_atribucion == EstadoAtribucion.PENDIENTE

    from comision_recompensa.atribucion.services import eventos_atribuir

    eventos_atribuir(evento_ids=[evento.pk])
    evento.refresh_from_db()
    assert evento.estado_atribucion == EstadoAtribucion.SIN_ATRIBUCION
    assert not Comision.objects.filter(evento=evento).exists()
    r = abierto.get(f"/eventos/evento-query/{evento_id}")
    assert r.json()["estado_atribucion"] == "sin_atribucion"


def test_evento_legado_toma_marca_y_socio_de_la_publicacion(abierto):
    pub = PublicacionFactory()
    evento_id = str(uuid.uuid4())
    cuerpo = {
        "id": evento_id,
        "tipo_evento": "InteraccionPublicacion",
        "id_publicacion": str(pub.pk),
    }
    assert _post(abierto, "/eventos/evento-comando", cuerpo).status_code == 202
    evento = Evento.objects.get(pk=evento_id)
    assert (evento.marca_id, evento.socio_id) == (pub.marca_id, pub.medio.socio_id)


# --- /prueba/comision-comando and /prueba/recompensa-comando --------------------------------
def test_comision_legado_para_el_socio_del_evento(abierto, peticiones):
    evento = EventoFactory(tipo=TipoEvento.LEAD)
    asociacion = AsociacionFactory(marca=evento.marca, socio=evento.socio)
    ReglaPagoFactory(asociacion=asociacion, tipo_evento=TipoEvento.LEAD, moneda="COP")
    _, ruta, cuerpo = peticiones["Crear comision"]
    cuerpo = {**cuerpo, "id": str(uuid.uuid4()), "id_evento": str(evento.pk)}

    r = _post(abierto, ruta, cuerpo)
    assert (r.status_code, r.json()) == (202, {})
    comision = Comision.objects.get(pk=cuerpo["id"])
    assert comision.socio_id == evento.socio_id and comision.evento_id == evento.pk
    assert comision.participacion == Decimal("1") and comision.monto == Decimal("1.00")
    assert comision.moneda == "COP"  # from the partner's agreement: the body names none
    assert comision.estado == EstadoCredito.PENDIENTE
    assert comision.asociacion_id == asociacion.pk
    assert "legacy endpoint" in comision.detalle_atribucion["nota"]

    assert _post(abierto, ruta, cuerpo).status_code == 202  # same id, same body
    assert Comision.objects.count() == 1
    otro = {**cuerpo, "monto_comision": {"valor": 2}}
    assert _post(abierto, ruta, otro).status_code == 409
    segunda = {**cuerpo, "id": str(uuid.uuid4())}  # a second live credit for the same event
    r = _post(abierto, ruta, segunda)
    assert r.status_code == 409 and "error" in r.json()
    assert Comision.objects.count() == 1


def test_recompensa_legado_para_un_influencer(abierto, peticiones):
    socio = SocioFactory(tipo=TipoSocio.INFLUENCER)
    evento = EventoFactory(
        tipo=TipoEvento.INTERACCION, publicacion__medio__socio=socio, socio=socio
    )
    _, ruta, cuerpo = peticiones["Crear recompensa"]
    cuerpo = {**cuerpo, "id": str(uuid.uuid4()), "id_evento": str(evento.pk)}
    r = _post(abierto, ruta, cuerpo)
    assert (r.status_code, r.json()) == (202, {})
    recompensa = Recompensa.objects.get(pk=cuerpo["id"])
    assert recompensa.socio == socio and recompensa.descripcion == "recompensa"
    assert recompensa.monto == Decimal("0.00") and recompensa.moneda == "USD"

    # A comision is not for an influencer.
    r = _post(abierto, "/prueba/comision-comando", {"id_evento": str(evento.pk)})
    assert r.status_code == 400 and "recompensa" in r.json()["error"]


def test_comision_legado_sin_socio_es_400(abierto):
    medio = MedioMarketingFactory(socio=None)
    evento = EventoFactory(publicacion__medio=medio, socio=None)
    r = _post(
        abierto,
        "/prueba/comision-comando",
        {"id_evento": str(evento.pk), "monto_comision": {"valor": 1}},
    )
    assert r.status_code == 400 and "no partner" in r.json()["error"]
    assert not Comision.objects.exists()


def test_monto_invalido_es_400(abierto):
    evento = EventoFactory()
    for monto in ({"valor": -1}, {"valor": "abc"}, {"valor": 1, "moneda": "XXY"}):
        r = _post(
            abierto,
            "/prueba/comision-comando",
            {"id_evento": str(evento.pk), "monto_comision": monto},
        )
        assert r.status_code == 400 and "monto_comision" in r.json()["error"]
    assert not Comision.objects.exists()


# --- Access when DEBUG is off -----------------------------------------------------------------
RUTAS_POST = [
    "/medios_marketing/medio-comando",
    "/medios_marketing/publicacion-comando",
    "/eventos/evento-comando",
    "/prueba/comision-comando",
    "/prueba/recompensa-comando",
]


@override_settings(DEBUG=False)
@pytest.mark.parametrize("ruta", [*RUTAS_POST, "/eventos/evento-query"])
def test_sin_debug_exigen_autenticacion(ruta, cliente_anonimo):
    r = cliente_anonimo.post(ruta, {}, format="json") if ruta in RUTAS_POST else None
    r = r or cliente_anonimo.get(ruta)
    assert r.status_code == 401
    assert "error" in r.json()


@override_settings(DEBUG=False)
def test_sin_debug_los_comandos_son_de_staff(cliente_marca, cliente_staff):
    cuerpo = {"id": str(uuid.uuid4()), "platafoma": {"nombre": "Facebook"}}
    r = cliente_marca.post("/medios_marketing/medio-comando", cuerpo, format="json")
    assert r.status_code == 403 and "error" in r.json()
    assert not MedioMarketing.objects.exists()

    r = cliente_staff.post("/medios_marketing/medio-comando", cuerpo, format="json")
    assert (r.status_code, r.json()) == (202, {})


@override_settings(DEBUG=False)
def test_sin_debug_las_consultas_se_limitan_a_lo_visible(cliente_marca, marca):
    propio = EventoFactory(publicacion__marca=marca)
    ajeno = EventoFactory(publicacion__marca=MarcaFactory())
    ids = {e["id"] for e in cliente_marca.get("/eventos/evento-query").json()}
    assert ids == {str(propio.pk)}
    assert cliente_marca.get(f"/eventos/evento-query/{propio.pk}").status_code == 200
    r = cliente_marca.get(f"/eventos/evento-query/{ajeno.pk}")
    assert r.status_code == 404 and "error" in r.json()


@override_settings(DEBUG=False)
def test_sin_debug_un_socio_no_crea_comisiones(socio):
    evento = EventoFactory(publicacion__medio__socio=socio, socio=socio)
    r = cliente_para(socio.usuario).post(
        "/prueba/comision-comando", {"id_evento": str(evento.pk)}, format="json"
    )
    assert r.status_code == 403
    assert not Comision.objects.exists()


def test_consulta_lista_respeta_el_limite(abierto):
    EventoFactory.create_batch(3)
    assert len(abierto.get("/eventos/evento-query?limite=2").json()) == 2
    assert abierto.get("/eventos/evento-query?limite=0").status_code == 400
    assert abierto.get("/eventos/evento-query?limite=x").status_code == 400
    assert abierto.get("/eventos/evento-query/no-uuid").status_code == 400
