"""The portal's main navigation: one entry per page, in order.

Pages added later (contracts, payout profile, webhooks and postbacks) register their entry with
`registrar_entrada` (e.g. from their module's import in `portal/urls.py`), after the entry they
follow; the base template draws whatever is registered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Entrada:
    """A navigation entry: the URL name it links to, its label, and the URL names of the pages
    that mark it as current (its detail pages)."""

    nombre_url: str
    etiqueta: Any
    tambien: tuple[str, ...] = ()


NAVEGACION: list[Entrada] = [
    Entrada("portal:resumen", _("Statement")),
    Entrada("portal:enlaces", _("Links")),
    Entrada("portal:creditos", _("Commissions and rewards"), ("portal:credito",)),
    Entrada("portal:pagos", _("Payouts"), ("portal:pago",)),
    Entrada("portal:token", _("API key")),
    Entrada("portal:preferencias", _("Settings"), ("portal:clave_cambiar",)),
]


def registrar_entrada(entrada: Entrada, *, despues_de: str | None = None) -> None:
    """Add `entrada` after the entry named `despues_de` (at the end when None or unknown).
    Idempotent."""
    if any(e.nombre_url == entrada.nombre_url for e in NAVEGACION):
        return
    posicion = next(
        (i + 1 for i, e in enumerate(NAVEGACION) if e.nombre_url == despues_de), len(NAVEGACION)
    )
    NAVEGACION.insert(posicion, entrada)


def navegacion_para(request: HttpRequest) -> list[dict[str, Any]]:
    """The entries with their URL and whether the current page is theirs."""
    coincidencia = getattr(request, "resolver_match", None)
    actual = coincidencia.view_name if coincidencia is not None else ""
    return [
        {
            "url": reverse(e.nombre_url),
            "etiqueta": e.etiqueta,
            "actual": actual in (e.nombre_url, *e.tambien),
        }
        for e in NAVEGACION
    ]
