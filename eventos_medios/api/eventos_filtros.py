"""Filters of `GET /api/v1/eventos/`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento


class IsoDateTimeUTCField(IsoDateTimeField):
    """ISO 8601 converted to UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""

    def to_python(self, value: Any) -> dt.datetime | None:
        momento = super().to_python(value)
        if momento is None:
            return None
        try:
            return momento.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Date-time out of range.") from None


class IsoDateTimeUTCFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoDateTimeUTCField


class EventoFiltro(django_filters.FilterSet):
    tipo = django_filters.ChoiceFilter(choices=TipoEvento.choices)
    marca = django_filters.UUIDFilter(field_name="marca_id")
    socio = django_filters.UUIDFilter(field_name="socio_id")
    publicacion = django_filters.UUIDFilter(field_name="publicacion_id")
    estado_atribucion = django_filters.ChoiceFilter(choices=EstadoAtribucion.choices)
    desde = IsoDateTimeUTCFilter(
        field_name="ocurrido_en", lookup_expr="gte", label="ocurrido_en ≥ (ISO 8601)"
    )
    hasta = IsoDateTimeUTCFilter(
        field_name="ocurrido_en", lookup_expr="lte", label="ocurrido_en ≤ (ISO 8601)"
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
