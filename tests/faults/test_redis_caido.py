"""Fault: Redis (broker and cache) is killed while a brand is sending events over HTTP.

Promise (PRODUCT.md §2–§3, docs/RELIABILITY.md): ingestion keeps answering 2xx from the
database while Redis is down — publishing the attribution task fails fast and is skipped — and
once Redis is back the periodic sweep (`barrer_eventos_pendientes`) re-queues what was never
queued: every event is stored once and attributed once, none lost, none credited twice.

Real processes: a throwaway `redis-server` (SIGKILLed, then restarted empty on the same port),
gunicorn and a Celery worker using it, the test's PostgreSQL database.
"""

from __future__ import annotations

import concurrent.futures
import time
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
# Client deadline: a request that takes longer than this fails the test (a hang).
TIMEOUT_HTTP = 10
SUELTOS_POR_FASE = 15
LOTE_POR_FASE = 25
CADA_SIN_SOCIO = 5  # every 5th venta names nobody → sin_atribucion


@pytest.fixture
def programa(entorno_procesos):
    """A brand with an ingestion token and an affiliate paid 1.00 EUR per venta."""
    marca = MarcaFactory()
    usuario = UsuarioFactory()
    marca.usuarios.add(usuario)
    socio = SocioFactory(tipo=TipoSocio.AFILIADO)
    ReglaPagoFactory(
        asociacion=AsociacionFactory(marca=marca, socio=socio),
        tipo_evento="venta",
        modalidad=Modalidad.FIJO,
        valor=Decimal("1.00"),
    )
    return {"marca": marca, "socio": socio, "token": token_para(usuario)}


class Emisor:
    """Sends ventas to the live server and keeps the figures (every response must be 2xx)."""

    def __init__(self, base: str, programa: dict) -> None:
        self.base = base
        self.marca = str(programa["marca"].pk)
        self.codigo = programa["socio"].codigo_referido
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Token {programa['token']}"
        self.enviados = 0
        self.con_socio = 0
        self.estados: list[int] = []
        self.latencias: list[float] = []

    def _venta(self) -> dict:
        self.enviados += 1
        venta = {
            "id": str(uuid.uuid4()),
            "marca": self.marca,
            "tipo": "venta",
            "valor": "20.00",
            "moneda": "EUR",
            "referencia_externa": f"pedido-{uuid.uuid4()}",
        }
        if self.enviados % CADA_SIN_SOCIO:
            venta["codigo_referido"] = self.codigo
            self.con_socio += 1
        return venta

    def _post(self, ruta: str, cuerpo: dict) -> requests.Response:
        inicio = time.monotonic()
        respuesta = self.http.post(f"{self.base}{ruta}", json=cuerpo, timeout=TIMEOUT_HTTP)
        self.latencias.append(time.monotonic() - inicio)
        self.estados.append(respuesta.status_code)
        assert 200 <= respuesta.status_code < 300, respuesta.text
        return respuesta

    def absorber(self, otro: Emisor) -> None:
        """Add another sender's figures to these."""
        self.enviados += otro.enviados
        self.con_socio += otro.con_socio
        self.estados += otro.estados
        self.latencias += otro.latencias

    def fase(self) -> float:
        """Some single events and one batch; returns the slowest response time (a figure)."""
        desde = len(self.latencias)
        for _ in range(SUELTOS_POR_FASE):
            self._post("/api/v1/eventos/", self._venta())
        lote = [self._venta() for _ in range(LOTE_POR_FASE)]
        respuesta = self._post("/api/v1/eventos/lote/", {"eventos": lote})
        assert len(respuesta.json()["resultados"]) == LOTE_POR_FASE
        return max(self.latencias[desde:])


def _barrer(worker) -> int:
    """Run the sweep once on the worker; returns how many events it re-queued."""
    linea = worker.esperar_tarea(worker.enviar(BARRER, cola="atribucion"), timeout=30)
    assert " succeeded in " in linea, linea
    return int(linea.rsplit(":", 1)[1])


def test_redis_caido_durante_la_ingesta_no_pierde_ni_duplica(
    redis_desechable, entorno_procesos, programa
):
    servidor = entorno_procesos.servidor()
    # The sweep re-queues anything pending, however recent (the default waits 10 s).
    worker = entorno_procesos.worker(BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS="0")
    emisor = Emisor(servidor.url, programa)

    # 1. Redis up: events are queued and attributed as usual.
    lento_antes = emisor.fase()
    # 2. Redis killed (SIGKILL: whatever was queued in it is gone) while a second sender is in
    #    the middle of its requests; ingestion goes on.
    en_curso = Emisor(servidor.url, programa)
    hilo = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    segundo_plano = hilo.submit(lambda: [en_curso.fase() for _ in range(2)])
    esperar(lambda: len(en_curso.latencias) >= 5, timeout=30, mensaje="second sender started")
    redis_desechable.matar()
    lento_durante = emisor.fase()
    segundo_plano.result(timeout=120)
    hilo.shutdown()
    emisor.absorber(en_curso)
    pendientes_durante = Evento.objects.filter(estado_atribucion=EstadoAtribucion.PENDIENTE).count()
    # 3. Redis back, empty. The worker reconnects (or is restarted). Nothing new arrives, so only
    #    the beat-scheduled sweep (published here the way beat does) can find the lost work.
    redis_desechable.arrancar()
    reinicios_del_worker = 0

    def worker_conectado() -> bool:
        # The worker reconnects by itself, unless Redis died while it held unacknowledged
        # messages: then kombu fails restoring them ("Unrecoverable error") and the worker
        # exits. In production its supervisor restarts it; here the test plays the supervisor.
        nonlocal reinicios_del_worker
        if not worker.vivo:
            reinicios_del_worker += 1
            worker.arrancar()
        return worker.ping()

    esperar(
        worker_conectado,
        timeout=90,
        intervalo=0.5,
        mensaje="worker reconnected to the broker",
        ignorar=(Exception,),
    )
    requeridos = 0

    def nada_pendiente() -> bool:
        nonlocal requeridos
        if not Evento.objects.filter(estado_atribucion=EstadoAtribucion.PENDIENTE).exists():
            return True
        requeridos += _barrer(worker)
        return False

    esperar(nada_pendiente, timeout=60, intervalo=0.5, mensaje="no event left pendiente")
    # 4. Business as usual afterwards; a last sweep finds nothing left to do.
    emisor.fase()
    esperar(
        lambda: not Evento.objects.filter(estado_atribucion=EstadoAtribucion.PENDIENTE).exists(),
        timeout=60,
        intervalo=0.2,
        mensaje="events sent after the outage attributed",
    )
    assert _barrer(worker) == 0

    enviados = emisor.enviados
    almacenados = Evento.objects.count()
    por_estado = dict(
        Evento.objects.values_list("estado_atribucion").annotate(n=Count("id")).order_by()
    )
    comisiones = Comision.objects.count()
    duplicados = (
        Comision.objects.values("evento_id", "socio_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    total = Comision.objects.aggregate(t=Sum("monto"))["t"]

    assert all(200 <= e < 300 for e in emisor.estados)
    assert almacenados == enviados == 5 * (SUELTOS_POR_FASE + LOTE_POR_FASE)
    assert pendientes_durante > 0  # the outage did leave work for the sweep
    assert requeridos >= pendientes_durante
    assert por_estado == {
        EstadoAtribucion.ATRIBUIDO: emisor.con_socio,
        EstadoAtribucion.SIN_ATRIBUCION: enviados - emisor.con_socio,
    }
    assert comisiones == emisor.con_socio
    assert Recompensa.objects.count() == 0
    assert duplicados == 0
    assert set(Comision.objects.values_list("evento__codigo_referido", flat=True)) == {
        emisor.codigo
    }
    assert total == Decimal("1.00") * emisor.con_socio
    print(
        f"\n[redis caído] eventos enviados={enviados} almacenados={almacenados} "
        f"respuestas_2xx={len(emisor.estados)}/{len(emisor.estados)} "
        f"pendientes_tras_la_caida={pendientes_durante} re_encolados_por_el_barrido={requeridos} "
        f"atribuidos={por_estado.get(EstadoAtribucion.ATRIBUIDO, 0)} "
        f"sin_atribucion={por_estado.get(EstadoAtribucion.SIN_ATRIBUCION, 0)} "
        f"comisiones={comisiones} total={total} duplicados={duplicados} "
        f"reinicios_del_worker={reinicios_del_worker} "
        f"respuesta_mas_lenta: antes={lento_antes:.2f}s durante={lento_durante:.2f}s"
    )
