"""Input and output serializers of the attribution API (agreements, commissions, rewards).

Input serializers only parse types; the business rules live in the services, which raise
errors naming the field (`reglas[1].valor`). `errores_planos` gives DRF's nested errors the
same flat names.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from alpespartners.api.campos import CampoDinero
from comision_recompensa.models import (
    AsociacionEstrategica,
    Comision,
    EstadoCredito,
    Modalidad,
    Recompensa,
    ReglaPago,
    TipoAsociacion,
)
from eventos_medios.models import Marca, Socio, TipoEvento


def errores_planos(errores: Any, prefijo: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested errors.

    {"reglas": [{}, {"valor": [..]}]} becomes {"reglas[1].valor": [..]}.
    """
    planos: dict[str, list[str]] = {}
    if isinstance(errores, dict):
        for clave, valor in errores.items():
            if prefijo and (isinstance(clave, int) or str(clave).isdigit()):
                nombre = f"{prefijo}[{clave}]"
            elif prefijo:
                nombre = f"{prefijo}.{clave}"
            else:
                nombre = str(clave)
            planos.update(errores_planos(valor, nombre))
    elif isinstance(errores, list):
        if all(not isinstance(e, (dict, list)) for e in errores):
            if errores:
                planos[prefijo or "non_field_errors"] = [str(e) for e in errores]
        else:
            for i, e in enumerate(errores):
                planos.update(errores_planos(e, f"{prefijo}[{i}]"))
    else:
        planos[prefijo or "non_field_errors"] = [str(errores)]
    return planos


# --- Agreements -------------------------------------------------------------------------------


class ReglaPagoSerializer(serializers.ModelSerializer[ReglaPago]):
    class Meta:
        model = ReglaPago
        fields = ["id", "tipo_evento", "modalidad", "valor", "moneda", "tope"]
        read_only_fields = fields


class ReglaPagoEntradaSerializer(serializers.Serializer[Any]):
    tipo_evento = serializers.ChoiceField(choices=TipoEvento.choices)
    modalidad = serializers.ChoiceField(choices=Modalidad.choices)
    # Money rules of PRODUCT.md §8: plain digits, at most two decimals, no exponent.
    valor = CampoDinero(max_digits=12, decimal_places=2)
    moneda = serializers.CharField(max_length=3, min_length=3)
    tope = CampoDinero(max_digits=12, decimal_places=2, required=False, allow_null=True)


class AsociacionSerializer(serializers.ModelSerializer[AsociacionEstrategica]):
    marca_nombre = serializers.CharField(source="marca.nombre", read_only=True)
    socio_nombre = serializers.CharField(source="socio.nombre", read_only=True)
    reglas = ReglaPagoSerializer(many=True, read_only=True)

    class Meta:
        model = AsociacionEstrategica
        fields = [
            "id",
            "marca",
            "marca_nombre",
            "socio",
            "socio_nombre",
            "tipo",
            "dias_retencion",
            "vigencia_inicio",
            "vigencia_fin",
            "reglas",
            "creado_en",
            "actualizado_en",
        ]
        read_only_fields = fields


class AsociacionEntradaSerializer(serializers.Serializer[Any]):
    marca = serializers.PrimaryKeyRelatedField(queryset=Marca.objects.all())
    socio = serializers.PrimaryKeyRelatedField(queryset=Socio.objects.all())
    tipo = serializers.ChoiceField(choices=TipoAsociacion.choices)
    dias_retencion = serializers.IntegerField(required=False, default=30)
    vigencia_inicio = serializers.DateField()
    vigencia_fin = serializers.DateField(required=False, allow_null=True, default=None)
    reglas = ReglaPagoEntradaSerializer(many=True, required=False, default=list)


class AsociacionActualizarSerializer(serializers.Serializer[Any]):
    """Terms that may change (marca and socio never do). PATCH sends any subset; `reglas`, when
    sent, replaces the agreement's rules."""

    tipo = serializers.ChoiceField(choices=TipoAsociacion.choices, required=False)
    dias_retencion = serializers.IntegerField(required=False)
    vigencia_inicio = serializers.DateField(required=False)
    vigencia_fin = serializers.DateField(required=False, allow_null=True)
    reglas = ReglaPagoEntradaSerializer(many=True, required=False)


# --- Commissions and rewards ------------------------------------------------------------------

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
