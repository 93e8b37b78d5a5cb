"""The partner's API key: its visible prefix and date; issuing a new one shows it once (only its
hash is stored) and the previous key stops working at once (`token_emitir`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from comision_recompensa.portal.acceso import pagina, solo_socios
from eventos_medios.models import TokenApi
from eventos_medios.services.tokens import token_emitir


@solo_socios
@require_http_methods(["GET", "POST"])
def token(request: HttpRequest) -> HttpResponse:
    clave = None
    if request.method == "POST":
        clave = token_emitir(usuario=request.user, por=request.user)
    actual = (
        TokenApi.objects.filter(usuario_id=request.user.pk).only("prefijo", "creado_en").first()
    )
    respuesta = pagina(request, "portal/token.html", {"token": actual, "clave_nueva": clave})
    add_never_cache_headers(respuesta)  # the new key is on this page: never keep it in a cache
    return respuesta
