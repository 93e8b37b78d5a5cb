"""Fault: the Celery worker is killed with SIGKILL in the middle of an attribution run.

Promise (PRODUCT.md §3, docs/RELIABILITY.md): a batch is claimed, credited and marked in one
database transaction, so a worker that dies mid-batch leaves its events `pendiente` (the
transaction is rolled back with the connection) and never half-credited. Once a new worker is
running (and the periodic sweep has run), every event is credited exactly once.

Real processes: gunicorn and a Celery worker on the test's PostgreSQL database and Redis; the
worker's whole process group gets SIGKILL (a crash, an OOM kill, a container killed).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import requests
from django.db.models import Count, Sum

from comision_recompensa.models import Comision, Modalidad, Recompensa
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from conftest import token_para
from eventos_medios.models import EstadoAtribucion, Evento, TipoSocio
from eventos_medios.tests.factories import MarcaFactory, SocioFactory, UsuarioFactory
from tests.procesos import esperar

pytestmark = [pytest.mark.faults, pytest.mark.integration]

BARRER = "comision_recompensa.tasks.barrer_eventos_pendientes"
LOTES_HTTP = 2
EVENTOS_POR_LOTE = 1000  # the batch cap
LOTE_ATRIBUCION = 20  # small attribution batches, so the kill lands between and inside them


@pytest.fixture
def programa(entorno_procesos):
    """A brand with an ingestion token; an affiliate (→ Comision) and an influencer
    (→ Recompensa), each paid 1.00 EUR per venta."""
    marca = MarcaFactory()
    usuario = UsuarioFactory()
    marca.usuarios.add(usuario)
    socios = [SocioFactory(tipo=TipoSocio.AFILIADO), SocioFactory(tipo=TipoSocio.INFLUENCER)]
    for socio in socios:
        ReglaPagoFactory(
            asociacion=AsociacionFactory(marca=marca, socio=socio),
            tipo_evento="venta",
            modalidad=Modalidad.FIJO,
            valor=Decimal("1.00"),
        )
    return {"marca": marca, "socios": socios, "token": token_para(usuario)}


def _contar(estado: str) -> int:
    return Evento.objects.filter(estado_atribucion=estado).count()


def test_worker_muerto_a_mitad_de_lote_acredita_cada_evento_una_vez(entorno_procesos, programa):
    servidor = entorno_procesos.servidor()
    worker = entorno_procesos.worker(
        BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS="0", ATRIBUCION_LOTE=str(LOTE_ATRIBUCION)
    )
    http = requests.Session()
    http.headers["Authorization"] = f"Token {programa['token']}"
    marca = str(programa["marca"].pk)
    codigos = [s.codigo_referido for s in programa["socios"]]

    # 1. A flash sale: 2 full batches over HTTP; the worker starts draining at the first one.
    enviados = 0
    for _ in range(LOTES_HTTP):
        eventos = []
        for _ in range(EVENTOS_POR_LOTE):
            eventos.append(
                {
                    "marca": marca,
                    "tipo": "venta",
                    "valor": "30.00",
                    "moneda": "EUR",
                    "referencia_externa": f"pedido-{uuid.uuid4()}",
                    "codigo_referido": codigos[enviados % 2],
                }
            )
            enviados += 1
        r = http.post(f"{servidor.url}/api/v1/eventos/lote/", json={"eventos": eventos}, timeout=60)
        assert r.status_code == 201, r.text[:500]

    # 2. SIGKILL the worker (main process and pool child) once part of the work is done.
    esperar(
        lambda: _contar(EstadoAtribucion.ATRIBUIDO) > 0,
        timeout=60,
        intervalo=0.01,
        mensaje="the worker started attributing",
    )
    worker.matar()
    atribuidos_al_morir = _contar(EstadoAtribucion.ATRIBUIDO)
    assert not worker.vivo
    assert 0 < atribuidos_al_morir < enviados, "the kill must land in the middle of the run"
    # Nothing half-done: the dead worker's open transaction was rolled back.
    creditos_al_morir = Comision.objects.count() + Recompensa.objects.count()
    assert creditos_al_morir == atribuidos_al_morir

    # 3. A new worker (default batch size); the beat-scheduled sweep (published here as beat
    #    does) re-queues the rest.
    worker = entorno_procesos.worker(BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS="0")
    re_encolados = 0

    def nada_pendiente() -> bool:
        nonlocal re_encolados
        if _contar(EstadoAtribucion.PENDIENTE) == 0:
            return True
        linea = worker.esperar_tarea(worker.enviar(BARRER, cola="atribucion"), timeout=30)
        re_encolados += int(linea.rsplit(":", 1)[1])
        return False

    esperar(nada_pendiente, timeout=90, intervalo=1.0, mensaje="no event left pendiente")

    almacenados = Evento.objects.count()
    atribuidos = _contar(EstadoAtribucion.ATRIBUIDO)
    comisiones = Comision.objects.count()
    recompensas = Recompensa.objects.count()
    duplicados = sum(
        modelo.objects.values("evento_id").annotate(n=Count("id")).filter(n__gt=1).count()
        for modelo in (Comision, Recompensa)
    )
    acreditados = set(Comision.objects.values_list("evento_id", flat=True)) | set(
        Recompensa.objects.values_list("evento_id", flat=True)
    )
    total = (Comision.objects.aggregate(t=Sum("monto"))["t"] or 0) + (
        Recompensa.objects.aggregate(t=Sum("monto"))["t"] or 0
    )

    assert almacenados == atribuidos == enviados == LOTES_HTTP * EVENTOS_POR_LOTE
    assert comisiones == recompensas == enviados // 2
    assert duplicados == 0
    assert acreditados == set(Evento.objects.values_list("id", flat=True))
    assert total == Decimal("1.00") * enviados
    print(
        f"\n[worker muerto] eventos enviados={enviados} almacenados={almacenados} "
        f"atribuidos_al_morir={atribuidos_al_morir} atribuidos={atribuidos} "
        f"re_encolados_por_el_barrido={re_encolados} comisiones={comisiones} "
        f"recompensas={recompensas} total={total} duplicados={duplicados}"
    )
