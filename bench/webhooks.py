"""B7: webhook deliveries per second from one worker process to a local receiver, beside the
same run's payout delivery rate (Pagos delivered per second to the same kind of receiver).

1. a local receiver (`comision_recompensa.webhooks.desarrollo.receptor`, its own process,
   answering 200 and verifying signatures) and one endpoint of a fixture brand pointing at it;
   `PAGOS_URL` points at the same receiver;
2. one Celery worker process (`-c 1`, queues `webhooks,pagos`); N deliveries written the way
   the subscriptions write them (`entregas_registrar`, commits of 100, each queueing its
   deliveries after commit) and the time until all are `entregada`: deliveries/s;
3. the baseline: N Pagos put in the outbox the way generation does (`pago_generado` after
   commit queues each) and the time until all are `enviado`: Pagos/s.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.test.utils import override_settings

from bench.figuras import Contexto
from bench.informe import Figura
from bench.procesos import WorkerCelery, lanzar, puerto_libre, terminar

LOTE = 100


def _receptor(ctx: Contexto, puerto: int) -> Any:
    cmd = [
        sys.executable,
        "-m",
        "comision_recompensa.webhooks.desarrollo.receptor",
        "--puerto",
        str(puerto),
    ]
    proc = lanzar(cmd, env=ctx.env, log=ctx.logs / f"receptor-{puerto}.log")
    limite = time.monotonic() + 30
    while time.monotonic() < limite:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{puerto}/_estadisticas", timeout=2):
                return proc
        except OSError:
            time.sleep(0.1)
    terminar(proc)
    raise RuntimeError("the local webhook receiver did not start")


def _esperar(contar: Any, n: int, plazo: float) -> tuple[int, float]:
    t0 = time.perf_counter()
    hechas = 0
    while time.perf_counter() - t0 < plazo:
        hechas = contar()
        if hechas >= n:
            break
        time.sleep(0.05)
    return hechas, time.perf_counter() - t0


def _webhooks(ctx: Contexto, url: str, n: int) -> tuple[int, float, str]:
    from comision_recompensa.models import EntregaWebhook, EstadoEntrega
    from comision_recompensa.webhooks import services
    from eventos_medios.models import Marca

    marca = Marca.objects.get(pk=ctx.fx.atribucion.marca_id)
    with override_settings(WEBHOOKS_PERMITIR_PRIVADAS=True):
        endpoint = services.endpoint_crear(marca=marca, url=url, eventos=["*"])
    t0 = time.perf_counter()
    for inicio in range(0, n, LOTE):
        with transaction.atomic():
            services.entregas_registrar(
                nuevas=[
                    services.NuevaEntrega(
                        endpoint_id=endpoint.pk,
                        tipo="comision.aprobada",
                        datos={"id": str(uuid.uuid4()), "monto": "12.50", "moneda": "EUR"},
                    )
                    for _ in range(inicio, min(inicio + LOTE, n))
                ]
            )
    qs = EntregaWebhook.objects.filter(endpoint=endpoint, estado=EstadoEntrega.ENTREGADA)
    hechas, _ = _esperar(qs.count, n, ctx.t.plazo_drenaje)
    return hechas, time.perf_counter() - t0, str(endpoint.pk)


def _pagos(ctx: Contexto, n: int) -> tuple[int, float]:
    from alpespartners.senales import enviar_al_confirmar
    from comision_recompensa import signals
    from comision_recompensa.models import EstadoPago, Pago

    socio_id = ctx.fx.atribucion.socio_ids[0]
    t0 = time.perf_counter()
    ids: list[uuid.UUID] = []
    for inicio in range(0, n, LOTE):
        with transaction.atomic():
            pagos = Pago.objects.bulk_create(
                Pago(socio_id=socio_id, monto=Decimal("10.00"), moneda="EUR")
                for _ in range(inicio, min(inicio + LOTE, n))
            )
            for pago in pagos:
                enviar_al_confirmar(signals.pago_generado, sender=Pago, pago_id=pago.pk)
            ids.extend(p.pk for p in pagos)
    qs = Pago.objects.filter(id__in=ids, estado=EstadoPago.ENVIADO)
    hechas, _ = _esperar(qs.count, n, ctx.t.plazo_drenaje)
    return hechas, time.perf_counter() - t0


def _estadisticas(puerto: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{puerto}/_estadisticas", timeout=5) as r:
        datos: dict[str, Any] = json.loads(r.read())
    return datos


def b7_webhooks(ctx: Contexto) -> dict[str, Figura]:
    f = Figura(
        "B7",
        "webhook deliveries, 1 worker process",
        "deliveries/s",
        objetivo_texto="reported beside the payout delivery rate",
    )
    n = 500 if ctx.t.b4_conversiones <= 2_000 else 5_000  # --quick, or the full run
    puerto = puerto_libre()
    receptor = _receptor(ctx, puerto)
    env = {
        **ctx.env,
        "WEBHOOKS_PERMITIR_PRIVADAS": "true",
        "PAGOS_URL": f"http://127.0.0.1:{puerto}/pagos",
        "PAGOS_SECRETO": "bench-pagos-secret",
    }
    worker = WorkerCelery(env=env, logs=ctx.logs, colas="webhooks,pagos")
    worker.iniciar()
    try:
        entregadas, segundos, _ = _webhooks(ctx, f"http://127.0.0.1:{puerto}/webhooks", n)
        with override_settings(PAGOS_URL=env["PAGOS_URL"]):
            pagos, segundos_pagos = _pagos(ctx, n)
        stats = _estadisticas(puerto)
    finally:
        worker.detener()
        terminar(receptor)
    f.valor = entregadas / segundos if segundos else None
    f.base = pagos / segundos_pagos if segundos_pagos else None
    f.base_nombre = "payout deliveries (Pagos/s)"
    f.detalle = {
        "deliveries": n,
        "delivered": entregadas,
        "seconds": round(segundos, 2),
        "pagos": n,
        "pagos_delivered": pagos,
        "pagos_seconds": round(segundos_pagos, 2),
        "receiver_requests": stats.get("recibidas"),
        "receiver_duplicates": stats.get("duplicados"),
    }
    if entregadas < n or pagos < n:
        f.notas.append(
            f"B7: {entregadas}/{n} deliveries and {pagos}/{n} Pagos within "
            f"{ctx.t.plazo_drenaje:.0f}s; the figures are partial rates"
        )
    return {"B7": f}
