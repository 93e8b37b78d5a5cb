"""Fault: the payments component refuses connections, then answers 500s, then hangs past the
timeout, while Pagos keep being generated; then it comes back.

Promise (PRODUCT.md §4): every Pago is delivered, the component accepts each Idempotency-Key
exactly once (no payout lost, none paid twice), and once its signed callbacks arrive every Pago
is `pagado` and every item `pagada`.

The simulator runs in-process; the app under test answers the callbacks through a live server
(pytest-django's `live_server`), and a background thread plays the periodic sweep
(`pagos_entregar_pendientes`, what `barrer_pagos_pendientes` runs) the whole time.
"""

from __future__ import annotations

import collections
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from comision_recompensa.models import Comision, EstadoCredito, EstadoPago, Pago, Recompensa
from comision_recompensa.pagos.desarrollo.simulador import SimuladorPagos
from comision_recompensa.pagos.entrega import pagos_entregar_pendientes
from comision_recompensa.pagos.services import pagos_generar
from comision_recompensa.tests.pagos_helpers import (
    comision_aprobada,
    perfil_completo,
    recompensa_aprobada,
)
from eventos_medios.tests.factories import MarcaFactory, SocioFactory
from tests.procesos import esperar

pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.USANDO_POSTGRES,
        reason="a sweeper thread beside the test needs a shared database (PostgreSQL)",
    ),
]

SECRETO = "secreto-fallos-pagos"
SOCIOS_POR_FASE = 4


class Barrendero(threading.Thread):
    """Runs the outbox sweep in a loop, like the beat-scheduled task, until stopped."""

    def __init__(self) -> None:
        super().__init__(name="barrendero-pagos", daemon=True)
        self.parar = threading.Event()
        self.resultados: collections.Counter[str] = collections.Counter()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.parar.is_set():
                self.resultados.update(pagos_entregar_pendientes(limite=50).por_resultado)
                self.parar.wait(0.02)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            self.error = exc
        finally:
            connection.close()


def _generar_fase(fase: int) -> list[Pago]:
    """New approved credits for fresh, payable partners of one brand (two currencies for one),
    then generate."""
    marca = MarcaFactory()
    for i in range(SOCIOS_POR_FASE):
        socio = SocioFactory()
        perfil_completo(socio)
        comision_aprobada(socio, f"{60 + i}.00", marca=marca)
        recompensa_aprobada(socio, "2.50", marca=marca)
        if i == 0:
            comision_aprobada(socio, f"{50 + fase}.75", "USD", marca=marca)
    return pagos_generar()


def _intentos_minimos(pagos: list[Pago]) -> int:
    return min(Pago.objects.filter(id__in=[p.id for p in pagos]).values_list("intentos", flat=True))


def test_componente_de_pagos_caido_y_de_vuelta(live_server, settings):
    settings.PAGOS_SECRETO = SECRETO
    settings.PAGOS_TIMEOUT_SEGUNDOS = 0.3
    settings.PAGOS_MAX_INTENTOS = 10_000  # this test is about recovery, not the dead letter
    settings.PAGOS_BACKOFF_BASE_SEGUNDOS = 0.02
    settings.PAGOS_BACKOFF_MAX_SEGUNDOS = 0.2

    simulador = SimuladorPagos(
        modo="down", callback_base=live_server.url, secreto=SECRETO, segundos_colgado=10
    )
    simulador.iniciar()
    settings.PAGOS_URL = simulador.url
    barrendero = Barrendero()
    barrendero.start()
    try:
        # 1. Refusing connections while Pagos are generated.
        fase1 = _generar_fase(1)
        esperar(lambda: _intentos_minimos(fase1) >= 3, timeout=30, mensaje="retries while down")
        errores1 = set(
            Pago.objects.filter(id__in=[p.id for p in fase1]).values_list("ultimo_error", flat=True)
        )
        assert errores1 == {"connection failed: the payments component is unreachable"}

        # 2. Answering 500s.
        simulador.cambiar_modo("fail")
        fase2 = _generar_fase(2)
        esperar(lambda: _intentos_minimos(fase2) >= 2, timeout=30, mensaje="retries on 500s")
        esperar(lambda: _intentos_minimos(fase1 + fase2) >= 4, timeout=30, mensaje="all retried")
        assert simulador.errores_500 >= len(fase1) + len(fase2)

        # 3. Hanging past the client timeout.
        simulador.cambiar_modo("hang")
        fase3 = _generar_fase(3)
        esperar(lambda: _intentos_minimos(fase3) >= 1, timeout=60, mensaje="tried while hung")
        esperar(
            lambda: Pago.objects.filter(ultimo_error__startswith="timeout").count() >= 3,
            timeout=30,
            mensaje="timeouts recorded",
        )
        assert simulador.colgados >= 3
        assert simulador.aceptados == {}
        assert not Pago.objects.exclude(estado=EstadoPago.PENDIENTE).exists()

        # 4. Back: everything is delivered, then confirmed by the signed callbacks.
        simulador.cambiar_modo("ok")
        todos = fase1 + fase2 + fase3
        ids = {str(p.id) for p in todos}
        esperar(lambda: set(simulador.aceptados) == ids, timeout=60, mensaje="all accepted")
        esperar(
            lambda: Pago.objects.filter(estado=EstadoPago.PAGADO).count() == len(todos),
            timeout=60,
            mensaje="all Pagos confirmed",
        )
    finally:
        barrendero.parar.set()
        barrendero.join(timeout=30)
        simulador.detener()
    assert barrendero.error is None, barrendero.error

    pagos = list(Pago.objects.all())
    assert len(pagos) == len(todos) == 3 * (SOCIOS_POR_FASE + 1)
    assert {str(p.id) for p in pagos} == set(simulador.aceptados)
    assert all(p.estado == EstadoPago.PAGADO and p.confirmado_en for p in pagos)
    assert all(p.enviado_en is not None for p in pagos)
    # Each key accepted exactly once, with the same body every time it was seen.
    assert len(simulador.aceptados) == len(pagos)
    assert simulador.duplicados == 0
    assert simulador.conflictos == 0
    assert simulador.callbacks_fallidos == 0
    assert simulador.callbacks_ok == len(pagos)
    # Every item paid, none left out of a Pago, amounts add up.
    n_items = Comision.objects.count() + Recompensa.objects.count()
    assert n_items == 3 * (SOCIOS_POR_FASE * 2 + 1)
    for modelo in (Comision, Recompensa):
        assert not modelo.objects.exclude(estado=EstadoCredito.PAGADA).exists()
        assert not modelo.objects.filter(pago__isnull=True).exists()
    total_items = sum(Comision.objects.values_list("monto", flat=True)) + sum(
        Recompensa.objects.values_list("monto", flat=True)
    )
    assert sum((p.monto for p in pagos), Decimal("0")) == total_items

    intentos = sum(p.intentos for p in pagos)
    print(
        f"\n[pagos caídos] pagos={len(pagos)} items={n_items} "
        f"intentos={intentos} peticiones_recibidas={simulador.recibidos} "
        f"errores_500={simulador.errores_500} colgadas={simulador.colgados} "
        f"aceptadas={len(simulador.aceptados)} duplicados={simulador.duplicados} "
        f"conflictos={simulador.conflictos} callbacks={simulador.callbacks_ok} "
        f"barridos={dict(barrendero.resultados)}"
    )
