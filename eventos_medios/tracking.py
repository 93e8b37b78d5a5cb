"""The tracking link view, `GET|HEAD /t/<codigo>` (PRODUCT.md §2).

A plain Django view on purpose: no DRF machinery, no session or auth lookups on the hot path.
It only ever redirects to the publicacion's stored `url_destino`: nothing in the request can
change the target.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from alpespartners.api.ratelimit import limite_tracking
from eventos_medios.services.tracking import PARAMETRO_VISITANTE, click_registrar, subs_limpiar


def ip_cliente(request: HttpRequest) -> str:
    """The client's IP. `REMOTE_ADDR` unless `NUM_PROXIES` (setting, default 0) trusted reverse
    proxies append to `X-Forwarded-For`, in which case the address they saw is used."""
    proxies = int(getattr(settings, "NUM_PROXIES", 0) or 0)
    if proxies > 0:
        reenviado = request.META.get("HTTP_X_FORWARDED_FOR", "")
        direcciones = [d.strip() for d in reenviado.split(",") if d.strip()]
        if direcciones:
            return direcciones[-min(proxies, len(direcciones))]
    return str(request.META.get("REMOTE_ADDR") or "")


_METODOS_PERMITIDOS = "GET, HEAD"


# Exempt from CSRF: a cross-site POST must get the JSON 405 below, not Django's HTML 403 page
# (the view never changes state for anything but GET/HEAD, so CSRF protects nothing here).
@csrf_exempt
def enlace_tracking(request: HttpRequest, codigo: str) -> HttpResponse:
    """Record the click and answer 302 to the stored url_destino with `apc_click=<id>`.

    Any method other than GET/HEAD is a JSON 405 with `Allow: GET, HEAD`.
    """
    if request.method not in ("GET", "HEAD"):
        no_permitido = JsonResponse(
            {
                "detail": f"Method {request.method} not allowed; use GET or HEAD.",
                "code": "method_not_allowed",
            },
            status=405,
        )
        no_permitido["Allow"] = _METODOS_PERMITIDOS
        return no_permitido
    resultado = click_registrar(
        codigo=codigo,
        ip=ip_cliente(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        es_head=request.method == "HEAD",
        visitante_id=request.GET.get(PARAMETRO_VISITANTE, ""),
        limite=limite_tracking(),
        subs=subs_limpiar(request.GET),
    )
    if resultado.espera is not None:
        limitado = JsonResponse(
            {"detail": "Too many requests; retry later.", "code": "throttled"}, status=429
        )
        limitado["Retry-After"] = str(resultado.espera)
        return limitado
    if resultado.click is None:
        return JsonResponse({"detail": "Unknown tracking link.", "code": "not_found"}, status=404)
    resp = HttpResponseRedirect(resultado.click.url_redireccion)
    resp["Cache-Control"] = "no-store"
    return resp
