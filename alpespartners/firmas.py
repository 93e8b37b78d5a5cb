"""Signatures of Alpes Partners' signed HTTP messages (PRODUCT.md §8, §10): one helper for the
webhooks we send, the payouts we deliver and the callbacks we receive.

Header value (Stripe-like): `t=<unix seconds>,sha256=<hex>` where the hex is the HMAC-SHA256,
under the shared secret, of the bytes `"<t>." + <raw body>`. While a secret is being rotated
the sender adds one `sha256=` entry per valid secret (`t=…,sha256=<new>,sha256=<old>`); a
receiver accepts the message when any entry matches any of its secrets and `t` is within the
tolerance of its clock (a captured message cannot be replayed later).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

ESQUEMA = "sha256"


def _hmac(secreto: str, t: int, cuerpo: bytes) -> str:
    return hmac.new(secreto.encode(), f"{t}.".encode() + cuerpo, hashlib.sha256).hexdigest()


def firmar(cuerpo: bytes, secreto: str, t: int | None = None) -> str:
    """The header value signing `cuerpo` with `secreto` at time `t` (now when None)."""
    momento = int(time.time()) if t is None else int(t)
    return f"t={momento},{ESQUEMA}={_hmac(secreto, momento, cuerpo)}"


def _partes(cabecera: str) -> tuple[int | None, list[str]]:
    """(t, [signatures]) of a header value; t None when missing or not an integer."""
    t: int | None = None
    firmas: list[str] = []
    for parte in cabecera.split(","):
        clave, _, valor = parte.strip().partition("=")
        if clave == "t" and valor.isdigit() and len(valor) <= 12:
            t = int(valor)
        elif clave == ESQUEMA and valor:
            firmas.append(valor.strip())
    return t, firmas


def verificar(
    cabecera: str | None,
    cuerpo: bytes,
    secretos: Iterable[str],
    tolerancia_segundos: int = 300,
) -> bool:
    """True when `cabecera` signs `cuerpo` under one of `secretos` with a `t` no further than
    `tolerancia_segundos` from now (either way). Constant-time comparisons; empty secrets are
    ignored, so no configured secret means nothing verifies."""
    if not cabecera:
        return False
    t, firmas = _partes(cabecera)
    if t is None or not firmas or abs(time.time() - t) > tolerancia_segundos:
        return False
    validas = False
    for secreto in secretos:
        if not secreto:
            continue
        esperada = _hmac(secreto, t, cuerpo).encode()
        for firma in firmas:
            validas |= hmac.compare_digest(esperada, firma.encode())
    return validas
