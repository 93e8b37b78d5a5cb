"""Reads of the tracking app, scoped by who is asking (PRODUCT.md §6)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alpespartners.api.access import Alcance
from eventos_medios.models import Evento, Marca, MedioMarketing, Publicacion, Socio


def marcas_visibles(*, alcance: Alcance) -> QuerySet[Marca]:
    """Staff: all. Brand user: its marcas. Partner: marcas it publishes for. Else: none."""
    qs = Marca.objects.all()
    if alcance.es_staff:
        return qs
    filtro = Q(id__in=alcance.marca_ids)
    if alcance.socio_id:
        filtro |= Q(publicaciones__medio__socio_id=alcance.socio_id)
    return qs.filter(filtro).distinct()


def socios_visibles(*, alcance: Alcance) -> QuerySet[Socio]:
    """Staff: all. Brand user: partners publishing for (or associated with) its marcas.
    Partner: itself."""
    qs = Socio.objects.all()
    if alcance.es_staff:
        return qs
    filtro = Q(pk__in=[])
    if alcance.marca_ids:
        filtro |= Q(medios__publicaciones__marca_id__in=alcance.marca_ids)
        filtro |= Q(asociaciones__marca_id__in=alcance.marca_ids)
    if alcance.socio_id:
        filtro |= Q(id=alcance.socio_id)
    return qs.filter(filtro).distinct()


def medios_visibles(*, alcance: Alcance) -> QuerySet[MedioMarketing]:
    qs = MedioMarketing.objects.select_related("socio")
    if alcance.es_staff:
        return qs
    filtro = Q(pk__in=[])
    if alcance.marca_ids:
        filtro |= Q(publicaciones__marca_id__in=alcance.marca_ids)
    if alcance.socio_id:
        filtro |= Q(socio_id=alcance.socio_id)
    return qs.filter(filtro).distinct()


def publicaciones_visibles(*, alcance: Alcance) -> QuerySet[Publicacion]:
    qs = Publicacion.objects.select_related("medio", "medio__socio", "marca")
    if alcance.es_staff:
        return qs
    filtro = Q(pk__in=[])
    if alcance.marca_ids:
        filtro |= Q(marca_id__in=alcance.marca_ids)
    if alcance.socio_id:
        filtro |= Q(medio__socio_id=alcance.socio_id)
    return qs.filter(filtro)


def eventos_visibles(*, alcance: Alcance) -> QuerySet[Evento]:
    """Staff: all. Brand user: its marcas' events. Partner: events credited to it (socio)."""
    qs = Evento.objects.all()
    if alcance.es_staff:
        return qs
    filtro = Q(pk__in=[])
    if alcance.marca_ids:
        filtro |= Q(marca_id__in=alcance.marca_ids)
    if alcance.socio_id:
        filtro |= Q(socio_id=alcance.socio_id)
    return qs.filter(filtro)
