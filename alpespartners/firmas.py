"""The one signing scheme of the project (PRODUCT.md §4, §8, §10): payout deliveries, the
payments component's callbacks and (outbound) webhooks all carry

    X-Alpes-Firma: t=<unix seconds>,sha256=<hex HMAC-SHA256 of "<t>.<raw body>">

The timestamp is part of what is signed, so a captured request cannot be replayed with a fresh
one; the receiver refuses a timestamp more than `TOLERANCIA_SEGUNDOS` away from its clock (in
either direction). Verification accepts several secrets (the current one first, then those
being rotated out) and several `sha256=` entries (a sender in the middle of a rotation may sign
with both); comparisons are constant-time.

Pure functions of bytes and strings: no Django, so any app (and any tool) can import it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence

CABECERA = "X-Alpes-Firma"
TOLERANCIA_SEGUNDOS = 300  # five minutes, each way

_ENTRADA = re.compile(r"^\s*([a-z0-9]+)\s*=\s*([^\s,]+)\s*$", re.ASCII)
_HEX = re.compile(r"^[0-9a-f]{64}$", re.ASCII)
_SEGUNDOS = re.compile(r"^[0-9]{1,12}$", re.ASCII)


class FirmaInvalida(Exception):
    """The header is missing, malformed, does not match, or is outside the time window.

    `codigo` is stable (`firma_ausente`, `firma_malformada`, `firma_invalida`,
    `firma_caducada`, `firma_futura`); the message is safe to show to the caller (it never
    contains a secret or the expected signature)."""

    def __init__(self, mensaje: str, *, codigo: str) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje
        self.codigo = codigo


def _mac(secreto: str, t: int, cuerpo: bytes) -> str:
    return hmac.new(secreto.encode(), f"{t}.".encode() + cuerpo, hashlib.sha256).hexdigest()


def firmar(cuerpo: bytes, secreto: str, t: int | None = None) -> str:
    """The `X-Alpes-Firma` value for `cuerpo` signed now (or at unix second `t`)."""
    if not secreto:
        raise ValueError("a signing secret is required")
    instante = int(time.time()) if t is None else int(t)
    return f"t={instante},sha256={_mac(secreto, instante, cuerpo)}"


def _leer(cabecera: str) -> tuple[int, list[str]]:
    """(t, [hex signatures]) of a header value; FirmaInvalida if it is not in the form."""
    t: int | None = None
    firmas: list[str] = []
    for parte in cabecera.split(","):
        coincidencia = _ENTRADA.match(parte)
        if coincidencia is None:
            raise FirmaInvalida(
                f"{CABECERA} must look like t=<unix seconds>,sha256=<hex>.",
                codigo="firma_malformada",
            )
        clave, valor = coincidencia.groups()
        if clave == "t" and t is None and _SEGUNDOS.match(valor):
            t = int(valor)
        elif clave == "sha256" and _HEX.match(valor.lower()):
            firmas.append(valor.lower())
        elif clave in ("t", "sha256"):
            raise FirmaInvalida(
                f"{CABECERA}: '{clave}' is repeated or not in the expected form.",
                codigo="firma_malformada",
            )
    if t is None or not firmas:
        raise FirmaInvalida(
            f"{CABECERA} must carry t=<unix seconds> and sha256=<hex>.",
            codigo="firma_malformada",
        )
    return t, firmas


def verificar(
    cabecera: str | None,
    cuerpo: bytes,
    secretos: Sequence[str],
    tolerancia: int = TOLERANCIA_SEGUNDOS,
    *,
    ahora: float | None = None,
) -> int:
    """Check `cabecera` against the raw `cuerpo` under any of `secretos` (empty ones are
    ignored). Returns the signed timestamp. Raises `FirmaInvalida` when the header is missing
    or malformed, when no secret is configured or none matches, and when the timestamp is more
    than `tolerancia` seconds in the past or in the future. The signature is checked before
    the clock, so a stale-but-genuine request and a forged one are told apart only for a
    caller that holds the secret."""
    if not cabecera or not cabecera.strip():
        raise FirmaInvalida(f"The {CABECERA} header is required.", codigo="firma_ausente")
    t, firmas = _leer(cabecera)
    validos = [s for s in secretos if s]
    coincide = False
    for secreto in validos:
        esperada = _mac(secreto, t, cuerpo)
        # Every candidate is compared (no early exit on the first match).
        for firma in firmas:
            coincide |= hmac.compare_digest(esperada, firma)
    if not coincide:
        raise FirmaInvalida(f"The {CABECERA} signature does not match.", codigo="firma_invalida")
    reloj = time.time() if ahora is None else ahora
    if t < reloj - tolerancia:
        raise FirmaInvalida(
            f"The {CABECERA} timestamp is more than {tolerancia} seconds old.",
            codigo="firma_caducada",
        )
    if t > reloj + tolerancia:
        raise FirmaInvalida(
            f"The {CABECERA} timestamp is more than {tolerancia} seconds in the future.",
            codigo="firma_futura",
        )
    return t


def firma_valida(
    cabecera: str | None,
    cuerpo: bytes,
    secretos: Sequence[str],
    tolerancia_segundos: int = TOLERANCIA_SEGUNDOS,
) -> bool:
    """`verificar` as a yes/no answer, for receivers that only need to accept or refuse."""
    try:
        verificar(cabecera, cuerpo, secretos, tolerancia_segundos)
    except FirmaInvalida:
        return False
    return True
