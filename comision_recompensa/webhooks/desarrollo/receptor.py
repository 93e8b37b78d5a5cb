"""A development tool: a webhook receiver that does what docs/API.md asks of a real one —
verify `X-Alpes-Firma` (accepting either signature during a rotation), deduplicate by
`Idempotency-Key` and order by `secuencia` — and counts what it saw. Tests, the benchmark and
manual testing point endpoints at it (with `WEBHOOKS_PERMITIR_PRIVADAS` on: it listens on
loopback over http). It never runs in production.

Modes, switched at runtime (`POST /_control` with `{"modo": …}`, or `cambiar_modo`):
- `ok`: 200 for a valid delivery (a repeated key is answered 200 again and counted as a
  duplicate, not accepted twice); 401 for a bad signature when secrets were given;
- `fail`: 500 to everything;
- `hang`: hold each request without answering until the mode changes or `segundos_colgado`
  elapse, then drop it unprocessed (the sender sees a timeout).

`GET /_estadisticas` returns the counters as JSON (`aceptadas`: key → secuencia). As a process:
`python -m comision_recompensa.webhooks.desarrollo.receptor --puerto N [--secreto S]…`.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alpespartners.firmas import firma_valida

MODOS = ("ok", "fail", "hang")


class _Servidor(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128
    receptor: ReceptorWebhooks


class _Manejador(BaseHTTPRequestHandler):
    server: _Servidor
    protocol_version = "HTTP/1.1"
    # One write per answer and no Nagle: a keep-alive client must not wait on a delayed ACK.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _responder(self, estado: int, datos: dict[str, Any]) -> None:
        cuerpo = json.dumps(datos).encode()
        self.send_response(estado)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(cuerpo)))
        self.end_headers()
        self.wfile.write(cuerpo)

    def _cuerpo(self) -> bytes:
        largo = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(largo) if largo else b""

    def do_POST(self) -> None:
        cuerpo = self._cuerpo()
        receptor = self.server.receptor
        if self.path == "/_control":
            receptor.cambiar_modo(json.loads(cuerpo or b"{}").get("modo", "ok"))
            self._responder(200, {"modo": receptor.modo})
            return
        estado, datos = receptor.atender(dict(self.headers.items()), cuerpo, self.path)
        if estado == 0:
            self.close_connection = True
            return
        self._responder(estado, datos)

    def do_GET(self) -> None:
        receptor = self.server.receptor
        if self.path.startswith("/_estadisticas"):
            self._responder(200, receptor.estadisticas())
            return
        estado, datos = receptor.atender(dict(self.headers.items()), b"", self.path)
        if estado == 0:
            self.close_connection = True
            return
        self._responder(estado, datos)


class ReceptorWebhooks:
    """A threaded HTTP webhook receiver with counters. `iniciar()` / `detener()`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        puerto: int = 0,
        secretos: list[str] | None = None,
        modo: str = "ok",
        segundos_colgado: float = 30.0,
    ) -> None:
        if modo not in MODOS:
            raise ValueError(f"modo must be one of {MODOS}")
        self.host, self.puerto = host, puerto
        self.secretos = list(secretos or [])
        self.segundos_colgado = segundos_colgado
        self._modo = modo
        self._lock = threading.Lock()
        self._soltar = threading.Event()
        self._soltar.set()
        self._servidor: _Servidor | None = None
        self.recibidas = 0
        self.aceptadas: dict[str, int | None] = {}
        self.duplicados = 0
        self.firmas_invalidas = 0
        self.errores_500 = 0
        self.colgadas = 0
        self.peticiones: list[dict[str, Any]] = []  # the last 1,000 requests (tests)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.puerto}/webhooks"

    @property
    def modo(self) -> str:
        return self._modo

    def iniciar(self) -> ReceptorWebhooks:
        servidor = _Servidor((self.host, self.puerto), _Manejador)
        servidor.receptor = self
        self.puerto = servidor.server_address[1]
        self._servidor = servidor
        hilo = threading.Thread(
            target=servidor.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        hilo.start()
        return self

    def detener(self) -> None:
        self._soltar.set()
        if self._servidor is not None:
            self._servidor.shutdown()
            self._servidor.server_close()
            self._servidor = None

    def __enter__(self) -> ReceptorWebhooks:
        return self.iniciar()

    def __exit__(self, *exc: object) -> None:
        self.detener()

    def cambiar_modo(self, modo: str) -> None:
        if modo not in MODOS:
            raise ValueError(f"modo must be one of {MODOS}")
        with self._lock:
            self._modo = modo
        if modo == "hang":
            self._soltar.clear()
        else:
            self._soltar.set()

    def atender(
        self, cabeceras: dict[str, str], cuerpo: bytes, ruta: str
    ) -> tuple[int, dict[str, Any]]:
        """The answer to one delivery; status 0 means drop it without answering."""
        cab = {k.lower(): v for k, v in cabeceras.items()}
        clave = cab.get("idempotency-key", "")
        with self._lock:
            self.recibidas += 1
            modo = self._modo
            self.peticiones = [
                *self.peticiones[-999:],
                {"cabeceras": cab, "cuerpo": cuerpo, "ruta": ruta},
            ]
        if modo == "hang":
            with self._lock:
                self.colgadas += 1
            self._soltar.wait(self.segundos_colgado)
            return 0, {}
        if modo == "fail":
            with self._lock:
                self.errores_500 += 1
            return 500, {"detail": "simulated failure"}
        if (
            self.secretos
            and cuerpo
            and not firma_valida(cab.get("x-alpes-firma"), cuerpo, self.secretos)
        ):
            with self._lock:
                self.firmas_invalidas += 1
            return 401, {"detail": "bad signature"}
        return self._aceptar(clave, cuerpo)

    def _aceptar(self, clave: str, cuerpo: bytes) -> tuple[int, dict[str, Any]]:
        if not clave:
            return 400, {"detail": "Idempotency-Key is required"}
        try:
            secuencia = json.loads(cuerpo).get("secuencia") if cuerpo else None
        except ValueError:
            return 400, {"detail": "not JSON"}
        with self._lock:
            if clave in self.aceptadas:
                self.duplicados += 1
                return 200, {"repetida": True}
            self.aceptadas[clave] = secuencia
        return 200, {"repetida": False}

    def estadisticas(self) -> dict[str, Any]:
        with self._lock:
            return {
                "modo": self._modo,
                "recibidas": self.recibidas,
                "aceptadas": dict(self.aceptadas),
                "duplicados": self.duplicados,
                "firmas_invalidas": self.firmas_invalidas,
                "errores_500": self.errores_500,
                "colgadas": self.colgadas,
            }


def main() -> None:
    parser = argparse.ArgumentParser(description="A development webhook receiver.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--puerto", type=int, required=True)
    parser.add_argument("--secreto", action="append", default=[])
    parser.add_argument("--modo", choices=MODOS, default="ok")
    parser.add_argument("--segundos-colgado", type=float, default=30.0)
    args = parser.parse_args()
    receptor = ReceptorWebhooks(
        host=args.host,
        puerto=args.puerto,
        secretos=args.secreto,
        modo=args.modo,
        segundos_colgado=args.segundos_colgado,
    ).iniciar()
    print(f"webhook receiver listening on {receptor.url} (mode {receptor.modo})", flush=True)
    parar = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: parar.set())
    signal.signal(signal.SIGINT, lambda *_: parar.set())
    parar.wait()
    receptor.detener()


if __name__ == "__main__":
    main()
