"""Single-event ingestion `POST /api/v1/eventos/` and `evento_registrar` (PRODUCT.md §2)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alpespartners.errors import Conflicto, ErrorValidacion
from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento
from eventos_medios.services.ingesta import ALCANCE_INTERNO, evento_registrar
from eventos_medios.signals import eventos_registrados
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/eventos/"


def _post(cliente, cuerpo):
    return cliente.post(URL, cuerpo, format="json")


def test_crea_un_evento_201_pendiente_con_socio_de_la_publicacion(cliente_marca, marca):
    pub = PublicacionFactory(marca=marca)
    resp = _post(
        cliente_marca,
        {
            "tipo": "venta",
            "publicacion": str(pub.id),
            "valor": "19.90",
            "moneda": "EUR",
            "referencia_externa": "PED-1",
            "visitante_id": "v1",
            "metadata": {"sku": "A1"},
        },
    )
    assert resp.status_code == 201, resp.content
    cuerpo = resp.json()
    evento = Evento.objects.get(id=cuerpo["id"])
    assert evento.marca_id == marca.id  # the brand user's only marca, omitted in the body
    assert evento.socio_id == pub.medio.socio_id
    assert evento.estado_atribucion == EstadoAtribucion.PENDIENTE
    assert evento.valor == Decimal("19.90")
    assert len(evento.huella) == 64
    assert cuerpo["valor"] == "19.90"
    assert cuerpo["marca"] == str(marca.id)
    assert cuerpo["socio"] == str(pub.medio.socio_id)
    assert cuerpo["metadata"] == {"sku": "A1"}


def test_la_respuesta_de_creacion_es_igual_al_detalle(cliente_marca, marca):
    resp = _post(
        cliente_marca,
        {"tipo": "lead", "visitante_id": "v", "ocurrido_en": "2026-01-02T03:04:05.123456Z"},
    )
    assert resp.status_code == 201
    detalle = cliente_marca.get(f"{URL}{resp.json()['id']}/")
    assert detalle.status_code == 200
    assert detalle.json() == resp.json()


def test_codigo_referido_fuera_del_programa_es_400_como_uno_desconocido(cliente_marca):
    """A code is accepted only for a partner in the marca's programme, a relation the money
    app registers (`eventos_medios.programa`; accepted codes: tests/test_confianza_rastreo)."""
    socio = SocioFactory()
    ajeno = _post(cliente_marca, {"tipo": "registro", "codigo_referido": socio.codigo_referido})
    desconocido = _post(cliente_marca, {"tipo": "registro", "codigo_referido": "NOEXISTE"})
    assert ajeno.status_code == desconocido.status_code == 400
    assert ajeno.json() == desconocido.json()
    assert not Evento.objects.exists()


def test_ocurrido_en_por_defecto_es_ahora(cliente_marca):
    antes = timezone.now()
    resp = _post(cliente_marca, {"tipo": "lead"})
    evento = Evento.objects.get(id=resp.json()["id"])
    assert antes <= evento.ocurrido_en <= timezone.now()


def test_mismo_id_y_cuerpo_devuelve_200_y_no_crea(cliente_marca):
    cuerpo = {"id": str(uuid.uuid4()), "tipo": "lead", "visitante_id": "v1"}
    primero = _post(cliente_marca, cuerpo)
    segundo = _post(cliente_marca, cuerpo)
    assert primero.status_code == 201
    assert segundo.status_code == 200
    assert segundo.json() == primero.json()
    assert Evento.objects.count() == 1


def test_mismo_id_con_otro_cuerpo_es_409(cliente_marca):
    evento_id = str(uuid.uuid4())
    assert _post(cliente_marca, {"id": evento_id, "tipo": "lead"}).status_code == 201
    resp = _post(cliente_marca, {"id": evento_id, "tipo": "registro"})
    assert resp.status_code == 409
    assert resp.json()["evento_id"] == evento_id
    assert "id" in resp.json()["errors"]
    assert Evento.objects.get().tipo == TipoEvento.LEAD


def test_huella_ignora_representaciones_equivalentes(cliente_marca, marca):
    evento_id = str(uuid.uuid4())
    a = {"id": evento_id, "tipo": "venta", "valor": 10, "moneda": "eur", "referencia_externa": "R"}
    b = {
        "id": evento_id,
        "tipo": "venta",
        "valor": "10.00",
        "moneda": "EUR",
        "referencia_externa": "R",
        "marca": str(marca.id),
        "metadata": {},
    }
    assert _post(cliente_marca, a).status_code == 201
    assert _post(cliente_marca, b).status_code == 200


def test_venta_con_referencia_usada_es_409_nombrando_el_evento(cliente_marca):
    base = {"tipo": "venta", "valor": "5", "moneda": "USD", "referencia_externa": "PED-9"}
    primero = _post(cliente_marca, base)
    segundo = _post(cliente_marca, {**base, "id": str(uuid.uuid4())})
    assert primero.status_code == 201
    assert segundo.status_code == 409
    assert segundo.json()["evento_id"] == primero.json()["id"]
    assert "referencia_externa" in segundo.json()["errors"]
    assert Evento.objects.count() == 1


def test_misma_referencia_en_otra_marca_o_en_otro_tipo_no_choca(staff, cliente_staff, marca):
    otra = MarcaFactory()
    base = {"tipo": "venta", "valor": "5", "moneda": "USD", "referencia_externa": "PED-9"}
    assert _post(cliente_staff, {**base, "marca": str(marca.id)}).status_code == 201
    assert _post(cliente_staff, {**base, "marca": str(otra.id)}).status_code == 201
    lead = {"tipo": "lead", "marca": str(marca.id), "referencia_externa": "PED-9"}
    assert _post(cliente_staff, lead).status_code == 201


@pytest.mark.parametrize(
    ("cuerpo", "campo"),
    [
        ({}, "tipo"),
        ({"tipo": "compra"}, "tipo"),
        ({"tipo": 3}, "tipo"),
        ({"tipo": "venta", "valor": "-1", "moneda": "EUR", "referencia_externa": "r"}, "valor"),
        ({"tipo": "venta", "valor": "abc", "moneda": "EUR", "referencia_externa": "r"}, "valor"),
        ({"tipo": "venta", "valor": "1.001", "moneda": "EUR", "referencia_externa": "r"}, "valor"),
        ({"tipo": "venta", "valor": "NaN", "moneda": "EUR", "referencia_externa": "r"}, "valor"),
        ({"tipo": "venta", "valor": True, "moneda": "EUR", "referencia_externa": "r"}, "valor"),
        ({"tipo": "venta", "valor": "1e20", "moneda": "EUR", "referencia_externa": "r"}, "valor"),
        ({"tipo": "venta", "valor": "1", "moneda": "XYZ", "referencia_externa": "r"}, "moneda"),
        ({"tipo": "venta", "valor": "1", "referencia_externa": "r"}, "moneda"),
        ({"tipo": "venta", "valor": "1", "moneda": "EUR"}, "referencia_externa"),
        ({"tipo": "lead", "ocurrido_en": "mañana"}, "ocurrido_en"),
        ({"tipo": "lead", "metadata": [1, 2]}, "metadata"),
        ({"tipo": "lead", "metadata": {"x": "y" * 9000}}, "metadata"),
        ({"tipo": "lead", "metadata": {"x": "a\u0000b"}}, "metadata"),
        ({"tipo": "lead", "id": "no-uuid"}, "id"),
        ({"tipo": "lead", "publicacion": "no-uuid"}, "publicacion"),
        ({"tipo": "lead", "publicacion": str(uuid.uuid4())}, "publicacion"),
        ({"tipo": "lead", "codigo_referido": "NOEXISTE"}, "codigo_referido"),
        ({"tipo": "lead", "click_id": str(uuid.uuid4())}, "click_id"),
        ({"tipo": "lead", "visitante_id": "x" * 129}, "visitante_id"),
        ({"tipo": "lead", "visitante_id": 12}, "visitante_id"),
        ({"tipo": "lead", "visitante_id": "a\u0000b"}, "visitante_id"),
        ({"tipo": "lead", "marca": str(uuid.uuid4())}, "marca"),
    ],
)
def test_entrada_invalida_es_400_nombrando_el_campo(cliente_marca, cuerpo, campo):
    resp = _post(cliente_marca, cuerpo)
    assert resp.status_code == 400, resp.content
    assert campo in resp.json()["errors"], resp.json()
    assert Evento.objects.count() == 0


def test_ocurrido_en_mas_de_5_minutos_en_el_futuro_es_400(cliente_marca):
    futuro = (timezone.now() + timedelta(minutes=6)).isoformat()
    casi = (timezone.now() + timedelta(minutes=4)).isoformat()
    resp = _post(cliente_marca, {"tipo": "lead", "ocurrido_en": futuro})
    assert resp.status_code == 400
    assert "ocurrido_en" in resp.json()["errors"]
    assert _post(cliente_marca, {"tipo": "lead", "ocurrido_en": casi}).status_code == 201


def test_varios_errores_a_la_vez(cliente_marca):
    resp = _post(cliente_marca, {"tipo": "x", "valor": "-3", "metadata": "no"})
    assert set(resp.json()["errors"]) >= {"tipo", "valor", "metadata"}


def test_usuario_de_marca_no_envia_para_otra_marca(cliente_marca):
    otra = MarcaFactory()
    resp = _post(cliente_marca, {"tipo": "lead", "marca": str(otra.id)})
    assert resp.status_code == 400
    assert "marca" in resp.json()["errors"]
    assert Evento.objects.count() == 0


def test_publicacion_de_otra_marca_es_400(cliente_marca):
    ajena = PublicacionFactory()
    resp = _post(cliente_marca, {"tipo": "lead", "publicacion": str(ajena.id)})
    assert resp.status_code == 400
    assert "publicacion" in resp.json()["errors"]


def test_usuario_con_varias_marcas_debe_nombrarla(usuario_marca, cliente_marca, marca):
    MarcaFactory().usuarios.add(usuario_marca)
    resp = _post(cliente_marca, {"tipo": "lead"})
    assert resp.status_code == 400
    assert "marca" in resp.json()["errors"]
    assert _post(cliente_marca, {"tipo": "lead", "marca": str(marca.id)}).status_code == 201


def test_staff_debe_nombrar_la_marca(cliente_staff, marca):
    assert "marca" in _post(cliente_staff, {"tipo": "lead"}).json()["errors"]
    assert _post(cliente_staff, {"tipo": "lead", "marca": str(marca.id)}).status_code == 201


def test_click_id_debe_ser_un_click_de_la_misma_marca(cliente_marca, marca):
    propio = EventoFactory(publicacion=PublicacionFactory(marca=marca))
    ajeno = EventoFactory()
    no_click = EventoFactory(tipo=TipoEvento.LEAD, publicacion=PublicacionFactory(marca=marca))
    ok = _post(cliente_marca, {"tipo": "lead", "click_id": str(propio.id)})
    assert ok.status_code == 201
    assert ok.json()["click_id"] == str(propio.id)
    for otro in (ajeno, no_click):
        resp = _post(cliente_marca, {"tipo": "lead", "click_id": str(otro.id)})
        assert resp.status_code == 400
        assert "click_id" in resp.json()["errors"]


def test_codigo_referido_de_otro_socio_que_la_publicacion_es_400(cliente_marca, marca):
    pub = PublicacionFactory(marca=marca)
    otro = SocioFactory()
    resp = _post(
        cliente_marca,
        {"tipo": "lead", "publicacion": str(pub.id), "codigo_referido": otro.codigo_referido},
    )
    assert resp.status_code == 400
    assert "codigo_referido" in resp.json()["errors"]


def test_click_de_un_redirector_propio(cliente_marca, marca):
    pub = PublicacionFactory(marca=marca)
    resp = _post(cliente_marca, {"tipo": "click", "publicacion": str(pub.id), "visitante_id": "v"})
    assert resp.status_code == 201
    assert resp.json()["estado_atribucion"] == "pendiente"


def test_cuerpo_que_no_es_objeto_es_400(cliente_marca):
    resp = _post(cliente_marca, [1, 2])
    assert resp.status_code == 400
    assert "non_field_errors" in resp.json()["errors"]


def test_json_mal_formado_es_400(cliente_marca):
    resp = cliente_marca.post(URL, data=b'{"tipo": ', content_type="application/json")
    assert resp.status_code == 400
    assert Evento.objects.count() == 0


def test_cuerpo_de_mas_de_1_mb_es_413(cliente_marca):
    cuerpo = b'{"tipo": "lead", "metadata": {"x": "' + b"a" * (1024 * 1024) + b'"}}'
    resp = cliente_marca.post(URL, data=cuerpo, content_type="application/json")
    assert resp.status_code == 413
    assert resp.json()["code"] == "request_too_large"


def test_permisos(cliente_anonimo, cliente_socio):
    assert _post(cliente_anonimo, {"tipo": "lead"}).status_code == 401
    assert _post(cliente_socio, {"tipo": "lead"}).status_code == 403
    assert Evento.objects.count() == 0


def test_senal_tras_commit_con_el_id_nuevo_y_no_en_repeticion(
    cliente_marca, django_capture_on_commit_callbacks
):
    recibidos: list[list] = []

    def receptor(sender, evento_ids, **kwargs):
        recibidos.append([str(i) for i in evento_ids])

    eventos_registrados.connect(receptor)
    try:
        cuerpo = {"id": str(uuid.uuid4()), "tipo": "lead"}
        with django_capture_on_commit_callbacks(execute=True):
            _post(cliente_marca, cuerpo)
            _post(cliente_marca, cuerpo)
    finally:
        eventos_registrados.disconnect(receptor)
    assert recibidos == [[cuerpo["id"]]]


# --- The service, as internal callers (legacy endpoints) use it ----------------------------
def test_servicio_con_alcance_interno_y_modo_legado():
    medio = MedioMarketingFactory(socio=None)
    pub = PublicacionFactory(marca=None, medio=medio)
    evento_id = uuid.uuid4()
    datos = {
        "id": str(evento_id),
        "tipo": "lead",
        "publicacion": str(pub.id),
        "ocurrido_en": "2025-09-07T23:55:00Z",
    }
    representacion, creado = evento_registrar(datos=datos, alcance=ALCANCE_INTERNO, legado=True)
    assert creado is True
    assert representacion["id"] == str(evento_id)
    evento = Evento.objects.get(id=evento_id)
    assert evento.marca_id is None and evento.socio_id is None
    assert evento.ocurrido_en.year == 2025

    _, creado = evento_registrar(datos=datos, alcance=ALCANCE_INTERNO, legado=True)
    assert creado is False
    with pytest.raises(Conflicto):
        evento_registrar(
            datos={**datos, "tipo": "interaccion"}, alcance=ALCANCE_INTERNO, legado=True
        )


def test_servicio_legado_toma_la_marca_de_la_publicacion():
    pub = PublicacionFactory()
    representacion, _ = evento_registrar(
        datos={"tipo": "interaccion", "publicacion": pub.id}, alcance=ALCANCE_INTERNO, legado=True
    )
    assert representacion["marca"] == str(pub.marca_id)


def test_servicio_sin_legado_exige_marca():
    with pytest.raises(ErrorValidacion) as exc:
        evento_registrar(datos={"tipo": "lead"}, alcance=ALCANCE_INTERNO)
    assert "marca" in exc.value.errores
