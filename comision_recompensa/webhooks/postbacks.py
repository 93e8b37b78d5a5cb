"""Partner postbacks (PRODUCT.md §10): a URL template with macros, expanded per credit.

Macros: `{click_id}` (the partner's credited click), `{evento_id}` (the conversion), `{tipo}`
(its event type: venta, lead, …), `{monto}` and `{moneda}` (the partner's credit), `{valor}`
(the sale's value), `{sub1}` … `{sub5}` (what the tracking link's query carried on that click).
Values are URL-encoded when substituted; an unknown macro, a brace outside a macro, or a macro in
the scheme, host or port is refused when the template is saved, and the template must pass the
same URL checks as a webhook (https, public host).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from comision_recompensa.webhooks import red

MACROS: tuple[str, ...] = (
    "click_id",
    "evento_id",
    "tipo",
    "monto",
    "moneda",
    "valor",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
)
_MACRO = re.compile(r"\{([^{}]*)\}")


def plantilla_validar(plantilla: Any) -> str:
    """Check a postback template; returns it. Raises `red.UrlNoPermitida` with the reason."""
    if not isinstance(plantilla, str) or not plantilla:
        raise red.UrlNoPermitida("A URL template is required.")
    desconocidas = sorted({m for m in _MACRO.findall(plantilla) if m not in MACROS})
    if desconocidas:
        raise red.UrlNoPermitida(
            f"Unknown macros: {', '.join('{' + d[:20] + '}' for d in desconocidas[:5])}. "
            f"Known: {', '.join('{' + m + '}' for m in MACROS)}."
        )
    sin_macros = _MACRO.sub("x", plantilla)
    if "{" in sin_macros or "}" in sin_macros:
        raise red.UrlNoPermitida("Braces are only allowed around a known macro.")
    partes = urlsplit(plantilla)
    if "{" in partes.scheme or "{" in partes.netloc:
        raise red.UrlNoPermitida("Macros may only appear in the path or the query.")
    red.url_validar(sin_macros)
    return plantilla


def plantilla_expandir(plantilla: str, valores: Mapping[str, Any]) -> str:
    """The template with each macro replaced by its URL-encoded value ('' when missing)."""

    def valor(m: re.Match[str]) -> str:
        crudo = valores.get(m.group(1))
        return quote("" if crudo is None else str(crudo), safe="")

    return _MACRO.sub(valor, plantilla)
