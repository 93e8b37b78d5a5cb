"""`manage.py pagos_simulado --puerto 8099 [--tasa-fallos 0.3] [--callback-base URL]`:
run the payments simulator in the foreground — a development tool for the demo and manual
testing (`comision_recompensa/pagos/desarrollo/`); it pays nobody."""

from __future__ import annotations

import json
import signal
import threading
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from alpespartners.comandos import Cierre, ComandoOperador
from comision_recompensa.pagos.desarrollo.simulador import MODOS, SimuladorPagos


def _dinero_aceptado(simulador: SimuladorPagos) -> list[tuple[str, Decimal]]:
    """(moneda, monto) of every distinct Pago the simulator accepted (bodies it could read)."""
    montos: list[tuple[str, Decimal]] = []
    for cuerpo in list(simulador.aceptados.values()):
        try:
            datos = json.loads(cuerpo)
            montos.append((str(datos["moneda"]), Decimal(str(datos["monto"]))))
        except (ValueError, KeyError, TypeError, InvalidOperation):
            continue
    return montos


class Command(ComandoOperador):
    help = (
        "Run a stand-in payments component in the foreground, for the demo and manual tests.\n"
        "It accepts each Pago once per Idempotency-Key (a repeat is answered 200 and not\n"
        "accepted twice), checks each delivery's X-Alpes-Firma (t=…,sha256=…) against its\n"
        "secret (a bad or stale signature is a 401) and, with --callback-base, confirms accepted\n"
        "Pagos (their exact amount and currency) with a callback signed the same way.\n"
        "GET / shows its counters. Point the app at it with PAGOS_URL=http://HOST:PUERTO/pagos.\n"
        "Stop it with Ctrl-C (or SIGTERM): it prints\n"
        "what it received and the money it accepted per currency.\n"
        "\n"
        "Never use it in production: it pays nobody."
    )
    ejemplos = """
  # accept everything on port 8099
  python manage.py pagos_simulado --puerto 8099
  # fail 30% of the requests with a 500, to watch retries and backoff
  python manage.py pagos_simulado --puerto 8099 --tasa-fallos 0.3
  # confirm accepted Pagos back to a local app (needs the shared PAGOS_SECRETO)
  python manage.py pagos_simulado --callback-base http://127.0.0.1:8000
  # an unresponsive component for 60 seconds, then stop
  python manage.py pagos_simulado --modo hang --segundos 60
"""
    con_progreso = False  # a server: no bounded work to follow

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--puerto",
            type=int,
            default=8099,
            metavar="PUERTO",
            help="TCP port to listen on, 1-65535, or 0 for any free port (default: %(default)s).",
        )
        parser.add_argument(
            "--host", default="127.0.0.1", help="Address to bind (default: %(default)s)."
        )
        parser.add_argument(
            "--tasa-fallos",
            type=float,
            default=0.0,
            dest="tasa_fallos",
            metavar="FRACCION",
            help="In mode ok, answer this fraction of requests (0 to 1) with a 500 "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--modo",
            choices=MODOS,
            default="ok",
            help="ok: accept; fail: 500 to everything; hang: never answer; down: refuse "
            "connections (default: %(default)s).",
        )
        parser.add_argument(
            "--callback-base",
            default="",
            dest="callback_base",
            metavar="URL",
            help="The app's base URL (e.g. http://127.0.0.1:8000) to confirm accepted Pagos.",
        )
        parser.add_argument(
            "--secreto",
            default=None,
            help="Secret that checks deliveries and signs the callbacks (default: the "
            "PAGOS_SECRETO setting; empty: deliveries are not checked).",
        )
        parser.add_argument(
            "--segundos",
            type=float,
            default=None,
            metavar="S",
            help="Stop by itself after S seconds (default: run until Ctrl-C / SIGTERM).",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        secreto = self._validar(o)
        cierre = Cierre("pagos_simulado")
        simulador = SimuladorPagos(
            host=o["host"],
            puerto=o["puerto"],
            modo=o["modo"],
            tasa_fallos=o["tasa_fallos"],
            callback_base=o["callback_base"],
            secreto=secreto,
        )
        try:
            simulador.iniciar()
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {o['host']}:{o['puerto']}: {exc.strerror or exc} "
                "(port in use? try another --puerto)."
            ) from exc
        self.stdout.write(
            f"Payments simulator on {simulador.url} (mode {o['modo']}, failure rate "
            f"{o['tasa_fallos']:.0%}). Set PAGOS_URL={simulador.url}. Ctrl-C to stop."
        )
        try:
            _esperar(o["segundos"])
        finally:
            simulador.detener()
            self._informar(simulador, cierre)

    def _validar(self, o: dict[str, Any]) -> str:
        """Check the options; return the callbacks' signing secret."""
        if not 0 <= o["puerto"] <= 65535:
            raise CommandError(f"--puerto must be between 0 and 65535, got {o['puerto']}.")
        if not 0.0 <= o["tasa_fallos"] <= 1.0:
            raise CommandError(
                f"--tasa-fallos must be between 0 and 1 (a fraction), got {o['tasa_fallos']}."
            )
        if o["segundos"] is not None and o["segundos"] < 0:
            raise CommandError(f"--segundos must not be negative, got {o['segundos']}.")
        if o["callback_base"] and not o["callback_base"].startswith(("http://", "https://")):
            raise CommandError(
                f"--callback-base must be an http(s) URL, got {o['callback_base']!r}."
            )
        secreto: str = o["secreto"] if o["secreto"] is not None else settings.PAGOS_SECRETO
        if o["callback_base"] and not secreto:
            raise CommandError("--callback-base needs a signing secret (--secreto).")
        return secreto

    def _informar(self, simulador: SimuladorPagos, cierre: Cierre) -> None:
        """What the simulator received, and the money it accepted per currency."""
        estadisticas = simulador.estadisticas()
        self.stdout.write(json.dumps(estadisticas))
        for clave, etiqueta in (
            ("recibidos", "requests received"),
            ("aceptados", "pagos accepted"),
            ("duplicados", "duplicates"),
            ("conflictos", "conflicts"),
            ("errores_500", "answered 500"),
            ("colgados", "left hanging"),
            ("firmas_invalidas", "bad signatures"),
            ("callbacks_ok", "callbacks ok"),
            ("callbacks_fallidos", "callbacks failed"),
        ):
            cierre.fijar(etiqueta, int(estadisticas[clave]))
        cierre.etiqueta_dinero = "money accepted"
        cierre.sumar_todo(_dinero_aceptado(simulador))
        cierre.imprimir(self)


def _esperar(segundos: float | None) -> None:
    """Until Ctrl-C, SIGTERM or `segundos` elapse (SIGTERM only when on the main thread)."""
    parar = threading.Event()
    en_hilo_principal = threading.current_thread() is threading.main_thread()
    previo = signal.signal(signal.SIGTERM, lambda *_: parar.set()) if en_hilo_principal else None
    limite = None if segundos is None else time.monotonic() + segundos
    try:
        while not parar.is_set():
            espera = 0.5 if limite is None else min(0.5, limite - time.monotonic())
            if espera <= 0:
                break
            parar.wait(espera)
    except KeyboardInterrupt:
        pass
    finally:
        if en_hilo_principal:
            signal.signal(signal.SIGTERM, previo)
