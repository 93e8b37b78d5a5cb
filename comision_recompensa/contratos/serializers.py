"""Output serializers of the contracts API (the only input is the acceptance, with no body)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from comision_recompensa.models import AceptacionContrato, Contrato

ESTADOS_CONTRATO = ["borrador", "vigente", "programado", "sustituido"]


class AceptacionSerializer(serializers.ModelSerializer[AceptacionContrato]):
    version = serializers.IntegerField(source="contrato.version", read_only=True)

    class Meta:
        model = AceptacionContrato
        fields = ["id", "contrato", "version", "socio", "aceptado_en", "hash_texto"]
        read_only_fields = fields


class AceptacionResumenSerializer(serializers.ModelSerializer[AceptacionContrato]):
    class Meta:
        model = AceptacionContrato
        fields = ["id", "aceptado_en", "hash_texto"]
        read_only_fields = fields


class ContratoSerializer(serializers.ModelSerializer[Contrato]):
    """One version. `estado` and `aceptacion` (the agreement partner's acceptance of this
    version, or null) come from the view's context (`vigentes`, `aceptaciones`, `hoy`)."""

    marca = serializers.UUIDField(source="asociacion.marca_id", read_only=True)
    marca_nombre = serializers.CharField(source="asociacion.marca.nombre", read_only=True)
    socio = serializers.UUIDField(source="asociacion.socio_id", read_only=True)
    socio_nombre = serializers.CharField(source="asociacion.socio.nombre", read_only=True)
    estado = serializers.SerializerMethodField()
    aceptacion = serializers.SerializerMethodField()

    class Meta:
        model = Contrato
        fields = [
            "id",
            "asociacion",
            "marca",
            "marca_nombre",
            "socio",
            "socio_nombre",
            "version",
            "estado",
            "vigente_desde",
            "publicado_en",
            "texto",
            "hash_texto",
            "aceptacion",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ESTADOS_CONTRATO))
    def get_estado(self, obj: Contrato) -> str:
        from comision_recompensa.contratos.selectors import contrato_estado

        vigente = self.context["vigentes"].get(obj.asociacion_id)
        return contrato_estado(obj, vigente, self.context["hoy"])

    @extend_schema_field(AceptacionResumenSerializer(allow_null=True))
    def get_aceptacion(self, obj: Contrato) -> dict[str, Any] | None:
        aceptacion = self.context["aceptaciones"].get(obj.pk)
        return AceptacionResumenSerializer(aceptacion).data if aceptacion else None
