"""Fault: a webhook receiver refuses connections, then answers 500s, then hangs past the
timeout, while changes keep producing deliveries; then it comes back.

Promise (PRODUCT.md §10): every delivery arrives, exactly once per `Idempotency-Key` as the
receiver counts acceptances (duplicates 0), with a valid signature, and the receiver sees every
`secuencia` from 1 to N (no gap). A real Celery worker (queue `webhooks`) delivers; the receiver
is its own process (`comision_recompensa.webhooks.desarrollo.receptor`); the changes go through
the real lifecycle service (`credito_aprobar` → `comision_aprobada` → the subscription).
"""

from __future__ import annotations

import json
import sys
import urllib.request
from decimal import Decimal

import pytest

from comision_recompensa.creditos.services import credito_aprobar
from comision_recompensa.models import EntregaWebhook, EstadoEntrega
from comision_recompensa.tests.factories import ComisionFactory
from comision_recompensa.webhooks import receivers, services
from eventos_medios.tests.factories import (
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)
from tests.procesos import Proceso, esperar, puerto_libre

pytestmark = [pytest.mark.faults, pytest.mark.integration]

POR_FASE = 10
ENTORNO_WORKER = {
    "WEBHOOKS_PERMITIR_PRIVADAS": "true",
    "WEBHOOKS_TIMEOUT_CONEXION_SEGUNDOS": "1",
    "WEBHOOKS_TIMEOUT_LECTURA_SEGUNDOS": "2",
    "WEBHOOKS_BACKOFF_BASE_SEGUNDOS": "0.2",
    "WEBHOOKS_BACKOFF_MAX_SEGUNDOS": "1",
}


class Receptor(Proceso):
    """The development receiver in its own process; `.estadisticas()`, `.modo(m)`."""

    nombre_log = "webhook receiver"

    def __init__(self, entorno, log, puerto: int, secreto: str) -> None:
        self.puerto = puerto
        argv = [
            sys.executable,
            "-m",
            "comision_recompensa.webhooks.desarrollo.receptor",
            "--puerto",
            str(puerto),
            "--secreto",
            secreto,
            "--modo",
            "fail",
            "--segundos-colgado",
            "5",
        ]
        super().__init__(argv, entorno, log)

    def _pedir(self, ruta: str, cuerpo: bytes | None = None) -> dict:
        peticion = urllib.request.Request(f"http://127.0.0.1:{self.puerto}{ruta}", data=cuerpo)
        with urllib.request.urlopen(peticion, timeout=5) as resp:
            return json.loads(resp.read())

    def estadisticas(self) -> dict:
        return self._pedir("/_estadisticas")

    def modo(self, modo: str) -> None:
        self._pedir("/_control", json.dumps({"modo": modo}).encode())

    def _esperar_listo(self) -> None:
        def listo():
            self._fallar_si_murio("waiting for the receiver")
            return self.estadisticas()

        esperar(listo, timeout=30, ignorar=(OSError,))


def _aprobar(socio_pub, n: int) -> None:
    """n pending commissions approved through the lifecycle service (one commit each)."""
    for _ in range(n):
        comision = ComisionFactory(
            evento__publicacion=socio_pub, monto=Decimal("5.00"), moneda="EUR"
        )
        credito_aprobar(credito=comision)


def _entregas(endpoint):
    return EntregaWebhook.objects.filter(endpoint=endpoint)


def test_receptor_caido_lento_y_de_vuelta(entorno_procesos, settings, monkeypatch):
    settings.WEBHOOKS_PERMITIR_PRIVADAS = True
    worker = entorno_procesos.worker(colas="webhooks", **ENTORNO_WORKER)
    # The test process publishes to the worker's broker (its own Celery runs tasks eagerly).
    monkeypatch.setattr(receivers, "webhooks_entregar", _Publicar(worker, "webhooks_entregar"))
    monkeypatch.setattr(receivers, "webhooks_barrer", _Publicar(worker, "webhooks_barrer"))

    puerto = puerto_libre()
    marca = MarcaFactory()
    pub = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=SocioFactory()))
    endpoint = services.endpoint_crear(
        marca=marca, url=f"http://127.0.0.1:{puerto}/webhooks", eventos=["comision.aprobada"]
    )

    # 1. Nothing listens: connections refused.
    _aprobar(pub, POR_FASE)
    esperar(
        lambda: all(e.intentos >= 2 for e in _entregas(endpoint)),
        timeout=60,
        mensaje="retries while the receiver is down",
    )
    assert {e.ultimo_error for e in _entregas(endpoint)} == {"connection refused or unreachable"}

    # 2. It answers 500 to everything.
    receptor = Receptor(
        entorno_procesos.entorno(), entorno_procesos.ruta_log("receptor"), puerto, endpoint.secreto
    )
    entorno_procesos.procesos.append(receptor)
    receptor.arrancar()
    _aprobar(pub, POR_FASE)
    esperar(
        lambda: receptor.estadisticas()["errores_500"] >= 2 * POR_FASE,
        timeout=90,
        mensaje="500s answered",
    )

    # 3. It hangs past the read timeout.
    receptor.modo("hang")
    _aprobar(pub, POR_FASE)
    esperar(
        lambda: _entregas(endpoint).filter(ultimo_error__startswith="timeout").count() >= 3,
        timeout=90,
        mensaje="timeouts recorded",
    )
    assert receptor.estadisticas()["aceptadas"] == {}

    # 4. Back: everything arrives, the sweep helping as the beat would.
    receptor.modo("ok")
    total = 3 * POR_FASE

    def todo_entregado():
        worker.enviar("comision_recompensa.tasks.webhooks_barrer", cola="webhooks")
        return _entregas(endpoint).filter(estado=EstadoEntrega.ENTREGADA).count() == total

    esperar(todo_entregado, timeout=120, intervalo=1.0, mensaje="all delivered")
    stats = receptor.estadisticas()

    filas = list(_entregas(endpoint))
    claves = {str(e.id) for e in filas}
    secuencias = sorted(s for s in stats["aceptadas"].values())
    huecos = sorted(set(range(1, total + 1)) - set(secuencias))
    intentos = sum(e.intentos for e in filas)
    print(
        f"\n[webhooks caídos] entregas={total} intentos={intentos} "
        f"peticiones_recibidas={stats['recibidas']} errores_500={stats['errores_500']} "
        f"colgadas={stats['colgadas']} aceptadas={len(stats['aceptadas'])} "
        f"duplicados_por_clave={stats['duplicados']} huecos={len(huecos)} "
        f"firmas_invalidas={stats['firmas_invalidas']}"
    )
    assert len(filas) == total
    assert set(stats["aceptadas"]) == claves  # each Idempotency-Key accepted, none unknown
    assert stats["duplicados"] == 0
    assert stats["firmas_invalidas"] == 0
    assert secuencias == list(range(1, total + 1)) and huecos == []
    assert all(e.estado == EstadoEntrega.ENTREGADA and e.intentos >= 1 for e in filas)
    assert intentos > total  # it really had to retry


class _Publicar:
    """Stands in for a task object: `.delay(*args)` publishes to the real worker's queue."""

    def __init__(self, worker, nombre: str) -> None:
        self.worker, self.nombre = worker, nombre

    def delay(self, *args) -> None:
        self.worker.enviar(f"comision_recompensa.tasks.{self.nombre}", args, cola="webhooks")
