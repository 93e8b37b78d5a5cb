"""Payouts API: read Pagos (scoped), and the payments component's signed confirmation callback."""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.alcance import alcance_de
from alpespartners.api.json_seguro import json_cargar
from alpespartners.errors import ErrorDominio, Prohibido
from comision_recompensa.models import EstadoPago, Pago
from comision_recompensa.pagos.entrega import firma_valida
from comision_recompensa.pagos.selectors import pagos_visibles
from comision_recompensa.pagos.serializers import (
    ConfirmacionPagoRespuestaSerializer,
    ConfirmacionPagoSerializer,
    PagoDetalleSerializer,
    PagoSerializer,
)
from comision_recompensa.pagos.services import pago_confirmar

CABECERA_FIRMA = "X-Alpes-Firma"


class PagoFiltro(django_filters.FilterSet):
    estado = django_filters.ChoiceFilter(choices=EstadoPago.choices)
    moneda = django_filters.CharFilter()
    socio = django_filters.UUIDFilter(field_name="socio_id")

    class Meta:
        model = Pago
        fields = ["estado", "moneda", "socio"]


@extend_schema_view(
    list=extend_schema(
        summary="List the Pagos visible to you",
        responses={
            200: PagoSerializer(many=True),
            400: OpenApiResponse(description="Invalid filter value."),
        },
    ),
    retrieve=extend_schema(
        summary="One Pago with its items",
        responses={
            200: PagoDetalleSerializer,
            404: OpenApiResponse(description="No such Pago visible to you."),
        },
    ),
)
class PagoViewSet(viewsets.ReadOnlyModelViewSet):
    """Pagos: staff see all; a partner sees its own; brand users see none (a Pago spans every
    brand the partner works with)."""

    filterset_class = PagoFiltro

    def get_queryset(self) -> Any:
        return pagos_visibles(alcance=alcance_de(self.request.user)).order_by("-creado_en", "id")

    def get_serializer_class(self) -> Any:
        return PagoDetalleSerializer if self.action == "retrieve" else PagoSerializer


class ConfirmacionPagoView(APIView):
    """`POST /api/v1/pagos/{id}/confirmacion/`: the payments component's callback.

    Authenticated only by `X-Alpes-Firma: sha256=<hex>`, the HMAC-SHA256 of the raw body under
    PAGOS_SECRETO (no token). Forged or missing signature → 403 and nothing changes; a replay
    → 200 and nothing changes; `pago_id` in the body must match the URL.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]  # documents the body; the view reads the raw bytes
    throttle_classes: list[Any] = []

    @extend_schema(
        summary="Confirmation callback of the payments component (HMAC-signed)",
        request=ConfirmacionPagoSerializer,
        parameters=[
            OpenApiParameter(
                CABECERA_FIRMA,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of the raw body under PAGOS_SECRETO>",
            )
        ],
        responses={
            200: ConfirmacionPagoRespuestaSerializer,
            400: OpenApiResponse(description="Malformed body or pago_id mismatch."),
            403: OpenApiResponse(description="Missing or invalid signature."),
            404: OpenApiResponse(description="Unknown Pago."),
        },
        auth=[],
    )
    def post(self, request: Request, pk: Any) -> Response:
        cuerpo = request.body  # the raw bytes, exactly as signed
        if not firma_valida(cuerpo, request.headers.get(CABECERA_FIRMA), settings.PAGOS_SECRETO):
            raise Prohibido("Invalid or missing signature.", codigo="firma_invalida")
        # Depth-limited and size-capped like every JSON body (400 naming the problem).
        datos = json_cargar(cuerpo)
        entrada = ConfirmacionPagoSerializer(data=datos if isinstance(datos, dict) else {})
        entrada.is_valid(raise_exception=True)
        pago_id = entrada.validated_data["pago_id"]
        if str(pago_id) != str(pk):
            raise ErrorDominio("pago_id does not match the Pago in the URL.", campo="pago_id")
        resultado = pago_confirmar(
            pago_id=pago_id,
            estado=entrada.validated_data.get("estado", "pagado"),
            motivo=entrada.validated_data.get("motivo", ""),
        )
        salida = ConfirmacionPagoRespuestaSerializer(
            {
                "pago_id": resultado.pago.id,
                "estado": resultado.pago.estado,
                "cambiado": resultado.cambiado,
            }
        )
        return Response(salida.data)
