"""B7 (reserved): webhook deliveries per second from one worker process to a local receiver,
beside the same run's payout delivery rate.

Webhooks do not exist in the product yet, so this figure only says why it is `n/a`. When they
land, replace `b7_webhooks` with the measurement — the registry entry in `bench/registro.py`
stays as it is. A sketch of what it should do, in the spirit of B4:

1. start a local receiver (a tiny HTTP server answering 200, in its own process) and point one
   webhook endpoint of a fixture marca at it, and `PAGOS_URL` at the same receiver;
2. create N outbox deliveries the way the product does (changes that emit webhook events, e.g.
   approving comisiones), start one Celery worker process (`WorkerCelery`, `-c 1`, the
   delivery queue) and time the drain: deliveries/s received;
3. in the same run, the same for N payouts (`pago.enviado` deliveries to `PAGOS_URL`) as the
   baseline, so the ratio means something on a shared machine;
4. with `--perfil`, record the worker with `perfil.grabar` as B4 does.
"""

from __future__ import annotations

from django.apps import apps

from bench.figuras import Contexto
from bench.informe import Figura


def _modelos_webhook() -> list[str]:
    """Installed models that look like webhook endpoints or deliveries."""
    return sorted(
        f"{m._meta.app_label}.{m.__name__}"
        for m in apps.get_models()
        if "webhook" in m.__name__.lower() or "webhook" in m._meta.db_table.lower()
    )


def b7_webhooks(ctx: Contexto) -> dict[str, Figura]:
    f = Figura(
        "B7",
        "webhook deliveries, 1 worker process",
        "deliveries/s",
        objetivo_texto="reported beside the payout delivery rate",
    )
    modelos = _modelos_webhook()
    if not modelos:
        return {"B7": f.no_disponible("webhooks do not exist yet (no webhook model installed)")}
    return {
        "B7": f.no_disponible(
            f"webhook models exist ({', '.join(modelos)}) but the benchmark does not measure "
            "their deliveries yet: implement bench/webhooks.py's b7_webhooks"
        )
    }
