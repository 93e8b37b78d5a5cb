"""Middleware for what happens outside DRF views (tracking link, admin, legacy endpoints)."""

from __future__ import annotations

import logging
from collections.abc import Callable

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
