"""Who may use the portal, and the one way its pages are rendered.

`solo_socios` guards every partner page: anonymous → the portal's sign-in page (with `next`);
a signed-in user without a socio, or a staff user, → the 403 page (staff are pointed to the
admin). A partner's pages read through the same selectors and access scope as the API
(`alpespartners.alcance`), with the partner's own scope: `alcance_portal(request)` is the
user's `Alcance` narrowed to its socio (a login also linked to a marca sees, here, only its
partner data), so an id of another partner's object is a 404 like in the API."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from alpespartners.alcance import Alcance, alcance_de
from comision_recompensa.portal.navegacion import navegacion_para
from eventos_medios.models import Socio

_ATRIBUTO = "_alcance_portal"


def alcance_portal(request: HttpRequest) -> Alcance:
    """The partner scope `solo_socios` put on the request."""
    alcance: Alcance = getattr(request, _ATRIBUTO)
    return alcance


def socio_id_de(request: HttpRequest) -> Any:
    socio_id = alcance_portal(request).socio_id
    assert socio_id is not None  # solo_socios lets no other caller through
    return socio_id


def sin_acceso(request: HttpRequest) -> HttpResponse:
    """The 403 page of a signed-in user that is not a partner."""
    alcance = alcance_de(request.user)
    return render(
        request,
        "portal/403.html",
        {"es_staff": alcance.es_staff, "es_marca": alcance.es_marca},
        status=403,
    )


def solo_socios(vista: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Decorator of every partner page (see the module docstring)."""

    @wraps(vista)
    def envuelta(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:entrar"))
        alcance = alcance_de(request.user)
        if alcance.es_staff or alcance.socio_id is None:
            return sin_acceso(request)
        setattr(request, _ATRIBUTO, dataclasses.replace(alcance, marca_ids=frozenset()))
        return vista(request, *args, **kwargs)

    return envuelta


def pagina(
    request: HttpRequest,
    plantilla: str,
    contexto: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """Render a partner page with what the base template needs (navigation, the partner)."""
    alcance = getattr(request, _ATRIBUTO, None)
    socio = None
    if alcance is not None and alcance.socio_id is not None:
        socio = Socio.objects.only("id", "nombre", "activo").filter(pk=alcance.socio_id).first()
    base = {"navegacion": navegacion_para(request) if socio else [], "socio": socio}
    return render(request, plantilla, {**base, **(contexto or {})}, status=status)
