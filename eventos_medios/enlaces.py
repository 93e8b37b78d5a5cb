"""Absolute links handed out to partners (PRODUCT.md §2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings

RUTA_TRACKING = "/t/{codigo}"


def ruta_tracking(publicacion_codigo: str) -> str:
    """The path of a publicacion's tracking link (`/t/<codigo>`)."""
    return RUTA_TRACKING.format(codigo=quote(publicacion_codigo, safe=""))


def enlace_tracking(publicacion_codigo: str, request: Any = None) -> str:
    """The absolute URL of the tracking link of the publicacion with `publicacion_codigo`.

    Built from `settings.PUBLIC_BASE_URL` when it is set (what a deployment behind a proxy or
    on a short domain wants), else from `request` (`build_absolute_uri`). With neither, the
    bare path is returned: there is nothing to make it absolute with.
    """
    ruta = ruta_tracking(publicacion_codigo)
    base = (getattr(settings, "PUBLIC_BASE_URL", "") or "").rstrip("/")
    if base:
        return base + ruta
    if request is not None:
        return str(request.build_absolute_uri(ruta))
    return ruta
