"""The webhook event types of PRODUCT.md §10 and the validation of a subscription list."""

from __future__ import annotations

from typing import Any

from alpespartners.errors import ErrorDominio

TIPOS: tuple[str, ...] = (
    "comision.creada",
    "comision.aprobada",
    "comision.revertida",
    "recompensa.creada",
    "recompensa.aprobada",
    "recompensa.revertida",
    "credito.en_revision",
    "credito.revision_descartada",
    "credito.reembolsado",
    "pago.retenido",
    "pago.liberado",
    "pago.enviado",
    "pago.pagado",
    "pago.fallido",
    "contrato.aceptado",
)
TODOS = "*"
"""Subscribes to every type, present and future (receivers must ignore types they do not
know)."""
PING = "ping"
"""The test delivery (`POST /api/v1/webhooks/{id}/probar/`): always sent, never subscribed."""
MAX_EVENTOS = len(TIPOS)


def eventos_validar(valor: Any, *, campo: str = "eventos") -> list[str]:
    """A subscription list: a non-empty JSON list of known types (or exactly `["*"]`), without
    repeats. Returns it in the canonical order; raises `ErrorDominio` naming `campo`."""
    if not isinstance(valor, list) or not valor:
        raise ErrorDominio(
            f'A non-empty list of event types, or ["*"] for all: {", ".join(TIPOS)}.',
            campo=campo,
        )
    if len(valor) > MAX_EVENTOS + 1 or not all(isinstance(v, str) for v in valor):
        raise ErrorDominio("A list of event type names (strings).", campo=campo)
    if TODOS in valor:
        if len(set(valor)) != 1:
            raise ErrorDominio('"*" subscribes to everything: give it alone.', campo=campo)
        return [TODOS]
    desconocidos = sorted({v for v in valor if v not in TIPOS})
    if desconocidos:
        raise ErrorDominio(
            f"Unknown event types: {', '.join(d[:40] for d in desconocidos[:5])}. "
            f"Known: {', '.join(TIPOS)}.",
            campo=campo,
        )
    elegidos = set(valor)
    return [t for t in TIPOS if t in elegidos]


def suscrito(eventos: list[str], tipo: str) -> bool:
    """Whether a subscription list receives `tipo`."""
    return tipo in eventos or TODOS in eventos
