"""Money amounts read from clients, one rule everywhere (PRODUCT.md §8).

An amount is plain ASCII digits with an optional `.` and at most two decimals: `120`, `120.5`,
`120.50`. It may come as a JSON string or as a JSON number of the same shape. Everything else
is refused, never guessed: `1_000` and `١٢٣` (which `Decimal()` accepts), `1e3`, `NaN`,
`Infinity`, `+5`, `-5`, ` 5`, `5.`, `.5`, `1.005`, booleans.

A JSON number keeps its original text when a float would lose it (`alpespartners.api.
json_seguro`: `texto_json`); a plain float from Python code is judged by its shortest repr
(`1000.0` passes, `1e+16` does not). Currencies are checked against
`eventos_medios.models.CODIGOS_MONEDA` (active ISO 4217 codes only) where they are accepted.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

__all__ = ["MONTO_MAXIMO", "DineroInvalido", "dinero_parsear"]

# max_digits=14, decimal_places=2 on every money column.
MONTO_MAXIMO = Decimal("999999999999.99")
_FORMA = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)
_LARGO_MAXIMO = 32
_DOS_DECIMALES = Decimal("0.01")

MENSAJE_FORMA = (
    "Must be plain digits with an optional '.' and at most two decimals (e.g. 120.50), "
    "as a string or a number without exponent."
)


class DineroInvalido(ValueError):
    """The amount breaks the money rules; `str(exc)` says which, for the client."""


def _texto(bruto: Any) -> str | None:
    if isinstance(bruto, bool):
        return None
    texto = getattr(bruto, "texto_json", None)
    if isinstance(texto, str):
        return texto
    if isinstance(bruto, str):
        return bruto
    if isinstance(bruto, float):
        return repr(bruto)
    if isinstance(bruto, (int, Decimal)):
        return str(bruto)
    return None


def dinero_parsear(bruto: Any, *, maximo: Decimal = MONTO_MAXIMO) -> Decimal:
    """The amount as a Decimal with two places; DineroInvalido when it breaks the rules."""
    texto = _texto(bruto)
    if texto is None or len(texto) > _LARGO_MAXIMO or not _FORMA.fullmatch(texto):
        raise DineroInvalido(MENSAJE_FORMA)
    valor = Decimal(texto)
    if valor > maximo:
        raise DineroInvalido(f"Must be at most {maximo}.")
    return valor.quantize(_DOS_DECIMALES)
