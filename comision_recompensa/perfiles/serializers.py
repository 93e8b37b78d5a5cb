"""Serializers of the payout-profile API. The reference only ever leaves masked, except in
the reveal response (staff)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from comision_recompensa.models import MetodoPago


class PerfilPagoEntradaSerializer(serializers.Serializer[Any]):
    """Types only; the rules (IBAN, e-mail, country) are the service's, with the field named."""

    titular = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    metodo = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    referencia = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="IBAN or PayPal e-mail."
    )
    pais = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    identificacion_fiscal = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class PerfilPagoSerializer(serializers.Serializer[Any]):
    socio = serializers.UUIDField()
    titular = serializers.CharField()
    metodo = serializers.ChoiceField(choices=[("", "—"), *MetodoPago.choices])
    referencia_enmascarada = serializers.CharField(
        help_text="The reference, masked (IBAN: country and last four; e-mail: first letter "
        "and domain)."
    )
    pais = serializers.CharField()
    identificacion_fiscal = serializers.CharField()
    completo = serializers.BooleanField(help_text="Every field present and valid.")
    faltan = serializers.ListField(child=serializers.CharField())
    invalidos = serializers.ListField(child=serializers.CharField())
    actualizado_en = serializers.DateTimeField(allow_null=True)


class RevelarEntradaSerializer(serializers.Serializer[Any]):
    motivo = serializers.CharField(required=False, allow_blank=True, max_length=300)


class PerfilPagoReveladoSerializer(serializers.Serializer[Any]):
    socio = serializers.UUIDField()
    titular = serializers.CharField()
    metodo = serializers.CharField()
    referencia = serializers.CharField(help_text="In clear: this response is recorded.")
    pais = serializers.CharField()
    identificacion_fiscal = serializers.CharField()
