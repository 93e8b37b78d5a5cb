"""API of agreements and their payment rules (PRODUCT.md §1, §6).

Thin views: parse the input, call one service or selector, serialize the output. Staff write;
brand users read their marcas' agreements; partners read their own (a row outside the caller's
scope is a 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from alpespartners.alcance import alcance_de
from alpespartners.api.permissions import StaffEscribeResto_Lee
from alpespartners.api.validacion import validar
from comision_recompensa.asociaciones import serializers as s
from comision_recompensa.asociaciones.filtros import AsociacionFiltro
from comision_recompensa.asociaciones.selectors import asociaciones_visibles
from comision_recompensa.asociaciones.services import asociacion_actualizar, asociacion_crear
from comision_recompensa.models import AsociacionEstrategica


@extend_schema_view(
    list=extend_schema(summary="List agreements you may see (filterable)"),
    retrieve=extend_schema(summary="One agreement with its payment rules"),
)
class AsociacionViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet[Any]
):
    """Brand–partner agreements with their payment rules. Staff write; brand users read their
    marcas' agreements; partners read their own."""

    permission_classes = [StaffEscribeResto_Lee]
    filterset_class = AsociacionFiltro
    serializer_class = s.AsociacionSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[AsociacionEstrategica]:
        return asociaciones_visibles(alcance=alcance_de(self.request.user))

    @extend_schema(
        summary="Create an agreement with its payment rules (staff)",
        request=s.AsociacionEntradaSerializer,
        responses={201: s.AsociacionSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        datos = validar(s.AsociacionEntradaSerializer(data=request.data))
        asociacion = asociacion_crear(**datos)
        return Response(
            s.AsociacionSerializer(self._recargar(asociacion)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Replace an agreement's terms and rules (staff)",
        request=s.AsociacionActualizarSerializer,
        responses=s.AsociacionSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asociacion = self.get_object()
        parcial = bool(kwargs.get("partial", False))
        datos = validar(s.AsociacionActualizarSerializer(data=request.data, partial=parcial))
        asociacion = asociacion_actualizar(asociacion=asociacion, **datos)
        return Response(s.AsociacionSerializer(self._recargar(asociacion)).data)

    @extend_schema(
        summary="Change some of an agreement's terms or rules (staff)",
        request=s.AsociacionActualizarSerializer,
        responses=s.AsociacionSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def _recargar(self, asociacion: AsociacionEstrategica) -> AsociacionEstrategica:
        return self.get_queryset().get(pk=asociacion.pk)
