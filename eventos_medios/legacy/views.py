"""The seed prototype's endpoints (PRODUCT.md §7), kept working on top of this model.

Success is ``202 {}`` as in the seed; any error is ``{"error": "<sentence>"}`` with its status
(400 bad input, 404 unknown id, 409 same id with another body, 401/403 access). In the
embedded mode (``DEBUG`` on and no ``DATABASE_URL``) they are open (no authentication, no
CSRF), like the prototype; anywhere else — any server with a real database, or ``DEBUG`` off —
they follow the normal access rules: token/session authentication, commands for staff only,
and queries scoped to what the caller may see (PRODUCT.md §8).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.alcance import Alcance, alcance_de
from alpespartners.api.permissions import EsStaff
from alpespartners.errors import ErrorDominio
from eventos_medios.legacy.services import (
    evento_legado_registrar,
    medio_legado_registrar,
    publicacion_legado_registrar,
)
from eventos_medios.models import TipoEvento
from eventos_medios.selectors import eventos_visibles
from eventos_medios.services.ingesta import ALCANCE_INTERNO

LIMITE_LISTA_POR_DEFECTO = 100
LIMITE_LISTA_MAXIMO = 1000


def abierto() -> bool:
    """Legacy endpoints are open only in the embedded mode: DEBUG on and no DATABASE_URL."""
    return bool(settings.DEBUG) and bool(getattr(settings, "EMBEBIDO", False))


class VistaLegada(APIView):
    """Base view: open in the embedded mode, normal rules otherwise; errors as ``{"error"}``."""

    schema = None  # kept out of the OpenAPI document: the v1 API is the documented one
    # Commands (POST) need staff when DEBUG is off; queries only an authenticated user.
    permiso_escritura: type[BasePermission] = EsStaff

    def get_authenticators(self) -> list[BaseAuthentication]:
        # Evaluated before `request.user` is read: no authentication (so no CSRF) when open.
        return [] if abierto() else super().get_authenticators()

    def get_permissions(self) -> list[BasePermission]:
        if abierto():
            return [AllowAny()]
        if self.request.method == "POST":
            return [IsAuthenticated(), self.permiso_escritura()]
        return [IsAuthenticated()]

    def alcance(self, request: Request) -> Alcance:
        return ALCANCE_INTERNO if abierto() else alcance_de(request.user)

    def cuerpo(self, request: Request) -> dict[str, Any]:
        datos = request.data
        if not isinstance(datos, dict):
            raise ErrorDominio("The body must be a JSON object.")
        return dict(datos)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ErrorDominio):
            return Response({"error": exc.mensaje}, status=exc.status_code)
        if isinstance(exc, RequestDataTooBig):
            return Response(
                {"error": "Request body is larger than 1 MB."},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        if isinstance(exc, Http404):
            return Response({"error": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        if isinstance(exc, (OperationalError, InterfaceError)):
            # Same policy as the API: an unreachable database is a 503, never a 500.
            resp = Response(
                {"error": "The database is temporarily unavailable; retry later."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
            resp["Retry-After"] = "5"
            return resp
        if isinstance(exc, exceptions.APIException):
            respuesta = super().handle_exception(exc)
            detalle = exc.detail
            if isinstance(detalle, dict):
                texto = "; ".join(f"{k}: {v}" for k, v in detalle.items())
            elif isinstance(detalle, list):
                texto = " ".join(str(d) for d in detalle)
            else:
                texto = str(detalle)
            respuesta.data = {"error": texto}
            return respuesta
        return super().handle_exception(exc)


def aceptado() -> Response:
    """The seed's success answer: ``202 {}``."""
    return Response({}, status=status.HTTP_202_ACCEPTED)


class MedioComando(VistaLegada):
    """POST /medios_marketing/medio-comando — create a medio de marketing (id kept)."""

    def post(self, request: Request) -> Response:
        medio_legado_registrar(datos=self.cuerpo(request))
        return aceptado()


class PublicacionComando(VistaLegada):
    """POST /medios_marketing/publicacion-comando — create a publicación (id kept)."""

    def post(self, request: Request) -> Response:
        publicacion_legado_registrar(datos=self.cuerpo(request))
        return aceptado()


class EventoComando(VistaLegada):
    """POST /eventos/evento-comando — register a Lead or InteraccionPublicacion (id kept)."""

    def post(self, request: Request) -> Response:
        evento_legado_registrar(datos=self.cuerpo(request))
        return aceptado()


# v1 tipo → the prototype's name, for the query representation.
_TIPO_LEGADO = {TipoEvento.LEAD: "Lead", TipoEvento.INTERACCION: "InteraccionPublicacion"}
_CAMPOS_QUERY = (
    "id",
    "tipo",
    "ocurrido_en",
    "recibido_en",
    "publicacion_id",
    "marca_id",
    "socio_id",
    "estado_atribucion",
)


def _legado(fila: dict[str, Any]) -> dict[str, Any]:
    def txt(valor: Any) -> str | None:
        return None if valor is None else str(valor)

    return {
        "id": str(fila["id"]),
        "tipo_evento": _TIPO_LEGADO.get(fila["tipo"], fila["tipo"]),
        "id_publicacion": txt(fila["publicacion_id"]),
        "id_marca": txt(fila["marca_id"]),
        "id_socio": txt(fila["socio_id"]),
        "fecha_creacion": fila["ocurrido_en"].isoformat().replace("+00:00", "Z"),
        "fecha_actualizacion": fila["recibido_en"].isoformat().replace("+00:00", "Z"),
        "estado_atribucion": fila["estado_atribucion"],
    }


class EventoQuery(VistaLegada):
    """GET /eventos/evento-query — the newest events (``?limite=``, default 100, max 1000)."""

    def get(self, request: Request) -> Response:
        bruto = request.query_params.get("limite", str(LIMITE_LISTA_POR_DEFECTO))
        try:
            limite = int(bruto)
        except ValueError:
            raise ErrorDominio("limite must be an integer.", campo="limite") from None
        if not 1 <= limite <= LIMITE_LISTA_MAXIMO:
            raise ErrorDominio(f"limite must be between 1 and {LIMITE_LISTA_MAXIMO}.")
        filas = eventos_visibles(alcance=self.alcance(request)).order_by("-ocurrido_en", "-id")
        return Response([_legado(f) for f in filas.values(*_CAMPOS_QUERY)[:limite]])


class EventoQueryDetalle(VistaLegada):
    """GET /eventos/evento-query/<id> — one event, 404 ``{"error"}`` when unknown."""

    def get(self, request: Request, evento_id: str) -> Response:
        try:
            pk = uuid.UUID(evento_id)
        except ValueError:
            raise ErrorDominio("The id must be a UUID.", campo="id") from None
        fila = eventos_visibles(alcance=self.alcance(request)).filter(pk=pk)
        datos = fila.values(*_CAMPOS_QUERY).first()
        if datos is None:
            return Response({"error": f"Unknown evento {pk}."}, status=status.HTTP_404_NOT_FOUND)
        return Response(_legado(datos))


__all__ = [
    "EventoComando",
    "EventoQuery",
    "EventoQueryDetalle",
    "MedioComando",
    "PublicacionComando",
    "VistaLegada",
    "abierto",
    "aceptado",
]
