"""Query filters of the attribution API. They narrow an already scoped queryset, so filtering by
another partner or brand simply returns nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import rest_framework as filters

from comision_recompensa.models import AsociacionEstrategica, EstadoCredito, TipoAsociacion


class MomentoField(forms.Field):
    """`YYYY-MM-DD` or an ISO 8601 datetime. A bare date means the start of that day (UTC), or
    its end when `fin_del_dia` (so `hasta=2026-01-31` includes the whole 31st)."""

    def __init__(self, *args: Any, fin_del_dia: bool = False, **kwargs: Any) -> None:
        self.fin_del_dia = fin_del_dia
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        texto = str(value).strip()
        try:
            # A bare date first: parse_datetime would read "2026-03-10" as midnight.
            fecha = parse_date(texto)
            momento = None if fecha else parse_datetime(texto)
        except ValueError:
            momento = fecha = None
        if momento is None and fecha is None:
            raise forms.ValidationError("Use YYYY-MM-DD or an ISO 8601 datetime.")
        if momento is None:
            assert fecha is not None
            hora = dt.time.max if self.fin_del_dia else dt.time.min
            momento = dt.datetime.combine(fecha, hora, tzinfo=dt.UTC)
        if timezone.is_naive(momento):
            momento = timezone.make_aware(momento, dt.UTC)
        try:
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
            return momento.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Date-time out of range.") from None


class MomentoFilter(filters.Filter):
    field_class = MomentoField


class FinMomentoField(MomentoField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, fin_del_dia=True, **kwargs)


class FinMomentoFilter(filters.Filter):
    field_class = FinMomentoField


class CreditoFiltro(filters.FilterSet):
    """Filters shared by comisiones and recompensas; desde/hasta bound the event's ocurrido_en
    (inclusive)."""

    socio = filters.UUIDFilter(field_name="socio_id")
    marca = filters.UUIDFilter(field_name="evento__marca_id")
    estado = filters.ChoiceFilter(choices=EstadoCredito.choices)
    evento = filters.UUIDFilter(field_name="evento_id")
    desde = MomentoFilter(field_name="evento__ocurrido_en", lookup_expr="gte")
    hasta = FinMomentoFilter(field_name="evento__ocurrido_en", lookup_expr="lte")


class AsociacionFiltro(filters.FilterSet):
    marca = filters.UUIDFilter(field_name="marca_id")
    socio = filters.UUIDFilter(field_name="socio_id")
    tipo = filters.ChoiceFilter(choices=TipoAsociacion.choices)
    vigente_en = filters.DateFilter(method="filtrar_vigente_en", label="Active on this date")

    class Meta:
        model = AsociacionEstrategica
        fields = ["marca", "socio", "tipo"]

    def filtrar_vigente_en(
        self, queryset: QuerySet[AsociacionEstrategica], name: str, value: dt.date
    ) -> QuerySet[AsociacionEstrategica]:
        return queryset.filter(vigencia_inicio__lte=value).filter(
            Q(vigencia_fin__isnull=True) | Q(vigencia_fin__gte=value)
        )
