"""The seed prototype's test endpoints for commissions and rewards (PRODUCT.md §7).

Same conventions as the other seed endpoints (see ``eventos_medios.legacy.views``): ``202 {}``
on success, ``{"error": "..."}`` otherwise, open in the embedded mode (DEBUG on, no
DATABASE_URL), staff only anywhere else.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from comision_recompensa.legacy.services import (
    comision_legado_registrar,
    recompensa_legado_registrar,
)
from eventos_medios.legacy.views import VistaLegada, aceptado

__all__ = ["ComisionComando", "RecompensaComando"]


class ComisionComando(VistaLegada):
    """POST /prueba/comision-comando — a Comision for the event's partner (id kept)."""

    def post(self, request: Request) -> Response:
        comision_legado_registrar(datos=self.cuerpo(request))
        return aceptado()


class RecompensaComando(VistaLegada):
    """POST /prueba/recompensa-comando — a Recompensa for the event's partner (id kept)."""

    def post(self, request: Request) -> Response:
        recompensa_legado_registrar(datos=self.cuerpo(request))
        return aceptado()
