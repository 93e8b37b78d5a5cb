"""Payout-profile API (PRODUCT.md §9).

- `GET|PUT|PATCH /api/v1/perfil-pago/`: the calling partner's own profile (403 for anyone
  who is not a partner: a brand never sees bank details; staff use the next route).
- `GET|PUT|PATCH /api/v1/socios/{id}/perfil-pago/`: staff, any partner's.
- `POST /api/v1/socios/{id}/perfil-pago/revelar/`: staff, the reference in clear (recorded).

Every response except the reveal shows the reference masked, to the partner too.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.alcance import alcance_de
from alpespartners.api.permissions import EsStaff
from alpespartners.api.validacion import validar
from alpespartners.errors import ErrorValidacion, NoEncontrado, Prohibido
from comision_recompensa.perfiles import serializers as s
from comision_recompensa.perfiles.selectors import perfil_datos, perfil_estado, perfil_pago_de
from comision_recompensa.perfiles.services import perfil_pago_guardar, perfil_pago_revelar
from comision_recompensa.perfiles.validacion import CAMPOS_PERFIL, referencia_enmascarar
from eventos_medios.models import Socio

RESPUESTAS = {
    200: s.PerfilPagoSerializer,
    400: OpenApiResponse(description="A field is invalid (named in `errors`)."),
    403: OpenApiResponse(description="Not allowed for this caller."),
}


def perfil_respuesta(socio_id: uuid.UUID) -> dict[str, Any]:
    """The masked view of a partner's profile (empty fields when it has none yet)."""
    perfil = perfil_pago_de(socio_id=socio_id)
    datos = perfil_datos(perfil)
    estado = perfil_estado(perfil)
    return s.PerfilPagoSerializer(
        {
            "socio": socio_id,
            "titular": datos["titular"],
            "metodo": datos["metodo"],
            "referencia_enmascarada": referencia_enmascarar(datos["metodo"], datos["referencia"]),
            "pais": datos["pais"],
            "identificacion_fiscal": datos["identificacion_fiscal"],
            "completo": estado.completo,
            "faltan": estado.faltan,
            "invalidos": estado.invalidos,
            "actualizado_en": perfil.actualizado_en if perfil else None,
        }
    ).data


def _entrada(request: Request, *, parcial: bool) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise ErrorValidacion({"non_field_errors": ["Expected a JSON object."]})
    desconocidos = sorted(str(k) for k in request.data if k not in CAMPOS_PERFIL)
    if desconocidos:
        raise ErrorValidacion({c: ["is not a field of the payout profile."] for c in desconocidos})
    return validar(s.PerfilPagoEntradaSerializer(data=request.data, partial=parcial))


class _PerfilBase(APIView):
    def socio_id(self, request: Request, **kwargs: Any) -> uuid.UUID:
        raise NotImplementedError

    def _guardar(self, request: Request, parcial: bool, **kwargs: Any) -> Response:
        socio_id = self.socio_id(request, **kwargs)
        perfil_pago_guardar(
            socio_id=socio_id,
            datos=_entrada(request, parcial=parcial),
            parcial=parcial,
            por=request.user.pk,
            origen="api",
        )
        return Response(perfil_respuesta(socio_id))

    def get(self, request: Request, **kwargs: Any) -> Response:
        return Response(perfil_respuesta(self.socio_id(request, **kwargs)))

    def put(self, request: Request, **kwargs: Any) -> Response:
        return self._guardar(request, False, **kwargs)

    def patch(self, request: Request, **kwargs: Any) -> Response:
        return self._guardar(request, True, **kwargs)


@extend_schema(tags=["perfil-pago"], responses=RESPUESTAS)
class PerfilPagoPropioView(_PerfilBase):
    """The calling partner's payout profile."""

    permission_classes = [IsAuthenticated]

    def socio_id(self, request: Request, **kwargs: Any) -> uuid.UUID:
        socio_id = alcance_de(request.user).socio_id
        if socio_id is None:
            raise Prohibido(
                "Only a partner has a payout profile; staff use /api/v1/socios/{id}/perfil-pago/.",
                codigo="solo_socio",
            )
        return socio_id

    @extend_schema(summary="Your payout profile (reference masked)")
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    @extend_schema(
        summary="Replace your payout profile (missing fields become empty)",
        request=s.PerfilPagoEntradaSerializer,
    )
    def put(self, request: Request, **kwargs: Any) -> Response:
        return super().put(request, **kwargs)

    @extend_schema(
        summary="Change some fields of your payout profile", request=s.PerfilPagoEntradaSerializer
    )
    def patch(self, request: Request, **kwargs: Any) -> Response:
        return super().patch(request, **kwargs)


def _socio_existente(socio_id: uuid.UUID) -> uuid.UUID:
    if not Socio.objects.filter(pk=socio_id).exists():
        raise NoEncontrado("Socio not found.", codigo="not_found")
    return socio_id


@extend_schema(tags=["perfil-pago"], responses=RESPUESTAS)
class PerfilPagoSocioView(_PerfilBase):
    """Staff: any partner's payout profile (reference masked)."""

    permission_classes = [EsStaff]

    def socio_id(self, request: Request, **kwargs: Any) -> uuid.UUID:
        return _socio_existente(kwargs["socio_id"])

    @extend_schema(summary="A partner's payout profile (staff; reference masked)")
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    @extend_schema(
        summary="Replace a partner's payout profile (staff)", request=s.PerfilPagoEntradaSerializer
    )
    def put(self, request: Request, **kwargs: Any) -> Response:
        return super().put(request, **kwargs)

    @extend_schema(
        summary="Change a partner's payout profile (staff)", request=s.PerfilPagoEntradaSerializer
    )
    def patch(self, request: Request, **kwargs: Any) -> Response:
        return super().patch(request, **kwargs)


class PerfilPagoRevelarView(APIView):
    """Staff: the partner's payout reference in clear. Recorded (`perfil_pago_revelado`)."""

    permission_classes = [EsStaff]

    @extend_schema(
        tags=["perfil-pago"],
        summary="Reveal a partner's payout reference (staff; recorded in the audit log)",
        request=s.RevelarEntradaSerializer,
        responses={
            200: s.PerfilPagoReveladoSerializer,
            403: OpenApiResponse(description="Not staff."),
            404: OpenApiResponse(description="No such partner, or no reference."),
        },
    )
    def post(self, request: Request, socio_id: uuid.UUID) -> Response:
        datos = validar(s.RevelarEntradaSerializer(data=request.data or {}))
        claro = perfil_pago_revelar(
            socio_id=_socio_existente(socio_id),
            por=request.user.pk,
            es_staff=bool(request.user.is_staff),
            motivo=datos.get("motivo", ""),
            origen="api",
        )
        respuesta = Response(s.PerfilPagoReveladoSerializer({"socio": socio_id, **claro}).data)
        respuesta["Cache-Control"] = "no-store"
        return respuesta
