"""django-filter FilterSets of the catalogue lists.

Related objects are filtered by id (`UUIDFilter`), not by a model choice: the list is already
scoped to the caller, so another partner's id simply matches nothing, and a malformed id is a
400 naming the parameter. Unknown enum values are a 400 naming the parameter too.
"""

from __future__ import annotations

from typing import Any

import django_filters as filters

from eventos_medios.models import (
    Marca,
    MedioMarketing,
    Plataforma,
    Publicacion,
    Socio,
    TipoPublicacion,
    TipoSocio,
)

__all__ = ["MarcaFiltro", "MedioFiltro", "OrdenEstable", "PublicacionFiltro", "SocioFiltro"]


class OrdenEstable(filters.OrderingFilter):
    """`?ordering=campo` / `-campo`, with the id as tie-breaker so pages never repeat or skip
    rows that share a value."""

    def filter(self, qs: Any, value: Any) -> Any:
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "id")
        return qs


class SocioFiltro(filters.FilterSet):
    tipo = filters.ChoiceFilter(choices=TipoSocio.choices)
    activo = filters.BooleanFilter()
    ordering = OrdenEstable(fields=("nombre", "creado_en"))

    class Meta:
        model = Socio
        fields = ["tipo", "activo"]


class MarcaFiltro(filters.FilterSet):
    activo = filters.BooleanFilter()
    ordering = OrdenEstable(fields=("nombre", "creado_en"))

    class Meta:
        model = Marca
        fields = ["activo"]


class MedioFiltro(filters.FilterSet):
    socio = filters.UUIDFilter(field_name="socio_id", help_text="Id of the owning socio.")
    plataforma = filters.ChoiceFilter(choices=Plataforma.choices)
    activo = filters.BooleanFilter()
    ordering = OrdenEstable(fields=("creado_en", "nombre"))

    class Meta:
        model = MedioMarketing
        fields = ["socio", "plataforma", "activo"]


class PublicacionFiltro(filters.FilterSet):
    marca = filters.UUIDFilter(field_name="marca_id", help_text="Id of the promoted marca.")
    medio = filters.UUIDFilter(field_name="medio_id", help_text="Id of the medio.")
    socio = filters.UUIDFilter(field_name="medio__socio_id", help_text="Id of the medio's socio.")
    tipo = filters.ChoiceFilter(choices=TipoPublicacion.choices)
    codigo = filters.CharFilter(field_name="codigo", help_text="Exact tracking code.")
    ordering = OrdenEstable(fields=("creado_en", "publicada_en"))

    class Meta:
        model = Publicacion
        fields = ["marca", "medio", "socio", "tipo", "codigo"]
