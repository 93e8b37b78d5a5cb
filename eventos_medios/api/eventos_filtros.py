"""Filters of `GET /api/v1/eventos/`."""

from __future__ import annotations

import django_filters

from alpespartners.api.filtros import FinMomentoFilter, MomentoFilter
from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento


class EventoFiltro(django_filters.FilterSet):
    tipo = django_filters.ChoiceFilter(choices=TipoEvento.choices)
    marca = django_filters.UUIDFilter(field_name="marca_id")
    socio = django_filters.UUIDFilter(field_name="socio_id")
    publicacion = django_filters.UUIDFilter(field_name="publicacion_id")
    estado_atribucion = django_filters.ChoiceFilter(choices=EstadoAtribucion.choices)
    desde = MomentoFilter(
        field_name="ocurrido_en",
        lookup_expr="gte",
        label="ocurrido_en ≥ (YYYY-MM-DD or ISO 8601 datetime)",
    )
    hasta = FinMomentoFilter(
        field_name="ocurrido_en",
        lookup_expr="lte",
        label="ocurrido_en ≤ (YYYY-MM-DD includes that whole day, or ISO 8601 datetime)",
    )
    visitante_id = django_filters.CharFilter(field_name="visitante_id", max_length=128)

    class Meta:
        model = Evento
        fields = (
            "tipo",
            "marca",
            "socio",
            "publicacion",
            "estado_atribucion",
            "desde",
            "hasta",
            "visitante_id",
        )
