"""Query filters of the commissions and rewards API. They narrow an already scoped queryset,
so filtering by another partner or brand simply returns nothing."""

from __future__ import annotations

from django_filters import rest_framework as filters

from alpespartners.api.filtros import FinMomentoFilter, MomentoFilter
from comision_recompensa.models import EstadoCredito


class CreditoFiltro(filters.FilterSet):
    """Filters shared by comisiones and recompensas; desde/hasta bound the event's ocurrido_en
    (inclusive)."""

    socio = filters.UUIDFilter(field_name="socio_id")
    marca = filters.UUIDFilter(field_name="evento__marca_id")
    estado = filters.ChoiceFilter(choices=EstadoCredito.choices)
    evento = filters.UUIDFilter(field_name="evento_id")
    desde = MomentoFilter(field_name="evento__ocurrido_en", lookup_expr="gte")
    hasta = FinMomentoFilter(field_name="evento__ocurrido_en", lookup_expr="lte")
