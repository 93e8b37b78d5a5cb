"""API of webhook endpoints and their delivery log (PRODUCT.md §10): `/api/v1/webhooks/`.

A brand user manages its marcas' endpoints, a partner its own, staff all of them; an endpoint
outside the caller's scope is a 404. Thin views: parse, one service or selector, serialize.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from alpespartners.alcance import Alcance, alcance_de
from alpespartners.api.pagination import PaginacionCursorEventos
from alpespartners.api.validacion import errores_planos, validar
from alpespartners.errors import ErrorDominio, ErrorValidacion, Prohibido
from comision_recompensa.models import EndpointWebhook, EntregaWebhook, EstadoEntrega
from comision_recompensa.webhooks import serializers as s
from comision_recompensa.webhooks import services
from comision_recompensa.webhooks.filtros import EntregaFiltro
from comision_recompensa.webhooks.selectors import endpoints_visibles, entregas_de_endpoint
from eventos_medios.models import Marca, Socio


class PaginacionEntregas(PaginacionCursorEventos):
    """The delivery log, newest secuencia first, by cursor (no COUNT over a long log)."""

    page_size = 50
    max_page_size = 500
    ordering = ("-secuencia", "-id")


def _dueno(alcance: Alcance, marca_id: Any, socio_id: Any) -> dict[str, Any]:
    """Who the new endpoint belongs to: staff name one; a brand user one of its marcas (the
    only one by default); a partner itself."""
    if alcance.es_staff:
        if (marca_id is None) == (socio_id is None):
            raise ErrorDominio("Staff: give exactly one of marca or socio.", campo="marca")
        if marca_id is not None:
            marca = Marca.objects.filter(pk=marca_id).first()
            if marca is None:
                raise ErrorDominio("No such marca.", campo="marca")
            return {"marca": marca}
        socio = Socio.objects.filter(pk=socio_id).first()
        if socio is None:
            raise ErrorDominio("No such socio.", campo="socio")
        return {"socio": socio}
    if socio_id is not None and socio_id != alcance.socio_id:
        raise ErrorDominio("Only staff may name the socio.", campo="socio")
    if marca_id is not None:
        if marca_id not in alcance.marca_ids:
            raise ErrorDominio("Not one of your marcas.", campo="marca")
        return {"marca": Marca.objects.get(pk=marca_id)}
    if alcance.socio_id is not None and (socio_id is not None or not alcance.marca_ids):
        return {"socio": Socio.objects.get(pk=alcance.socio_id)}
    if len(alcance.marca_ids) == 1:
        return {"marca": Marca.objects.get(pk=next(iter(alcance.marca_ids)))}
    if alcance.marca_ids:
        raise ErrorDominio("You manage several marcas: say which one.", campo="marca")
    raise Prohibido("Only brands, partners and staff have webhook endpoints.", codigo="forbidden")


@extend_schema_view(
    list=extend_schema(summary="List your webhook endpoints"),
    retrieve=extend_schema(summary="One webhook endpoint (the secret is never shown again)"),
    destroy=extend_schema(summary="Delete an endpoint and its delivery log"),
)
class EndpointWebhookViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet[EndpointWebhook],
):
    """Webhook endpoints and postbacks of the caller's brands or partner (staff: all)."""

    serializer_class = s.EndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[EndpointWebhook]:
        return endpoints_visibles(alcance=alcance_de(self.request.user)).order_by(
            "-creado_en", "id"
        )

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "entregas":
            return s.EntregaSerializer
        return s.EndpointSerializer

    @extend_schema(
        summary="Register an endpoint (the answer carries its secret, once)",
        request=s.EndpointEntradaSerializer,
        responses={201: s.EndpointConSecretoSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        datos = validar(s.EndpointEntradaSerializer(data=request.data))
        dueno = _dueno(alcance_de(request.user), datos.pop("marca", None), datos.pop("socio", None))
        endpoint = services.endpoint_crear(**dueno, **datos)
        return Response(
            s.EndpointConSecretoSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Change an endpoint's url, eventos, activo or descripcion",
        request=s.EndpointActualizarSerializer,
        responses=s.EndpointSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        datos = validar(s.EndpointActualizarSerializer(data=request.data, partial=True))
        endpoint = services.endpoint_actualizar(endpoint=self.get_object(), **datos)
        return Response(s.EndpointSerializer(endpoint).data)

    def perform_destroy(self, instance: EndpointWebhook) -> None:
        services.endpoint_eliminar(endpoint=instance)

    @extend_schema(
        summary="Rotate the secret (the old one signs beside it for 24 hours)",
        request=None,
        responses=s.EndpointConSecretoSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotar-secreto")
    def rotar_secreto(self, request: Request, pk: str | None = None) -> Response:
        endpoint = services.endpoint_rotar_secreto(endpoint=self.get_object())
        return Response(s.EndpointConSecretoSerializer(endpoint).data)

    @extend_schema(
        summary="Send a test delivery (tipo ping) through the outbox",
        request=None,
        responses={202: s.EntregaSerializer, 409: OpenApiResponse(description="Inactive.")},
    )
    @action(detail=True, methods=["post"])
    def probar(self, request: Request, pk: str | None = None) -> Response:
        entrega = services.endpoint_probar(endpoint=self.get_object())
        return Response(s.EntregaSerializer(entrega).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The endpoint's delivery log (newest first; cursor pagination)",
        responses=s.EntregaSerializer(many=True),
        parameters=[
            OpenApiParameter("estado", OpenApiTypes.STR, enum=EstadoEntrega.values),
            OpenApiParameter("tipo", OpenApiTypes.STR),
            OpenApiParameter("desde_secuencia", OpenApiTypes.INT),
            OpenApiParameter("hasta_secuencia", OpenApiTypes.INT),
            OpenApiParameter("desde", OpenApiTypes.STR, description="Date or ISO datetime."),
            OpenApiParameter("hasta", OpenApiTypes.STR, description="Date or ISO datetime."),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
    )
    @action(detail=True, methods=["get"], pagination_class=PaginacionEntregas)
    def entregas(self, request: Request, pk: str | None = None) -> Response:
        qs = self.filter_queryset_entregas(entregas_de_endpoint(endpoint=self.get_object()))
        pagina = self.paginate_queryset(cast(Any, qs))
        return self.get_paginated_response(s.EntregaSerializer(pagina, many=True).data)

    def filter_queryset_entregas(self, qs: QuerySet[EntregaWebhook]) -> QuerySet[EntregaWebhook]:
        filtro = EntregaFiltro(self.request.query_params, queryset=qs, request=self.request)
        if not filtro.is_valid():
            raise ErrorValidacion(errores_planos(filtro.errors))
        return filtro.qs

    @extend_schema(
        summary="Replay a range of deliveries (by secuencia and/or creation time)",
        request=s.ReenvioEntradaSerializer,
        responses={202: s.ReenvioSerializer},
    )
    @action(detail=True, methods=["post"])
    def reenviar(self, request: Request, pk: str | None = None) -> Response:
        datos = validar(s.ReenvioEntradaSerializer(data=request.data))
        cuantas = services.entregas_reenviar(endpoint=self.get_object(), **datos)
        return Response({"reenviadas": cuantas}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Replay one delivery (same id, Idempotency-Key and secuencia)",
        request=None,
        responses={202: s.EntregaSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"entregas/(?P<entrega_id>[^/]+)/reenviar",
        url_name="entrega-reenviar",
    )
    def reenviar_entrega(
        self, request: Request, pk: str | None = None, entrega_id: str | None = None
    ) -> Response:
        endpoint = self.get_object()
        try:
            clave = uuid.UUID(str(entrega_id))
        except ValueError:
            raise Http404 from None
        entrega = EntregaWebhook.objects.filter(endpoint=endpoint, pk=clave).first()
        if entrega is None:
            raise Http404
        entrega = services.entrega_reenviar(entrega=entrega)
        return Response(s.EntregaSerializer(entrega).data, status=status.HTTP_202_ACCEPTED)
