"""Query filters of the attribution API. They narrow an already scoped queryset, so filtering by
another partner or brand simply returns nothing."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from alpespartners.api.filtros import FinMomentoFilter, MomentoFilter
from comision_recompensa.models import AsociacionEstrategica, EstadoCredito, TipoAsociacion


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
