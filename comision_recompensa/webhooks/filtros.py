"""Filters of an endpoint's delivery log."""

from __future__ import annotations

from django_filters import rest_framework as filters

from alpespartners.api.filtros import FinMomentoFilter, MomentoFilter
from comision_recompensa.models import EntregaWebhook, EstadoEntrega


class EntregaFiltro(filters.FilterSet):
    """estado, tipo, desde_secuencia/hasta_secuencia, desde/hasta (creation time), inclusive."""

    estado = filters.ChoiceFilter(choices=EstadoEntrega.choices)
    tipo = filters.CharFilter(max_length=40)
    desde_secuencia = filters.NumberFilter(
        field_name="secuencia", lookup_expr="gte", min_value=1, max_value=2**62
    )
    hasta_secuencia = filters.NumberFilter(
        field_name="secuencia", lookup_expr="lte", min_value=1, max_value=2**62
    )
    desde = MomentoFilter(field_name="creado_en", lookup_expr="gte")
    hasta = FinMomentoFilter(field_name="creado_en", lookup_expr="lte")

    class Meta:
        model = EntregaWebhook
        fields = ["estado", "tipo"]
