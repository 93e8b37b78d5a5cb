"""Contracts API (PRODUCT.md §9): read the versions you may see, accept the one in force.

- `GET /api/v1/contratos/` (`?asociacion=`, `?marca=`, `?socio=`): a partner, its own
  agreements' published versions; a brand user, its programmes'; staff, all (drafts too).
- `GET /api/v1/contratos/{id}/`
- `POST /api/v1/contratos/{id}/aceptar/`: the agreement's partner only, with its own token.
  201 with the new acceptance, 200 with the existing one; 409 for a superseded version (naming
  the one in force); 403 for a brand or staff token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alpespartners.alcance import alcance_de
from comision_recompensa.contratos.selectors import (
    aceptaciones_de,
    contratos_vigentes,
    contratos_visibles,
    hoy,
)
from comision_recompensa.contratos.serializers import AceptacionSerializer, ContratoSerializer
from comision_recompensa.contratos.services import contrato_aceptar
from comision_recompensa.models import Contrato
from eventos_medios.services.tracking import ip_hash
from eventos_medios.tracking import ip_cliente


class ContratoFiltro(django_filters.FilterSet):
    asociacion = django_filters.UUIDFilter(field_name="asociacion_id")
    marca = django_filters.UUIDFilter(field_name="asociacion__marca_id")
    socio = django_filters.UUIDFilter(field_name="asociacion__socio_id")

    class Meta:
        model = Contrato
        fields = ["asociacion", "marca", "socio"]


def contexto_contratos(contratos: Sequence[Contrato]) -> dict[str, Any]:
    """What ContratoSerializer needs for a page of versions: the version in force of each
    agreement and each version's acceptance, in two queries."""
    return {
        "hoy": hoy(),
        "vigentes": contratos_vigentes(asociacion_ids={c.asociacion_id for c in contratos}),
        "aceptaciones": aceptaciones_de(contrato_ids=[c.pk for c in contratos]),
    }


@extend_schema_view(
    list=extend_schema(summary="Contract versions you may see", tags=["contratos"]),
    retrieve=extend_schema(summary="One contract version with its text", tags=["contratos"]),
)
class ContratoViewSet(viewsets.ReadOnlyModelViewSet[Contrato]):
    """Versioned terms of agreements. Read-only for everyone; partners accept."""

    serializer_class = ContratoSerializer
    filterset_class = ContratoFiltro

    def get_queryset(self) -> QuerySet[Contrato]:
        return contratos_visibles(alcance=alcance_de(self.request.user)).order_by(
            "asociacion_id", "-version"
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pagina = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        filas = list(pagina or [])
        datos = ContratoSerializer(filas, many=True, context=contexto_contratos(filas)).data
        return self.get_paginated_response(datos)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contrato = self.get_object()
        return Response(ContratoSerializer(contrato, context=contexto_contratos([contrato])).data)

    @extend_schema(
        summary="Accept this contract version (the agreement's partner, with its own token)",
        tags=["contratos"],
        request=None,
        responses={
            200: AceptacionSerializer,
            201: AceptacionSerializer,
            403: OpenApiResponse(description="Not the agreement's partner (brand or staff)."),
            404: OpenApiResponse(description="No such version visible to you."),
            409: OpenApiResponse(description="Superseded: the body names the version in force."),
        },
    )
    @action(detail=True, methods=["post"])
    def aceptar(self, request: Request, pk: str | None = None) -> Response:
        contrato = self.get_object()
        aceptacion, creada = contrato_aceptar(
            contrato_id=contrato.pk,
            socio_id=alcance_de(request.user).socio_id,
            usuario_id=request.user.pk,
            ip_hash=ip_hash(ip_cliente(request)),
        )
        return Response(
            AceptacionSerializer(aceptacion).data,
            status=status.HTTP_201_CREATED if creada else status.HTTP_200_OK,
        )
