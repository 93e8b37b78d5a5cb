"""Query filters of the agreements API (they narrow an already scoped queryset)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from comision_recompensa.models import AsociacionEstrategica, TipoAsociacion


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
