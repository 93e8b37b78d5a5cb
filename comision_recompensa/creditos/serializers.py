"""Input and output serializers of the commissions and rewards API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from comision_recompensa.models import Comision, EstadoCredito, Recompensa

_CAMPOS_CREDITO = [
    "id",
    "socio",
    "socio_nombre",
    "evento",
    "evento_tipo",
    "ocurrido_en",
    "marca",
    "asociacion",
    "regla",
    "credito",
    "monto",
    "moneda",
    "estado",
    "motivo_reversion",
    "pago",
    "creado_en",
    "aprobado_en",
    "pagado_en",
    "revertido_en",
]


class _CreditoCampos(serializers.Serializer[Any]):
    # The share is `participacion` in the code; clients know it as `credito`.
    credito = serializers.DecimalField(
        source="participacion",
        max_digits=7,
        decimal_places=6,
        read_only=True,
        help_text="Share of the event credited (0–1).",
    )
    socio_nombre = serializers.CharField(source="socio.nombre", read_only=True)
    evento_tipo = serializers.CharField(source="evento.tipo", read_only=True)
    ocurrido_en = serializers.DateTimeField(source="evento.ocurrido_en", read_only=True)
    marca = serializers.UUIDField(source="evento.marca_id", read_only=True, allow_null=True)


class ComisionSerializer(_CreditoCampos, serializers.ModelSerializer[Comision]):
    class Meta:
        model = Comision
        fields = _CAMPOS_CREDITO
        read_only_fields = fields


class ComisionDetalleSerializer(ComisionSerializer):
    class Meta(ComisionSerializer.Meta):
        fields = [*_CAMPOS_CREDITO, "detalle_atribucion"]
        read_only_fields = fields


class RecompensaSerializer(_CreditoCampos, serializers.ModelSerializer[Recompensa]):
    class Meta:
        model = Recompensa
        fields = [*_CAMPOS_CREDITO, "descripcion"]
        read_only_fields = fields


class RecompensaDetalleSerializer(RecompensaSerializer):
    class Meta(RecompensaSerializer.Meta):
        fields = [*_CAMPOS_CREDITO, "descripcion", "detalle_atribucion"]
        read_only_fields = fields


class RevertirEntradaSerializer(serializers.Serializer[Any]):
    motivo = serializers.CharField(max_length=300)


class ReembolsoEntradaSerializer(serializers.Serializer[Any]):
    motivo = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CreditoRevertidoSerializer(serializers.Serializer[Any]):
    tipo = serializers.CharField()
    id = serializers.UUIDField()
    socio = serializers.UUIDField()
    monto = serializers.DecimalField(max_digits=14, decimal_places=2)
    moneda = serializers.CharField()
    estado = serializers.ChoiceField(choices=EstadoCredito.choices)


class ReembolsoSerializer(serializers.Serializer[Any]):
    evento = serializers.UUIDField()
    revertidos = CreditoRevertidoSerializer(many=True)


class ExplicacionSerializer(serializers.Serializer[Any]):
    """Schema of `GET …/{id}/explicacion/` (built by selectors.explicacion.credito_explicar)."""

    texto = serializers.CharField()
    tipo_credito = serializers.CharField()
    credito_id = serializers.UUIDField()
    socio = serializers.DictField()
    evento = serializers.DictField()
    metodo = serializers.CharField(allow_null=True)
    modelo = serializers.CharField(allow_null=True)
    ventana_dias = serializers.IntegerField(allow_null=True)
    touchpoints = serializers.ListField(child=serializers.DictField())
    credito = serializers.CharField()
    monto = serializers.CharField()
    moneda = serializers.CharField(allow_null=True)
    estado = serializers.CharField()
    regla = serializers.DictField(allow_null=True)
    asociacion = serializers.DictField(allow_null=True)
    detalle = serializers.DictField()
