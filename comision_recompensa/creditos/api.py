"""API of commissions and rewards (PRODUCT.md §3, §4, §6): lists, detail, the staff lifecycle
actions, the explanation, and refunds.

Thin views: parse the input, call one service or selector, serialize the output. Who sees what
is decided by the scoped selectors (a row outside the caller's scope is a 404); lifecycle
actions are staff only; illegal transitions come back as 409 with the reason.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from alpespartners.alcance import alcance_de
from alpespartners.api.permissions import EsStaff
from alpespartners.api.validacion import validar
from alpespartners.errors import Prohibido
from comision_recompensa.atribucion.explicacion import credito_explicar_para
from comision_recompensa.creditos import serializers as s
from comision_recompensa.creditos.filtros import CreditoFiltro
from comision_recompensa.creditos.selectors import creditos_visibles
from comision_recompensa.creditos.services import (
    credito_aprobar,
    credito_revertir,
    evento_reembolsar,
)
from comision_recompensa.models import Comision, Recompensa
from eventos_medios.selectors import eventos_visibles


class _CreditoViewSet(viewsets.ReadOnlyModelViewSet[Any]):
    """Read-only list/detail of one credit model, plus staff lifecycle actions and the
    explanation."""

    modelo: type[Any]  # Comision or Recompensa
    serializer_lista: type[BaseSerializer[Any]]
    serializer_detalle: type[BaseSerializer[Any]]
    filterset_class = CreditoFiltro
    ordering = ["-creado_en", "id"]

    def get_queryset(self) -> QuerySet[Any]:
        qs = creditos_visibles(modelo=self.modelo, alcance=alcance_de(self.request.user))
        return qs.order_by("-creado_en", "id")

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "list":
            return self.serializer_lista
        return self.serializer_detalle

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("aprobar", "revertir"):
            return [EsStaff()]
        return [IsAuthenticated()]

    def _aprobar(self, request: Request) -> Response:
        credito = credito_aprobar(credito=self.get_object(), por=request.user)
        return Response(self.serializer_detalle(credito).data)

    def _revertir(self, request: Request) -> Response:
        datos = validar(s.RevertirEntradaSerializer(data=request.data))
        credito = credito_revertir(
            credito=self.get_object(), motivo=datos["motivo"], por=request.user
        )
        return Response(self.serializer_detalle(credito).data)

    def _explicacion(self, request: Request) -> Response:
        credito = self.get_object()
        return Response(credito_explicar_para(credito=credito, alcance=alcance_de(request.user)))


@extend_schema_view(
    list=extend_schema(summary="List commissions you may see (filterable)"),
    retrieve=extend_schema(summary="One commission"),
)
class ComisionViewSet(_CreditoViewSet):
    """Commissions. Filters: socio, marca, estado, evento, desde, hasta (event time, inclusive)."""

    modelo = Comision
    serializer_lista = s.ComisionSerializer
    serializer_detalle = s.ComisionDetalleSerializer
    serializer_class = s.ComisionDetalleSerializer

    @extend_schema(
        summary="Approve a pending commission (staff)",
        request=None,
        responses=s.ComisionDetalleSerializer,
    )
    @action(detail=True, methods=["post"])
    def aprobar(self, request: Request, pk: str | None = None) -> Response:
        """Approve a pending commission (staff). 409 when already approved, paid or reversed."""
        return self._aprobar(request)

    @extend_schema(
        summary="Reverse a commission (staff)",
        request=s.RevertirEntradaSerializer,
        responses=s.ComisionDetalleSerializer,
    )
    @action(detail=True, methods=["post"])
    def revertir(self, request: Request, pk: str | None = None) -> Response:
        """Reverse a commission (staff); a paid one also gets a clawback adjustment."""
        return self._revertir(request)

    @extend_schema(summary="Why this commission (explanation)", responses=s.ExplicacionSerializer)
    @action(detail=True, methods=["get"])
    def explicacion(self, request: Request, pk: str | None = None) -> Response:
        """Why this commission: model, window, touchpoints, rule, agreement, in words."""
        return self._explicacion(request)


@extend_schema_view(
    list=extend_schema(summary="List rewards you may see (filterable)"),
    retrieve=extend_schema(summary="One reward"),
)
class RecompensaViewSet(_CreditoViewSet):
    """Rewards. Filters: socio, marca, estado, evento, desde, hasta (event time, inclusive)."""

    modelo = Recompensa
    serializer_lista = s.RecompensaSerializer
    serializer_detalle = s.RecompensaDetalleSerializer
    serializer_class = s.RecompensaDetalleSerializer

    @extend_schema(
        summary="Approve a pending reward (staff)",
        request=None,
        responses=s.RecompensaDetalleSerializer,
    )
    @action(detail=True, methods=["post"])
    def aprobar(self, request: Request, pk: str | None = None) -> Response:
        """Approve a pending reward (staff). 409 when already approved, paid or reversed."""
        return self._aprobar(request)

    @extend_schema(
        summary="Reverse a reward (staff)",
        request=s.RevertirEntradaSerializer,
        responses=s.RecompensaDetalleSerializer,
    )
    @action(detail=True, methods=["post"])
    def revertir(self, request: Request, pk: str | None = None) -> Response:
        """Reverse a reward (staff); a paid one also gets a clawback adjustment."""
        return self._revertir(request)

    @extend_schema(summary="Why this reward (explanation)", responses=s.ExplicacionSerializer)
    @action(detail=True, methods=["get"])
    def explicacion(self, request: Request, pk: str | None = None) -> Response:
        """Why this reward: model, window, touchpoints, rule, agreement, in words."""
        return self._explicacion(request)


class ReembolsoView(APIView):
    """`POST /api/v1/eventos/{id}/reembolso/`: a venta was refunded; reverse what it earned.
    Staff or a user of the event's marca."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Refund a venta: reverse what it earned",
        request=s.ReembolsoEntradaSerializer,
        responses=s.ReembolsoSerializer,
    )
    def post(self, request: Request, pk: Any) -> Response:
        alcance = alcance_de(request.user)
        evento = get_object_or_404(eventos_visibles(alcance=alcance), pk=pk)
        if not (alcance.es_staff or evento.marca_id in alcance.marca_ids):
            raise Prohibido("Only staff or the event's brand may refund it.", codigo="forbidden")
        datos = validar(s.ReembolsoEntradaSerializer(data=request.data))
        revertidos = evento_reembolsar(evento=evento, motivo=datos["motivo"], por=request.user)
        cuerpo = {
            "evento": evento.pk,
            "revertidos": [
                {
                    "tipo": "comision" if isinstance(c, Comision) else "recompensa",
                    "id": c.pk,
                    "socio": c.socio_id,
                    "monto": c.monto,
                    "moneda": c.moneda,
                    "estado": c.estado,
                }
                for c in revertidos
            ],
        }
        return Response(s.ReembolsoSerializer(cuerpo).data)
