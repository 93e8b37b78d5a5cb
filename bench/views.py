"""B0 baselines: what the framework alone costs, and what one ORM insert per request costs."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento


def constante(request: HttpRequest) -> HttpResponse:
    """The framework ceiling: a bare Django view returning a constant."""
    return HttpResponse(b"ok", content_type="text/plain")


def insertar(request: HttpRequest) -> HttpResponse:
    """One event row through the ORM, then a 302 — the naive tracking link.

    Stored as `sin_atribucion` so that the attribution engine never picks these rows up.
    """
    evento = Evento.objects.create(
        tipo=TipoEvento.CLICK,
        ocurrido_en=timezone.now(),
        user_agent=request.headers.get("User-Agent", "")[:512],
        estado_atribucion=EstadoAtribucion.SIN_ATRIBUCION,
    )
    return HttpResponseRedirect(f"https://tienda.example.com/?apc_click={evento.id}")
