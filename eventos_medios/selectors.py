"""Reads of the tracking app, scoped by who is asking (PRODUCT.md §6, `alpespartners.alcance`)."""

from __future__ import annotations

from django.db.models import QuerySet

from alpespartners import alcance as acceso
from alpespartners.alcance import Alcance
from eventos_medios.models import Evento, Marca, MedioMarketing, Publicacion, Socio


def marcas_visibles(*, alcance: Alcance) -> QuerySet[Marca]:
    """Staff: all. Brand user: its marcas. Partner: marcas it publishes for. Else: none."""
    filtro = acceso.q_marcas(alcance)
    qs = Marca.objects.all()
    return qs if filtro is None else qs.filter(filtro).distinct()


def marcas_publicables(*, alcance: Alcance) -> QuerySet[Marca]:
    """The marcas a caller may create publicaciones for: staff, all; a partner, the active
    marcas of its programmes (it publishes for them, or has an agreement with them); anyone
    else, none."""
    if alcance.es_staff:
        return Marca.objects.all()
    if alcance.socio_id is None:
        return Marca.objects.none()
    return Marca.objects.filter(acceso.q_marcas_de_socio(alcance.socio_id), activo=True).distinct()


def socios_visibles(*, alcance: Alcance) -> QuerySet[Socio]:
    """Staff: all. Brand user: the partners of its programmes (publishing for its marcas, or in
    an agreement with them). Partner: itself."""
    filtro = acceso.q_socios(alcance)
    qs = Socio.objects.all()
    return qs if filtro is None else qs.filter(filtro).distinct()


def medios_visibles(*, alcance: Alcance) -> QuerySet[MedioMarketing]:
    filtro = acceso.q_medios(alcance)
    qs = MedioMarketing.objects.select_related("socio")
    return qs if filtro is None else qs.filter(filtro).distinct()


def publicaciones_visibles(*, alcance: Alcance) -> QuerySet[Publicacion]:
    qs = Publicacion.objects.select_related("medio", "medio__socio", "marca")
    return acceso.filtrar(qs, acceso.q_publicaciones(alcance))


def eventos_visibles(*, alcance: Alcance) -> QuerySet[Evento]:
    """Staff: all. Brand user: its marcas' events. Partner: events credited to it (socio)."""
    return acceso.filtrar(Evento.objects.all(), acceso.q_eventos(alcance))
