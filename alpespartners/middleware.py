"""Middleware for what happens outside DRF views (tracking link, admin, legacy endpoints), and
the two response rules that hold for every page: API paths answer errors in JSON, and HTML
pages carry a Content-Security-Policy."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from alpespartners.api.exceptions import RETRY_AFTER_DB_SEGUNDOS

logger = logging.getLogger(__name__)


class ServicioNoDisponibleMiddleware:
    """Database unreachable → 503 + Retry-After; body over the cap → 413. Never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.warning("database unavailable: %s", type(exception).__name__)
            resp = JsonResponse(
                {
                    "detail": "The database is temporarily unavailable; retry later.",
                    "code": "service_unavailable",
                },
                status=503,
            )
            resp["Retry-After"] = RETRY_AFTER_DB_SEGUNDOS
            return resp
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(
                {"detail": "Request body is larger than 1 MB.", "code": "request_too_large"},
                status=413,
            )
        return None


# Paths whose clients expect JSON, and the error body each family uses.
_PREFIJOS_API = ("/api/",)
_PREFIJOS_LEGADO = ("/medios_marketing/", "/eventos/", "/prueba/")
_MENSAJES = {
    400: ("Bad request.", "bad_request"),
    403: ("You do not have permission to perform this action.", "permission_denied"),
    404: ("Not found.", "not_found"),
    405: ("Method not allowed.", "method_not_allowed"),
    500: ("Internal server error.", "server_error"),
}


def error_json_para(request: HttpRequest, estado: int) -> JsonResponse | None:
    """The JSON error an API (or legacy) path answers with `estado`, or None for other paths
    (which keep Django's HTML pages)."""
    ruta = request.path_info
    detalle, codigo = _MENSAJES.get(estado, ("Error.", "error"))
    if ruta.startswith(_PREFIJOS_API):
        return JsonResponse({"detail": detalle, "code": codigo}, status=estado)
    if ruta.startswith(_PREFIJOS_LEGADO):
        return JsonResponse({"error": detalle}, status=estado)
    return None


class ErroresJsonApiMiddleware:
    """An API path never answers an HTML page: Django's own error pages (an unknown URL, a
    malformed id that no route matches, a 500 outside DRF) become the API's JSON envelope, in
    DEBUG too (its technical pages are HTML)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        respuesta = self.get_response(request)
        if respuesta.status_code >= 400 and respuesta.get("Content-Type", "").startswith(
            "text/html"
        ):
            return error_json_para(request, respuesta.status_code) or respuesta
        return respuesta


class PoliticaContenidoMiddleware:
    """`Content-Security-Policy` (settings.POLITICA_CONTENIDO) on every HTML response: the
    admin, the dashboard, the browsable API and the API docs (PRODUCT.md §8). JSON, CSV and
    redirects need none, so the hot paths do not carry it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.politica = settings.POLITICA_CONTENIDO

    def __call__(self, request: HttpRequest) -> HttpResponse:
        respuesta = self.get_response(request)
        if "Content-Security-Policy" not in respuesta and respuesta.get(
            "Content-Type", ""
        ).startswith("text/html"):
            respuesta["Content-Security-Policy"] = self.politica
        return respuesta
