"""One error envelope for the whole API.

    {"detail": "<human sentence>", "code": "<stable code>", "errors": {"<field>": ["<msg>"]}}

`errors` names the offending fields (batch errors are keyed by index under "eventos").
Domain errors raised by services (alpespartners.errors) map to their status codes; a
database that cannot be reached is a 503 with Retry-After, never a 500 or a hang.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from alpespartners.errors import ErrorDominio, ErrorValidacion

RETRY_AFTER_DB_SEGUNDOS = "5"


def _errores_de(detalle: Any) -> Any:
    """Normalise DRF's nested ErrorDetail structures into plain JSON."""
    if isinstance(detalle, dict):
        return {str(k): _errores_de(v) for k, v in detalle.items()}
    if isinstance(detalle, list):
        return [_errores_de(v) for v in detalle]
    return str(detalle)


def respuesta_error(
    estado: int, detalle: str, codigo: str, errores: Any = None, **extra: Any
) -> Response:
    cuerpo: dict[str, Any] = {"detail": detalle, "code": codigo}
    if errores:
        cuerpo["errors"] = errores
    cuerpo.update(extra)
    return Response(cuerpo, status=estado)


def manejar_excepcion(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ErrorValidacion):
        return respuesta_error(exc.status_code, exc.mensaje, exc.codigo, exc.errores, **exc.extra)
    if isinstance(exc, ErrorDominio):
        errores = {exc.campo: [exc.mensaje]} if exc.campo else None
        return respuesta_error(exc.status_code, exc.mensaje, exc.codigo, errores, **exc.extra)
    if isinstance(exc, RequestDataTooBig):
        return respuesta_error(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            "Request body is larger than 1 MB.",
            "request_too_large",
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        resp = respuesta_error(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "The database is temporarily unavailable; retry later.",
            "service_unavailable",
        )
        resp["Retry-After"] = RETRY_AFTER_DB_SEGUNDOS
        return resp
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    respuesta = exception_handler(exc, context)
    if respuesta is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errores_drf: Any = (
            exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        )
        respuesta.data = {
            "detail": "Invalid input.",
            "code": "invalid",
            "errors": _errores_de(errores_drf),
        }
    elif isinstance(exc, exceptions.APIException):
        codigos = exc.get_codes()
        respuesta.data = {
            "detail": str(exc.detail)
            if not isinstance(exc.detail, (dict, list))
            else _errores_de(exc.detail),
            "code": codigos if isinstance(codigos, str) else "error",
        }
        espera = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and espera is not None:
            # DRF already rounded `wait` up to whole seconds for the message
            # ("Expected available in N seconds"): the header says the same N.
            respuesta["Retry-After"] = str(math.ceil(espera))
    return respuesta
