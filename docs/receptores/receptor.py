"""A webhook receiver for Alpes Partners, in Python (standard library only).

It does the three things every receiver must do (docs/API.md, "Webhooks"):
1. verify `X-Alpes-Firma` over the raw body, accepting any of its secrets (during a rotation
   the sender signs with both; keep the old secret until its 24 hours are over);
2. deduplicate by `Idempotency-Key`: a retry or a replay carries the same key, process it once;
3. watch `secuencia`: deliveries are independent, so they may arrive out of order and a failing
   one does not hold back the next; a number that has not arrived yet is a gap to fill (wait for
   the retry, or read the delivery log and ask for a replay of the range).

Run: `SECRETOS=whsec_new,whsec_old python receptor.py 8080`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

TOLERANCIA_SEGUNDOS = 300


def firma_valida(cabecera: str | None, cuerpo: bytes, secretos: list[str]) -> bool:
    """`t=<unix>,sha256=<hex>[,sha256=<hex>]`: HMAC-SHA256 of b"<t>." + raw body."""
    pares = [p.strip().split("=", 1) for p in (cabecera or "").split(",") if "=" in p]
    t = next((v for k, v in pares if k == "t"), "")
    firmas = [v for k, v in pares if k == "sha256"]
    if not t.isdigit() or abs(time.time() - int(t)) > TOLERANCIA_SEGUNDOS:
        return False  # missing or stale: a captured request cannot be replayed later
    firmado = t.encode() + b"." + cuerpo
    for secreto in secretos:
        esperada = hmac.new(secreto.encode(), firmado, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(esperada, f) for f in firmas):
            return True
    return False


class Receptor:
    """Keeps the processed keys and the secuencia seen so far (use your database in
    production: record the key in the same transaction as the work it triggers)."""

    def __init__(self, secretos: list[str]) -> None:
        self.secretos = secretos
        self.procesadas: set[str] = set()
        self.maxima = 0  # highest secuencia seen
        self.faltan: set[int] = set()  # gaps: numbers below `maxima` not received yet

    def recibir(self, cabeceras: dict[str, str], cuerpo: bytes) -> int:
        """Handle one delivery; returns the HTTP status to answer."""
        if not firma_valida(cabeceras.get("X-Alpes-Firma"), cuerpo, self.secretos):
            return 401
        clave = cabeceras.get("Idempotency-Key", "")
        if clave in self.procesadas:
            return 200  # a retry or a replay of something already processed
        evento = json.loads(cuerpo)
        self.procesar(evento)
        self.procesadas.add(clave)
        secuencia = int(evento["secuencia"])
        self.faltan.discard(secuencia)
        self.faltan.update(range(self.maxima + 1, secuencia))
        self.maxima = max(self.maxima, secuencia)
        return 200

    def procesar(self, evento: dict) -> None:
        print(evento["secuencia"], evento["tipo"], evento["datos"].get("id"), flush=True)

    def huecos(self) -> list[tuple[int, int]]:
        """Missing numbers as ranges, for `POST /api/v1/webhooks/{id}/reenviar/` with
        `desde_secuencia`/`hasta_secuencia` when they do not arrive on their own."""
        rangos: list[tuple[int, int]] = []
        for n in sorted(self.faltan):
            if rangos and rangos[-1][1] == n - 1:
                rangos[-1] = (rangos[-1][0], n)
            else:
                rangos.append((n, n))
        return rangos


def servir(puerto: int, receptor: Receptor) -> None:
    class Manejador(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            cuerpo = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            estado = receptor.recibir(dict(self.headers.items()), cuerpo)
            self.send_response(estado)
            self.send_header("Content-Length", "0")
            self.end_headers()

    HTTPServer(("", puerto), Manejador).serve_forever()


if __name__ == "__main__":
    servir(int(sys.argv[1]), Receptor(os.environ["SECRETOS"].split(",")))
