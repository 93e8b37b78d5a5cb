"""Input and output serializers of the agreements API.

Input serializers only parse types; the business rules live in the services, which raise
errors naming the field (`reglas[1].valor`).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alpespartners.api.campos import CampoDinero
from comision_recompensa.models import AsociacionEstrategica, Modalidad, ReglaPago, TipoAsociacion
from eventos_medios.models import Marca, Socio, TipoEvento


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


class ContratoVigenteSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    vigente_desde = serializers.DateField()
    aceptado = serializers.BooleanField(help_text="Accepted by the agreement's partner.")


class AsociacionSerializer(serializers.ModelSerializer[AsociacionEstrategica]):
    marca_nombre = serializers.CharField(source="marca.nombre", read_only=True)
    socio_nombre = serializers.CharField(source="socio.nombre", read_only=True)
    reglas = ReglaPagoSerializer(many=True, read_only=True)
    contrato_vigente = serializers.SerializerMethodField()

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
            "contrato_vigente",
            "creado_en",
            "actualizado_en",
        ]
        read_only_fields = fields

    @extend_schema_field(ContratoVigenteSerializer(allow_null=True))
    def get_contrato_vigente(self, obj: AsociacionEstrategica) -> dict[str, Any] | None:
        """The contract version in force (null: none published or in force yet), and whether
        the partner accepted it (read it and accept it under /api/v1/contratos/)."""
        hoy = timezone.now().date()
        publicados = getattr(obj, "contratos_publicados", None)
        if publicados is None:
            publicados = list(obj.contratos.filter(publicado_en__isnull=False).order_by("-version"))
        vigente = next((c for c in publicados if c.vigente_desde <= hoy), None)
        if vigente is None:
            return None
        return {
            "id": vigente.id,
            "version": vigente.version,
            "vigente_desde": vigente.vigente_desde,
            "aceptado": any(a.socio_id == obj.socio_id for a in vigente.aceptaciones.all()),
        }


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
