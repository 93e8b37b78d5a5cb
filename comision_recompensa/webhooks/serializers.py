"""Serializers of the webhooks API. The secret appears only in the create and rotate answers
(`EndpointConSecretoSerializer`); every other answer shows its first characters."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from comision_recompensa.models import ClaseEndpoint, EndpointWebhook, EntregaWebhook
from comision_recompensa.webhooks.tipos import TIPOS, TODOS

LARGO_PREFIJO_SECRETO = 10


class EndpointSerializer(serializers.ModelSerializer):
    secreto_prefijo = serializers.SerializerMethodField()
    secreto_anterior_expira_en = serializers.SerializerMethodField()

    class Meta:
        model = EndpointWebhook
        fields = [
            "id",
            "clase",
            "marca",
            "socio",
            "url",
            "eventos",
            "activo",
            "descripcion",
            "secreto_prefijo",
            "secreto_anterior_expira_en",
            "secuencia_actual",
            "creado_en",
            "actualizado_en",
        ]
        read_only_fields = fields

    def get_secreto_prefijo(self, obj: EndpointWebhook) -> str:
        """The first characters of the current secret, to tell secrets apart."""
        return obj.secreto[:LARGO_PREFIJO_SECRETO] + "…"

    def get_secreto_anterior_expira_en(self, obj: EndpointWebhook) -> Any:
        """While set and in the future, deliveries also carry the previous secret's signature."""
        valor = obj.secreto_anterior_expira_en
        return valor.isoformat() if valor else None


class EndpointConSecretoSerializer(EndpointSerializer):
    secreto = serializers.CharField(
        read_only=True, help_text="Shown only now: store it, it is never returned again."
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secreto"]
        read_only_fields = fields


class EndpointEntradaSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=4096, trim_whitespace=False)
    eventos = serializers.ListField(
        child=serializers.CharField(max_length=60),
        max_length=len(TIPOS) + 1,
        required=False,
        help_text=f'Subscribed types, or ["{TODOS}"]: {", ".join(TIPOS)}.',
    )
    clase = serializers.ChoiceField(choices=ClaseEndpoint.choices, default=ClaseEndpoint.WEBHOOK)
    activo = serializers.BooleanField(default=True)
    descripcion = serializers.CharField(max_length=200, required=False, allow_blank=True)
    marca = serializers.UUIDField(required=False, help_text="Brand users of several marcas; staff.")
    socio = serializers.UUIDField(required=False, help_text="Staff only.")


class EndpointActualizarSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=4096, required=False, trim_whitespace=False)
    eventos = serializers.ListField(
        child=serializers.CharField(max_length=60), max_length=len(TIPOS) + 1, required=False
    )
    activo = serializers.BooleanField(required=False)
    descripcion = serializers.CharField(max_length=200, required=False, allow_blank=True)


class EntregaSerializer(serializers.ModelSerializer):
    class Meta:
        model = EntregaWebhook
        fields = [
            "id",
            "secuencia",
            "tipo",
            "estado",
            "intentos",
            "reenvios",
            "creado_en",
            "ultimo_intento_en",
            "proximo_intento_en",
            "entregada_en",
            "ultimo_estado_http",
            "latencia_ms",
            "respuesta",
            "ultimo_error",
            "datos",
        ]
        read_only_fields = fields


class ReenvioEntradaSerializer(serializers.Serializer):
    desde_secuencia = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    hasta_secuencia = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    desde = serializers.DateTimeField(required=False)
    hasta = serializers.DateTimeField(required=False)


class ReenvioSerializer(serializers.Serializer):
    reenviadas = serializers.IntegerField()
