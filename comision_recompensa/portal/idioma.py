"""The portal's language: Spanish by default, English on request, only under /portal/.

`IdiomaPortalMiddleware` activates, for /portal/ requests only, the language of the cookie the
language switcher sets (`LANGUAGE_COOKIE_NAME`), else `IDIOMA_PORTAL_POR_DEFECTO`; the API and
the admin keep `LANGUAGE_CODE`. It reads no database: a partner's saved preference (used for its
e-mails) is copied into the cookie when it signs in."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

PREFIJO_PORTAL = "/portal/"


def idiomas_portal() -> list[str]:
    return [codigo for codigo, _ in settings.LANGUAGES]


def idioma_de(request: HttpRequest) -> str:
    """The portal language of this request: its cookie's when supported, else the default."""
    elegido = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return elegido if elegido in idiomas_portal() else settings.IDIOMA_PORTAL_POR_DEFECTO


def fijar_cookie_idioma(respuesta: HttpResponse, idioma: str) -> None:
    respuesta.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        idioma,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path="/portal/",
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )


class IdiomaPortalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIJO_PORTAL):
            return self.get_response(request)
        idioma = idioma_de(request)
        translation.activate(idioma)
        request.LANGUAGE_CODE = idioma
        try:
            respuesta = self.get_response(request)
        finally:
            # The next request this thread serves (the API, the admin) is in LANGUAGE_CODE.
            translation.deactivate()
        respuesta.headers.setdefault("Content-Language", idioma)
        patch_vary_headers(respuesta, ("Cookie",))
        return respuesta
