"""Filters of `GET /api/v1/eventos/`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento


class MomentoUTCField(forms.Field):
    """`YYYY-MM-DD` or an ISO 8601 datetime, converted to UTC.

    A bare date is the start of that day (UTC), or its last instant when `fin_del_dia`, so
    `hasta=2026-11-27` includes the whole 27th, the same rule as the comisiones/recompensas
    filters and the reports. A naive datetime is read as UTC.
    """

    def __init__(self, *args: Any, fin_del_dia: bool = False, **kwargs: Any) -> None:
        self.fin_del_dia = fin_del_dia
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        texto = str(value).strip()
        try:
            # A bare date first: parse_datetime would read "2026-11-27" as midnight.
            fecha = parse_date(texto)
            momento = None if fecha else parse_datetime(texto)
        except ValueError:
            fecha = momento = None
        if fecha is not None:
            hora = dt.time.max if self.fin_del_dia else dt.time.min
            momento = dt.datetime.combine(fecha, hora, tzinfo=dt.UTC)
        if momento is None:
            raise forms.ValidationError("Use YYYY-MM-DD or an ISO 8601 datetime.")
        if timezone.is_naive(momento):
            momento = timezone.make_aware(momento, dt.UTC)
        try:
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
            return momento.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Date-time out of range.") from None


class FinMomentoUTCField(MomentoUTCField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, fin_del_dia=True, **kwargs)


class MomentoUTCFilter(django_filters.Filter):
    field_class = MomentoUTCField


class FinMomentoUTCFilter(django_filters.Filter):
    field_class = FinMomentoUTCField


class EventoFiltro(django_filters.FilterSet):
    tipo = django_filters.ChoiceFilter(choices=TipoEvento.choices)
    marca = django_filters.UUIDFilter(field_name="marca_id")
    socio = django_filters.UUIDFilter(field_name="socio_id")
    publicacion = django_filters.UUIDFilter(field_name="publicacion_id")
    estado_atribucion = django_filters.ChoiceFilter(choices=EstadoAtribucion.choices)
    desde = MomentoUTCFilter(
        field_name="ocurrido_en",
        lookup_expr="gte",
        label="ocurrido_en ≥ (YYYY-MM-DD or ISO 8601 datetime)",
    )
    hasta = FinMomentoUTCFilter(
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
