"""Payouts API: read Pagos (scoped) with their compliance controls, staff's release of a held
Pago, and the payments component's signed confirmation callback."""

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
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners import firmas
from alpespartners.alcance import alcance_de
from alpespartners.api.json_seguro import json_cargar
from alpespartners.api.permissions import EsStaff
from alpespartners.api.validacion import validar
from alpespartners.errors import ErrorDominio
from comision_recompensa.models import EstadoPago, Pago
from comision_recompensa.pagos.selectors import pagos_visibles
from comision_recompensa.pagos.serializers import (
    ConfirmacionPagoRespuestaSerializer,
    ConfirmacionPagoSerializer,
    LiberarPagoSerializer,
    PagoDetalleSerializer,
    PagoSerializer,
)
from comision_recompensa.pagos.services import pago_confirmar, pago_liberar

CABECERA_FIRMA = firmas.CABECERA


class FirmaRechazada(ErrorDominio):
    """A callback whose signature is missing, forged, malformed or outside the time window."""

    status_code = 401


class PagoFiltro(django_filters.FilterSet):
    estado = django_filters.ChoiceFilter(choices=EstadoPago.choices)
    moneda = django_filters.CharFilter()
    socio = django_filters.UUIDFilter(field_name="socio_id")
    marca = django_filters.UUIDFilter(field_name="marca_id")

    class Meta:
        model = Pago
        fields = ["estado", "moneda", "socio", "marca"]


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
class PagoViewSet(viewsets.ReadOnlyModelViewSet[Pago]):
    """Pagos: staff see all; a partner its own; a brand user its programmes' (per socio, marca
    and moneda). The detail shows each compliance control's latest result (why a Pago is
    `retenido`)."""

    filterset_class = PagoFiltro

    def get_queryset(self) -> Any:
        return pagos_visibles(alcance=alcance_de(self.request.user)).order_by("-creado_en", "id")

    def get_serializer_class(self) -> Any:
        return PagoSerializer if self.action == "list" else PagoDetalleSerializer

    @extend_schema(
        summary="Release a held Pago with a reason (staff): it is delivered even if a control "
        "still fails",
        request=LiberarPagoSerializer,
        responses={
            200: PagoDetalleSerializer,
            400: OpenApiResponse(description="No reason given (`motivo`)."),
            403: OpenApiResponse(description="Not staff."),
            404: OpenApiResponse(description="No such Pago."),
            409: OpenApiResponse(description="The Pago is not retenido."),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[EsStaff])
    def liberar(self, request: Request, pk: str | None = None) -> Response:
        pago = self.get_object()
        datos = validar(LiberarPagoSerializer(data=request.data))
        pago = pago_liberar(
            pago_id=pago.id, por=request.user.pk, motivo=datos["motivo"], origen="api"
        )
        contexto = self.get_serializer_context()
        return Response(
            PagoDetalleSerializer(self.get_queryset().get(pk=pago.pk), context=contexto).data
        )


class ConfirmacionPagoView(APIView):
    """`POST /api/v1/pagos/{id}/confirmacion/`: the payments component's callback (PRODUCT.md §8).

    Authenticated only by `X-Alpes-Firma: t=<unix seconds>,sha256=<hex>`, the HMAC-SHA256 of
    `"<t>.<raw body>"` under PAGOS_SECRETO (or a secret being rotated out), no token. Missing,
    malformed, forged, or more than 5 minutes old or ahead → 401 and nothing changes. The body
    names `pago_id` (as in the URL), `estado`, and the Pago's exact `monto` and `moneda` (409
    naming the field otherwise); only a delivered (`enviado`) Pago is confirmed; a replay → 200
    with the current state, nothing changed.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]  # documents the body; the view reads the raw bytes
    throttle_classes: list[Any] = []

    @extend_schema(
        summary="Confirmation callback of the payments component (HMAC-signed, timestamped)",
        request=ConfirmacionPagoSerializer,
        parameters=[
            OpenApiParameter(
                CABECERA_FIRMA,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description='t=<unix seconds>,sha256=<hex HMAC-SHA256 of "<t>.<raw body>" '
                "under PAGOS_SECRETO>",
            )
        ],
        responses={
            200: ConfirmacionPagoRespuestaSerializer,
            400: OpenApiResponse(
                description="Malformed body, a field missing, or pago_id mismatch."
            ),
            401: OpenApiResponse(description="Missing, invalid or expired signature."),
            404: OpenApiResponse(description="Unknown Pago."),
            409: OpenApiResponse(
                description="monto or moneda differ from the Pago's, or the Pago was not delivered."
            ),
        },
        auth=[],
    )
    def post(self, request: Request, pk: Any) -> Response:
        cuerpo = request.body  # the raw bytes, exactly as signed
        secretos = [settings.PAGOS_SECRETO, *settings.PAGOS_SECRETOS_ANTERIORES]
        try:
            firmas.verificar(request.headers.get(CABECERA_FIRMA), cuerpo, secretos)
        except firmas.FirmaInvalida as exc:
            raise FirmaRechazada(exc.mensaje, campo=CABECERA_FIRMA, codigo=exc.codigo) from None
        # Depth-limited and size-capped like every JSON body (400 naming the problem).
        datos = json_cargar(cuerpo)
        if not isinstance(datos, dict):
            raise ErrorDominio("Expected a JSON object.", campo="non_field_errors")
        entrada = validar(ConfirmacionPagoSerializer(data=datos))
        if str(entrada["pago_id"]) != str(pk):
            raise ErrorDominio("pago_id does not match the Pago in the URL.", campo="pago_id")
        resultado = pago_confirmar(
            pago_id=entrada["pago_id"],
            estado=entrada["estado"],
            monto=datos.get("monto"),
            moneda=datos.get("moneda"),
            motivo=entrada.get("motivo", ""),
        )
        salida = ConfirmacionPagoRespuestaSerializer(
            {
                "pago_id": resultado.pago.id,
                "estado": resultado.pago.estado,
                "cambiado": resultado.cambiado,
            }
        )
        return Response(salida.data)
