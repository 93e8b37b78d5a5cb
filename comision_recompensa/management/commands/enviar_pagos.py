"""`manage.py enviar_pagos [--loop]`: deliver due Pagos to the payments component now."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from tqdm import tqdm

from alpespartners.comandos import Cierre, ComandoOperador
from comision_recompensa.models import Pago
from comision_recompensa.pagos.entrega import (
    ConteoEntrega,
    ResultadoEntrega,
    pago_entregar,
)
from comision_recompensa.pagos.selectors import pagos_por_enviar


class Command(ComandoOperador):
    help = (
        "Make one delivery attempt for every due pendiente Pago (the outbox sweep): POST it to\n"
        "the payments component at PAGOS_URL with its Idempotency-Key. A failure schedules the\n"
        "next attempt with backoff; after PAGOS_MAX_INTENTOS the Pago becomes fallido.\n"
        "\n"
        "Workers already deliver each new Pago and beat runs this sweep; use it by hand after\n"
        "an outage of the payments component, to drain the queue now, or with --loop as a\n"
        "tiny delivery daemon where no Celery worker runs. Safe beside workers: each Pago is\n"
        "claimed by one sender at a time. Without PAGOS_URL nothing is sent."
    )
    ejemplos = """
  # one sweep of up to 100 due Pagos
  python manage.py enviar_pagos
  # drain a larger backlog
  python manage.py enviar_pagos --limite 1000
  # keep sweeping every 5 seconds until Ctrl-C (prints a total summary on exit)
  python manage.py enviar_pagos --loop --intervalo 5
"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", action="store_true", help="Keep sweeping until stopped (Ctrl-C / SIGINT)."
        )
        parser.add_argument(
            "--intervalo",
            type=float,
            default=2.0,
            metavar="SEGUNDOS",
            help="Seconds between sweeps with --loop (default: %(default)s).",
        )
        parser.add_argument(
            "--limite",
            type=int,
            default=100,
            metavar="N",
            help="At most N Pagos per sweep, oldest due first (default: %(default)s).",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._enviados: list[Any] = []  # ids accepted by the current sweep

    def handle_one(self, *, limite: int = 100, barra: tqdm[Any] | None = None) -> ConteoEntrega:
        """One sweep (tests call this directly): what `pagos_entregar_pendientes` does, one
        Pago at a time so a progress bar can follow it."""
        conteo = ConteoEntrega()
        self._enviados = []
        if not settings.PAGOS_URL:
            return conteo
        ids = pagos_por_enviar(limite=limite)
        if barra is not None:
            barra.reset(total=len(ids))
        for pago_id in ids:
            resultado = pago_entregar(pago_id=pago_id)
            conteo.contar(resultado)
            if resultado == ResultadoEntrega.ENVIADO:
                self._enviados.append(pago_id)
            if barra is not None:
                barra.update(1)
        return conteo

    def handle(self, *args: Any, **opciones: Any) -> None:
        if opciones["limite"] < 1:
            raise CommandError(f"--limite must be at least 1, got {opciones['limite']}.")
        if opciones["intervalo"] <= 0:
            raise CommandError(f"--intervalo must be positive, got {opciones['intervalo']}.")
        if not settings.PAGOS_URL:
            self.stderr.write("PAGOS_URL is not set: Pagos wait as pendiente.")
            return
        total = Cierre("enviar_pagos")
        total.etiqueta_dinero = "money accepted"
        barra = self.barra(total=0, desc="enviar_pagos", unit="pago")
        barridos = 0
        try:
            while True:
                conteo = self.handle_one(limite=opciones["limite"], barra=barra)
                barridos += 1
                for resultado, n in conteo.por_resultado.items():
                    total.contar(resultado, n)
                total.sumar_todo(
                    Pago.objects.filter(pk__in=self._enviados).values_list("moneda", "monto")
                )
                if (conteo.total or not opciones["loop"]) and self.detallar:
                    self.stdout.write(str(conteo))
                if not opciones["loop"]:
                    break
                time.sleep(opciones["intervalo"])
        except KeyboardInterrupt:
            pass
        finally:
            barra.close()
        total.conteos = {
            "sweeps": barridos,
            "attempted": sum(total.conteos.values()),
            **{r.value: total.conteos.get(r.value, 0) for r in ResultadoEntrega},
        }
        total.imprimir(self)
