"""Serializers of the payouts API (output only; the callback body is parsed in the view)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from comision_recompensa.models import Pago
from comision_recompensa.pagos.selectors import pago_items


class PagoItemSerializer(serializers.Serializer):
    tipo = serializers.ChoiceField(choices=["comision", "recompensa", "ajuste"])
    id = serializers.UUIDField()
    monto = serializers.DecimalField(max_digits=14, decimal_places=2)


class PagoSerializer(serializers.ModelSerializer):
    socio_nombre = serializers.CharField(source="socio.nombre", read_only=True)
    ultimo_error = serializers.SerializerMethodField()

    class Meta:
        model = Pago
        fields = [
            "id",
            "socio",
            "socio_nombre",
            "monto",
            "moneda",
            "estado",
            "intentos",
            "ultimo_error",
            "proximo_intento_en",
            "enviado_en",
            "confirmado_en",
            "creado_en",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_ultimo_error(self, obj: Pago) -> str:
        """Delivery errors are operational detail: staff only."""
        request = self.context.get("request")
        if request is not None and getattr(request.user, "is_staff", False):
            return obj.ultimo_error
        return ""


class PagoDetalleSerializer(PagoSerializer):
    items = serializers.SerializerMethodField()

    class Meta(PagoSerializer.Meta):
        fields = [*PagoSerializer.Meta.fields, "items"]
        read_only_fields = fields

    @extend_schema_field(PagoItemSerializer(many=True))
    def get_items(self, obj: Pago) -> list[dict[str, Any]]:
        return PagoItemSerializer(pago_items(pago=obj), many=True).data  # type: ignore[return-value]


class ConfirmacionPagoSerializer(serializers.Serializer):
    """The payments component's callback body (documentation; the view parses raw bytes)."""

    pago_id = serializers.UUIDField()
    estado = serializers.ChoiceField(choices=["pagado", "fallido"], required=False)
    motivo = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ConfirmacionPagoRespuestaSerializer(serializers.Serializer):
    pago_id = serializers.UUIDField()
    estado = serializers.CharField()
    cambiado = serializers.BooleanField()
