"""Concurrent duplicates against the real database: the unique constraints decide.

20 threads, each with its own PostgreSQL connection, POST the same event at the same moment
(through the whole HTTP stack): exactly one row, every answer 201 or 200, never a 500.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections

from conftest import cliente_para
from eventos_medios.models import Evento
from eventos_medios.tests.factories import MarcaFactory, UsuarioFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,  # real concurrent connections
]
HILOS = 20


def _en_paralelo(cliente, cuerpos: list[dict], url="/api/v1/eventos/") -> list:
    barrera = threading.Barrier(len(cuerpos))
    respuestas: list = [None] * len(cuerpos)

    def trabajo(i: int) -> None:
        try:
            barrera.wait(timeout=30)
            respuestas[i] = cliente.post(url, cuerpos[i], format="json")
        finally:
            connections.close_all()

    hilos = [threading.Thread(target=trabajo, args=(i,)) for i in range(len(cuerpos))]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join(timeout=60)
    return respuestas


@pytest.fixture
def cliente_de_marca():
    marca = MarcaFactory()
    usuario = UsuarioFactory()
    marca.usuarios.add(usuario)
    return cliente_para(usuario), marca


def test_mismo_id_20_veces_una_sola_fila(cliente_de_marca):
    cliente, _ = cliente_de_marca
    cuerpo = {"id": str(uuid.uuid4()), "tipo": "lead", "visitante_id": "v-concurrente"}
    respuestas = _en_paralelo(cliente, [cuerpo] * HILOS)
    codigos = sorted(r.status_code for r in respuestas)
    assert codigos.count(201) == 1, codigos
    assert codigos.count(200) == HILOS - 1, codigos
    assert Evento.objects.filter(id=cuerpo["id"]).count() == 1
    assert {r.json()["id"] for r in respuestas} == {cuerpo["id"]}


def test_misma_venta_con_ids_distintos_una_sola_fila(cliente_de_marca):
    cliente, marca = cliente_de_marca
    referencia = f"PED-{uuid.uuid4().hex[:8]}"
    cuerpos = [
        {
            "id": str(uuid.uuid4()),
            "tipo": "venta",
            "valor": "10.00",
            "moneda": "EUR",
            "referencia_externa": referencia,
        }
        for _ in range(HILOS)
    ]
    respuestas = _en_paralelo(cliente, cuerpos)
    codigos = sorted(r.status_code for r in respuestas)
    assert codigos.count(201) == 1, codigos
    assert codigos.count(409) == HILOS - 1, codigos
    guardada = Evento.objects.get(marca=marca, referencia_externa=referencia)
    assert {r.json()["evento_id"] for r in respuestas if r.status_code == 409} == {str(guardada.id)}


def test_mismo_lote_20_veces_sin_duplicados(cliente_de_marca):
    cliente, _ = cliente_de_marca
    eventos = [{"id": str(uuid.uuid4()), "tipo": "interaccion"} for _ in range(50)]
    respuestas = _en_paralelo(cliente, [{"eventos": eventos}] * HILOS, url="/api/v1/eventos/lote/")
    assert all(r.status_code in (200, 201) for r in respuestas), [r.status_code for r in respuestas]
    assert sum(r.json()["creados"] for r in respuestas) == 50
    assert Evento.objects.filter(id__in=[e["id"] for e in eventos]).count() == 50
