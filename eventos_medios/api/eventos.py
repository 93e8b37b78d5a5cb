"""`/api/v1/eventos/`: list/detail (scoped, cursor-paginated) and ingestion (one or a batch).

Ingestion views are thin: parse JSON (orjson, size-capped) → one service call → response. The
service validates by hand and writes with bulk SQL; see eventos_medios.services.ingesta.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import orjson
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from alpespartners.alcance import alcance_de
from alpespartners.api.json_seguro import cuerpo_leer, json_cargar_rapido
from alpespartners.api.pagination import PaginacionCursorEventos
from alpespartners.api.permissions import PuedeEnviarEventos
from alpespartners.api.ratelimit import LimiteIngesta
from alpespartners.errors import ErrorValidacion
from eventos_medios.api.eventos_filtros import EventoFiltro
from eventos_medios.api.eventos_serializers import (
    EventoEntradaSerializer,
    EventoSerializer,
    LoteEntradaSerializer,
    ResultadoLoteSerializer,
)
from eventos_medios.models import Evento
from eventos_medios.selectors import eventos_visibles
from eventos_medios.services.ingesta import evento_registrar, eventos_registrar_lote


class ParserJSONRapido(JSONParser):
    """JSON through orjson, refusing bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (→ 413) and
    nesting deeper than 64 levels (→ 400); see alpespartners.api.json_seguro."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return json_cargar_rapido(cuerpo_leer(stream), claves_dinero=("valor",))


def _por_defecto(valor: Any) -> Any:
    if isinstance(valor, Decimal):
        return str(valor)
    return str(valor)


class RenderizadorJSONRapido(JSONRenderer):
    """JSON through orjson (falls back to DRF's encoder for anything orjson refuses)."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        if data is None:
            return b""
        with contextlib.suppress(TypeError):
            return orjson.dumps(data, default=_por_defecto)
        return super().render(data, accepted_media_type, renderer_context)


_ERRORES = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input; `errors` names it."),
    401: OpenApiResponse(OpenApiTypes.OBJECT, description="Not authenticated."),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description="Not allowed to send events."),
    409: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="Same id with another body, or a venta whose referencia_externa is taken "
        "(`evento_id` names the stored event).",
    ),
    413: OpenApiResponse(OpenApiTypes.OBJECT, description="Body over 1 MB."),
    429: OpenApiResponse(OpenApiTypes.OBJECT, description="Rate limited; see Retry-After."),
}


@extend_schema_view(
    list=extend_schema(summary="List events you may see (cursor-paginated, filterable)"),
    retrieve=extend_schema(summary="One event"),
)
class EventoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tracked events. Staff see all; brand users their marcas'; partners those credited to
    them. Staff and brand users send events (`POST`), one by one or in batches."""

    serializer_class = EventoSerializer
    pagination_class = PaginacionCursorEventos
    filterset_class = EventoFiltro
    parser_classes = [ParserJSONRapido]
    renderer_classes = [RenderizadorJSONRapido, BrowsableAPIRenderer]
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def get_queryset(self) -> QuerySet[Evento]:
        if getattr(self, "swagger_fake_view", False):
            return Evento.objects.none()
        return eventos_visibles(alcance=alcance_de(self.request.user))

    def get_permissions(self) -> list[BasePermission]:
        if self.action in {"create", "lote"}:
            return [IsAuthenticated(), PuedeEnviarEventos()]
        return [IsAuthenticated()]

    def get_throttles(self) -> list[BaseThrottle]:
        if self.request.method == "POST":
            return [LimiteIngesta()]
        return []

    @extend_schema(
        summary="Send one event (idempotent by id; a venta also by referencia_externa)",
        request=EventoEntradaSerializer,
        responses={
            201: EventoSerializer,
            200: OpenApiResponse(EventoSerializer, description="Already stored: same id, body."),
            **_ERRORES,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        representacion, creado = evento_registrar(
            datos=request.data, alcance=alcance_de(request.user)
        )
        return Response(
            representacion, status=status.HTTP_201_CREATED if creado else status.HTTP_200_OK
        )

    @extend_schema(
        summary="Send up to 1,000 events (all-or-nothing validation, errors keyed by index)",
        request=LoteEntradaSerializer,
        responses={
            201: ResultadoLoteSerializer,
            200: OpenApiResponse(ResultadoLoteSerializer, description="Every event existed."),
            **_ERRORES,
        },
    )
    @action(detail=False, methods=["post"], url_path="lote")
    def lote(self, request: Request) -> Response:
        datos = request.data
        if not isinstance(datos, dict):
            raise ErrorValidacion({"non_field_errors": ['Expected {"eventos": [...]}.']})
        resultados = eventos_registrar_lote(
            eventos=datos.get("eventos"), alcance=alcance_de(request.user)
        )
        creados = sum(1 for r in resultados if r["estado"] == "creado")
        return Response(
            {
                "creados": creados,
                "existentes": len(resultados) - creados,
                "resultados": resultados,
            },
            status=status.HTTP_201_CREATED if creados else status.HTTP_200_OK,
        )
