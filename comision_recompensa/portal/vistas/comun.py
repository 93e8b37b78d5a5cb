"""What several portal views share: the client's IP hash, the public forms' rate limit and its
429 page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from alpespartners.api.ratelimit import limite_consumir, parse_limite
from eventos_medios.services.tracking import ip_hash
from eventos_medios.tracking import ip_cliente


def ip_hash_de(request: HttpRequest) -> str:
    """The salted hash of the client's IP (the only form an IP is kept in)."""
    return ip_hash(ip_cliente(request))


def limite_superado(request: HttpRequest, *, ambito: str) -> HttpResponse | None:
    """Count one submission of a public form that sends e-mail against
    `RATE_LIMIT_SOLICITUDES` (per IP hash); the 429 page when over it, else None."""
    espera = limite_consumir(
        ambito=ambito,
        identidad=ip_hash_de(request),
        limite=parse_limite(settings.RATE_LIMIT_SOLICITUDES),
    )
    if espera is None:
        return None
    respuesta = render(
        request, "portal/429.html", {"espera_minutos": max(1, -(-espera // 60))}, status=429
    )
    respuesta["Retry-After"] = str(espera)
    return respuesta
