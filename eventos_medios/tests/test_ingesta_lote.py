"""Batch ingestion `POST /api/v1/eventos/lote/` (PRODUCT.md §2)."""

from __future__ import annotations

import math
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eventos_medios import almacen
from eventos_medios.models import Evento
from eventos_medios.signals import eventos_registrados
from eventos_medios.tests.factories import MarcaFactory, PublicacionFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/eventos/lote/"


def _lote(cliente, eventos):
    return cliente.post(URL, {"eventos": eventos}, format="json")


def test_lote_valido_se_guarda_con_resultados_en_orden(cliente_marca, marca):
    pub = PublicacionFactory(marca=marca)
    eventos = [
        {"tipo": "click", "publicacion": str(pub.id), "visitante_id": f"v{i}"} for i in range(10)
    ] + [{"tipo": "venta", "valor": "9.99", "moneda": "COP", "referencia_externa": "O-1"}]
    resp = _lote(cliente_marca, eventos)
    assert resp.status_code == 201, resp.content
    cuerpo = resp.json()
    assert cuerpo["creados"] == 11 and cuerpo["existentes"] == 0
    assert [r["estado"] for r in cuerpo["resultados"]] == ["creado"] * 11
    guardados = Evento.objects.in_bulk([r["id"] for r in cuerpo["resultados"]])
    assert len(guardados) == 11
    primero = guardados[uuid.UUID(cuerpo["resultados"][0]["id"])]
    assert primero.visitante_id == "v0"
    assert primero.socio_id == pub.medio.socio_id
    assert primero.marca_id == marca.id


def test_lote_de_1000_es_pocas_sentencias(cliente_marca, marca):
    eventos = [{"tipo": "interaccion", "visitante_id": f"v{i}"} for i in range(1000)]
    with CaptureQueriesContext(connection) as consultas:
        resp = _lote(cliente_marca, eventos)
    assert resp.status_code == 201
    assert Evento.objects.count() == 1000
    inserts = [q for q in consultas.captured_queries if q["sql"].startswith("INSERT")]
    # One statement on PostgreSQL; SQLite splits by its bound-parameter limit.
    por_sentencia = 999 // len(almacen.COLUMNAS_INGESTA)
    esperado = 1 if connection.vendor == "postgresql" else math.ceil(1000 / por_sentencia)
    assert len(inserts) == esperado


def test_mas_de_1000_es_400(cliente_marca):
    resp = _lote(cliente_marca, [{"tipo": "lead"}] * 1001)
    assert resp.status_code == 400
    assert "eventos" in resp.json()["errors"]
    assert Evento.objects.count() == 0


@pytest.mark.parametrize("cuerpo", [{}, {"eventos": "x"}, {"eventos": []}, [1]])
def test_forma_invalida_es_400(cliente_marca, cuerpo):
    resp = cliente_marca.post(URL, cuerpo, format="json")
    assert resp.status_code == 400


def test_todo_o_nada_con_errores_por_indice(cliente_marca):
    eventos = [
        {"tipo": "lead"},
        {"tipo": "lead"},
        {"tipo": "lead"},
        {"tipo": "venta", "valor": "-1", "moneda": "EUR", "referencia_externa": "r"},
        "no-objeto",
        {"tipo": "nada"},
    ]
    resp = _lote(cliente_marca, eventos)
    assert resp.status_code == 400
    errores = resp.json()["errors"]["eventos"]
    assert set(errores) == {"3", "4", "5"}
    assert "valor" in errores["3"]
    assert "non_field_errors" in errores["4"]
    assert "tipo" in errores["5"]
    assert Evento.objects.count() == 0


def test_lote_repetido_es_idempotente(cliente_marca):
    eventos = [{"id": str(uuid.uuid4()), "tipo": "lead", "visitante_id": f"v{i}"} for i in range(5)]
    assert _lote(cliente_marca, eventos).status_code == 201
    eventos.append({"id": str(uuid.uuid4()), "tipo": "lead"})
    resp = _lote(cliente_marca, eventos)
    assert resp.status_code == 201
    estados = [r["estado"] for r in resp.json()["resultados"]]
    assert estados == ["existente"] * 5 + ["creado"]
    assert Evento.objects.count() == 6
    again = _lote(cliente_marca, eventos)
    assert again.status_code == 200
    assert again.json()["creados"] == 0


def test_conflicto_en_un_item_es_409_y_no_escribe_nada(cliente_marca):
    guardado = {"id": str(uuid.uuid4()), "tipo": "lead"}
    venta = {"tipo": "venta", "valor": "1", "moneda": "EUR", "referencia_externa": "PX"}
    assert _lote(cliente_marca, [guardado, venta]).status_code == 201
    venta_id = Evento.objects.get(tipo="venta").id
    resp = _lote(
        cliente_marca,
        [
            {"tipo": "lead", "visitante_id": "nuevo"},
            {**guardado, "tipo": "registro"},
            {**venta, "id": str(uuid.uuid4())},
        ],
    )
    assert resp.status_code == 409
    cuerpo = resp.json()
    assert set(cuerpo["errors"]["eventos"]) == {"1", "2"}
    assert "id" in cuerpo["errors"]["eventos"]["1"]
    assert "referencia_externa" in cuerpo["errors"]["eventos"]["2"]
    assert {c["indice"]: c["evento_id"] for c in cuerpo["conflictos"]} == {
        1: guardado["id"],
        2: str(venta_id),
    }
    assert Evento.objects.count() == 2  # the valid new item was not written either


def test_repetidos_dentro_del_lote_son_400(cliente_marca):
    evento_id = str(uuid.uuid4())
    venta = {"tipo": "venta", "valor": "1", "moneda": "EUR", "referencia_externa": "P"}
    resp = _lote(
        cliente_marca,
        [{"id": evento_id, "tipo": "lead"}, {"id": evento_id, "tipo": "lead"}, venta, venta],
    )
    assert resp.status_code == 400
    errores = resp.json()["errors"]["eventos"]
    assert "id" in errores["1"] and "referencia_externa" in errores["3"]


def test_un_item_puede_seguir_a_un_click_del_mismo_lote(cliente_marca, marca):
    click_id = str(uuid.uuid4())
    resp = _lote(
        cliente_marca,
        [{"tipo": "lead", "click_id": click_id}, {"id": click_id, "tipo": "click"}],
    )
    assert resp.status_code == 201, resp.content
    assert str(Evento.objects.get(tipo="lead").click_id) == click_id


def test_marca_ajena_en_un_item_es_400_por_indice(cliente_marca):
    ajena = MarcaFactory()
    resp = _lote(cliente_marca, [{"tipo": "lead"}, {"tipo": "lead", "marca": str(ajena.id)}])
    assert resp.status_code == 400
    assert "marca" in resp.json()["errors"]["eventos"]["1"]
    assert Evento.objects.count() == 0


def test_permisos_del_lote(cliente_anonimo, cliente_socio):
    assert _lote(cliente_anonimo, [{"tipo": "lead"}]).status_code == 401
    assert _lote(cliente_socio, [{"tipo": "lead"}]).status_code == 403


def test_senal_una_vez_con_los_ids_nuevos(cliente_marca, django_capture_on_commit_callbacks):
    recibidos: list[set] = []

    def receptor(sender, evento_ids, **kwargs):
        recibidos.append({str(i) for i in evento_ids})

    existente = {"id": str(uuid.uuid4()), "tipo": "lead"}
    _lote(cliente_marca, [existente])
    eventos_registrados.connect(receptor)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            resp = _lote(cliente_marca, [existente, {"tipo": "lead"}, {"tipo": "registro"}])
    finally:
        eventos_registrados.disconnect(receptor)
    nuevos = {r["id"] for r in resp.json()["resultados"] if r["estado"] == "creado"}
    assert len(nuevos) == 2
    assert recibidos == [nuevos]


def test_texto_y_metadata_con_caracteres_especiales_se_guardan_intactos(cliente_marca):
    raro = 'tab\there\nnueva línea \\ barra "comillas" ñandú 🚀 ,;|'
    eventos = [
        {"tipo": "lead", "visitante_id": f"v{i}\\x", "metadata": {"texto": raro, "n": [1, 2.5]}}
        for i in range(3)
    ]
    resp = _lote(cliente_marca, eventos)
    assert resp.status_code == 201, resp.content
    for r, enviado in zip(resp.json()["resultados"], eventos, strict=True):
        evento = Evento.objects.get(id=r["id"])
        assert evento.metadata == enviado["metadata"]
        assert evento.visitante_id == enviado["visitante_id"]
