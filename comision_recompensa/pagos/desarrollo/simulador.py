"""A development tool: a small stand-in payments component for tests, the demo and manual
testing (`manage.py pagos_simulado`). It pays nobody; production points PAGOS_URL at the real
payments component.

It accepts `POST /` (any path) with an `Idempotency-Key` header and records every DISTINCT key
it accepted; a request with a key it already accepted is answered 200 again without being
accepted twice (counted in `duplicados`; a different body under the same key is a 422, counted
in `conflictos`). It can be switched at runtime between modes:

- `ok`:   accept (optionally failing a random fraction, `tasa_fallos`, with a 500);
- `fail`: answer 500 to everything;
- `hang`: hold each request without answering until the mode changes or `segundos_colgado`
          elapses, then drop it unprocessed (the client sees a timeout);
- `down`: stop listening (connections refused); leaving `down` listens again on the same port.

With a `secreto` it checks the `X-Alpes-Firma` of every delivery like a real component would
(`alpespartners.firmas`: `t=<unix seconds>,sha256=<hex>` over `"<t>.<body>"`, five minutes
of tolerance): a missing or bad signature is a 401, counted in `firmas_invalidas`.

After accepting a Pago it can call the app back (`callback_base`) at
`POST {callback_base}/api/v1/pagos/{id}/confirmacion/` with `{"pago_id", "estado": "pagado",
"monto", "moneda"}` (the amount and currency it accepted) signed the same way under `secreto`,
from a background thread, retrying a few times if the app does not answer 2xx (a 409 while the
app has not yet recorded the delivery included).
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from alpespartners import firmas

logger = logging.getLogger(__name__)

MODOS = ("ok", "fail", "hang", "down")


class _Servidor(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    simulador: SimuladorPagos


class _Manejador(BaseHTTPRequestHandler):
    server: _Servidor
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("simulador_pagos: " + format, *args)

    def do_POST(self) -> None:
        largo = int(self.headers.get("Content-Length") or 0)
        cuerpo = self.rfile.read(largo) if largo else b""
        estado, respuesta = self.server.simulador._atender(
            self.headers.get("Idempotency-Key") or "", cuerpo, self.headers.get(firmas.CABECERA)
        )
        if estado == 0:  # hung request: drop the connection without an answer
            self.close_connection = True
            return
        datos = json.dumps(respuesta).encode()
        self.send_response(estado)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(datos)))
        self.end_headers()
        self.wfile.write(datos)

    def do_GET(self) -> None:
        datos = json.dumps(self.server.simulador.estadisticas()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(datos)))
        self.end_headers()
        self.wfile.write(datos)


class SimuladorPagos:
    """A threaded HTTP payments component. Use as a context manager or `iniciar()`/`detener()`.

    Counters (read them under no lock; they only grow): `recibidos` (POSTs that reached the
    handler), `aceptados` (key → body of the first acceptance), `cabeceras` (key → its
    signature header), `duplicados`, `conflictos`, `errores_500`, `colgados`,
    `firmas_invalidas`, `callbacks_ok`, `callbacks_fallidos`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        puerto: int = 0,
        modo: str = "ok",
        tasa_fallos: float = 0.0,
        segundos_colgado: float = 30.0,
        callback_base: str = "",
        secreto: str = "",
        semilla: int | None = None,
    ) -> None:
        if modo not in MODOS:
            raise ValueError(f"modo must be one of {MODOS}")
        if not 0.0 <= tasa_fallos <= 1.0:
            raise ValueError("tasa_fallos must be between 0 and 1")
        self.host = host
        self.puerto = puerto
        self.tasa_fallos = tasa_fallos
        self.segundos_colgado = segundos_colgado
        self.callback_base = callback_base.rstrip("/")
        self.secreto = secreto
        self._rng = random.Random(semilla)
        self._lock = threading.Lock()
        self._modo = "ok"
        self._soltar_colgados = threading.Event()
        self._servidor: _Servidor | None = None
        self._hilo: threading.Thread | None = None
        self._callbacks: queue.Queue[str | None] = queue.Queue()
        self._hilo_callbacks: threading.Thread | None = None
        self.recibidos = 0
        self.aceptados: dict[str, bytes] = {}
        self.cabeceras: dict[str, dict[str, str]] = {}
        self.firmas_invalidas = 0
        self.duplicados = 0
        self.conflictos = 0
        self.errores_500 = 0
        self.colgados = 0
        self.callbacks_ok = 0
        self.callbacks_fallidos = 0
        self._modo_inicial = modo

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.puerto}/pagos"

    @property
    def modo(self) -> str:
        return self._modo

    def iniciar(self) -> SimuladorPagos:
        self._escuchar()
        if self.callback_base:
            self._hilo_callbacks = threading.Thread(
                target=self._despachar_callbacks, name="simulador-pagos-callbacks", daemon=True
            )
            self._hilo_callbacks.start()
        self.cambiar_modo(self._modo_inicial)
        return self

    def detener(self) -> None:
        self._soltar_colgados.set()
        self._dejar_de_escuchar()
        if self._hilo_callbacks is not None:
            self._callbacks.put(None)
            self._hilo_callbacks.join(timeout=10)
            self._hilo_callbacks = None

    def __enter__(self) -> SimuladorPagos:
        return self.iniciar()

    def __exit__(self, *exc: object) -> None:
        self.detener()

    def _escuchar(self) -> None:
        if self._servidor is not None:
            return
        servidor = _Servidor((self.host, self.puerto), _Manejador)
        servidor.simulador = self
        self.puerto = servidor.server_address[1]
        self._servidor = servidor
        self._hilo = threading.Thread(
            target=servidor.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="simulador-pagos",
            daemon=True,
        )
        self._hilo.start()

    def _dejar_de_escuchar(self) -> None:
        servidor, self._servidor = self._servidor, None
        if servidor is not None:
            servidor.shutdown()
            servidor.server_close()
        if self._hilo is not None:
            self._hilo.join(timeout=5)
            self._hilo = None

    def cambiar_modo(self, modo: str) -> None:
        """Switch to `ok`, `fail`, `hang` or `down` (see the module docstring)."""
        if modo not in MODOS:
            raise ValueError(f"modo must be one of {MODOS}")
        with self._lock:
            self._modo = modo
        if modo == "hang":
            self._soltar_colgados.clear()
        else:
            self._soltar_colgados.set()
        if modo == "down":
            self._dejar_de_escuchar()
        else:
            self._escuchar()

    # --- request handling ----------------------------------------------------------------
    def _atender(
        self, clave: str, cuerpo: bytes, firma: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Decide the answer to one POST. Status 0 means: drop it without answering."""
        with self._lock:
            self.recibidos += 1
            modo = self._modo
        if modo == "hang":
            with self._lock:
                self.colgados += 1
            self._soltar_colgados.wait(self.segundos_colgado)
            return 0, {}
        if not clave:
            return 400, {"detail": "Idempotency-Key header is required."}
        if self.secreto:
            try:
                firmas.verificar(firma, cuerpo, [self.secreto])
            except firmas.FirmaInvalida as exc:
                with self._lock:
                    self.firmas_invalidas += 1
                return 401, {"detail": exc.mensaje, "code": exc.codigo}
        with self._lock:
            previo = self.aceptados.get(clave)
            if previo is not None:
                if previo != cuerpo:
                    self.conflictos += 1
                    return 422, {"detail": "Idempotency-Key reused with a different body."}
                self.duplicados += 1
                return 200, {"pago_id": clave, "estado": "aceptado", "repetido": True}
            if modo == "fail" or (self.tasa_fallos and self._rng.random() < self.tasa_fallos):
                self.errores_500 += 1
                return 500, {"detail": "simulated failure"}
            self.aceptados[clave] = cuerpo
            self.cabeceras[clave] = {firmas.CABECERA: firma or ""}
        if self.callback_base:
            self._callbacks.put(clave)
        return 200, {"pago_id": clave, "estado": "aceptado", "repetido": False}

    # --- confirmation callbacks ----------------------------------------------------------
    def firmar(self, cuerpo: bytes) -> str:
        """The `X-Alpes-Firma` of a callback body, signed now."""
        return firmas.firmar(cuerpo, self.secreto)

    def _cuerpo_callback(self, clave: str) -> bytes:
        """Confirm exactly the amount and currency the Pago was accepted with."""
        try:
            aceptado = json.loads(self.aceptados.get(clave, b"{}"))
        except ValueError:
            aceptado = {}
        datos = {
            "pago_id": clave,
            "estado": "pagado",
            "monto": aceptado.get("monto"),
            "moneda": aceptado.get("moneda"),
        }
        return json.dumps(datos).encode()

    def _despachar_callbacks(self) -> None:
        while True:
            clave = self._callbacks.get()
            if clave is None:
                return
            cuerpo = self._cuerpo_callback(clave)
            url = f"{self.callback_base}/api/v1/pagos/{clave}/confirmacion/"
            for intento in range(6):
                # Signed at each attempt: the timestamp must be fresh.
                cabeceras = {
                    "Content-Type": "application/json",
                    firmas.CABECERA: self.firmar(cuerpo),
                }
                try:
                    r = requests.post(url, data=cuerpo, headers=cabeceras, timeout=10)
                    if 200 <= r.status_code < 300:
                        with self._lock:
                            self.callbacks_ok += 1
                        break
                    logger.warning("callback for %s answered %s", clave, r.status_code)
                except requests.RequestException as exc:
                    logger.warning("callback for %s failed: %s", clave, type(exc).__name__)
                time.sleep(0.2 * 2**intento)
            else:
                with self._lock:
                    self.callbacks_fallidos += 1

    def callbacks_pendientes(self) -> int:
        """Callbacks queued and not yet sent."""
        return self._callbacks.qsize()

    def estadisticas(self) -> dict[str, Any]:
        with self._lock:
            return {
                "modo": self._modo,
                "recibidos": self.recibidos,
                "aceptados": len(self.aceptados),
                "duplicados": self.duplicados,
                "conflictos": self.conflictos,
                "errores_500": self.errores_500,
                "colgados": self.colgados,
                "firmas_invalidas": self.firmas_invalidas,
                "callbacks_ok": self.callbacks_ok,
                "callbacks_fallidos": self.callbacks_fallidos,
            }
