"""Serializers of the payouts API (output only; the callback body is parsed in the view)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from comision_recompensa.models import ControlCumplimiento, Pago
from comision_recompensa.pagos.selectors import pago_controles, pago_items


class PagoItemSerializer(serializers.Serializer):
    tipo = serializers.ChoiceField(choices=["comision", "recompensa", "ajuste"])
    id = serializers.UUIDField()
    monto = serializers.DecimalField(max_digits=14, decimal_places=2)


def _es_staff(serializer: serializers.Serializer[Any]) -> bool:
    request = serializer.context.get("request")
    return request is not None and bool(getattr(request.user, "is_staff", False))


class ControlSerializer(serializers.ModelSerializer[ControlCumplimiento]):
    class Meta:
        model = ControlCumplimiento
        fields = ["control", "paso", "detalle", "evaluado_en"]
        read_only_fields = fields


class LiberacionSerializer(serializers.Serializer[Any]):
    liberado_en = serializers.DateTimeField()
    por = serializers.IntegerField(allow_null=True, help_text="Staff only (null otherwise).")
    motivo = serializers.CharField(help_text="Staff only (empty otherwise).")


class PagoSerializer(serializers.ModelSerializer[Pago]):
    socio_nombre = serializers.CharField(source="socio.nombre", read_only=True)
    marca_nombre = serializers.SerializerMethodField()
    ultimo_error = serializers.SerializerMethodField()

    class Meta:
        model = Pago
        fields = [
            "id",
            "socio",
            "socio_nombre",
            "marca",
            "marca_nombre",
            "monto",
            "moneda",
            "estado",
            "intentos",
            "ultimo_error",
            "proximo_intento_en",
            "enviado_en",
            "confirmado_en",
            "liberado_en",
            "creado_en",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_marca_nombre(self, obj: Pago) -> str | None:
        return obj.marca.nombre if obj.marca_id and obj.marca else None

    @extend_schema_field(serializers.CharField())
    def get_ultimo_error(self, obj: Pago) -> str:
        """Delivery errors are operational detail: staff only."""
        return obj.ultimo_error if _es_staff(self) else ""


class PagoDetalleSerializer(PagoSerializer):
    """A Pago with its items, the latest result of each compliance control (why it is held)
    and, if staff released it, the release."""

    items = serializers.SerializerMethodField()
    controles = serializers.SerializerMethodField()
    liberacion = serializers.SerializerMethodField()

    class Meta(PagoSerializer.Meta):
        fields = [*PagoSerializer.Meta.fields, "controles", "liberacion", "items"]
        read_only_fields = fields

    @extend_schema_field(PagoItemSerializer(many=True))
    def get_items(self, obj: Pago) -> list[dict[str, Any]]:
        return PagoItemSerializer(pago_items(pago=obj), many=True).data  # type: ignore[return-value]

    @extend_schema_field(ControlSerializer(many=True))
    def get_controles(self, obj: Pago) -> list[dict[str, Any]]:
        return ControlSerializer(pago_controles(pago=obj), many=True).data  # type: ignore[return-value]

    @extend_schema_field(LiberacionSerializer(allow_null=True))
    def get_liberacion(self, obj: Pago) -> dict[str, Any] | None:
        if obj.liberado_en is None:
            return None
        staff = _es_staff(self)
        return {
            "liberado_en": obj.liberado_en,
            "por": obj.liberado_por_id if staff else None,
            "motivo": obj.motivo_liberacion if staff else "",
        }


class LiberarPagoSerializer(serializers.Serializer[Any]):
    motivo = serializers.CharField(
        max_length=500, allow_blank=True, help_text="Why the held Pago is released (required)."
    )


class ConfirmacionPagoSerializer(serializers.Serializer[Any]):
    """The payments component's callback body (documentation; the view parses raw bytes)."""

    pago_id = serializers.UUIDField()
    estado = serializers.ChoiceField(choices=["pagado", "fallido"])
    monto = serializers.CharField(help_text='The Pago\'s amount, exactly (e.g. "120.50").')
    moneda = serializers.CharField(help_text="The Pago's currency (ISO 4217).")
    motivo = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ConfirmacionPagoRespuestaSerializer(serializers.Serializer[Any]):
    pago_id = serializers.UUIDField()
    estado = serializers.CharField()
    cambiado = serializers.BooleanField()
