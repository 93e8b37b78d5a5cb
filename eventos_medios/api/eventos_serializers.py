"""Serializers of the eventos API.

Output: `EventoSerializer` (list/retrieve). Ingestion validates by hand in
`eventos_medios.services.ingesta` (lean, set-based, hot path); the input serializers below only
document the request bodies in the OpenAPI schema and are never run per item.
"""

from __future__ import annotations

from rest_framework import serializers

from eventos_medios import almacen
from eventos_medios.models import (
    CODIGOS_MONEDA,
    Evento,
    MotivoAtribucion,
    MotivoDescarte,
    OrigenVisitante,
    TipoEvento,
)


class EventoSerializer(serializers.ModelSerializer[Evento]):
    """An event as the API shows it (ip_hash and huella are never exposed)."""

    marca = serializers.UUIDField(source="marca_id", read_only=True, allow_null=True)
    publicacion = serializers.UUIDField(source="publicacion_id", read_only=True, allow_null=True)
    socio = serializers.UUIDField(source="socio_id", read_only=True, allow_null=True)
    click_id = serializers.UUIDField(read_only=True, allow_null=True)
    # Blank unless descartado: declared so the schema allows "" (a read-only model field
    # loses allow_blank).
    motivo_descarte = serializers.ChoiceField(
        choices=MotivoDescarte.choices, allow_blank=True, read_only=True
    )
    origen_visitante = serializers.ChoiceField(
        choices=OrigenVisitante.choices,
        allow_blank=True,
        read_only=True,
        help_text="Where visitante_id came from: 'marca' (sent or bound by the brand's "
        "back-end: a touchpoint of that visitor), 'enlace' (a tracking link's apc_vid, before "
        "that stopped counting), or empty (no visitante_id).",
    )
    motivo_atribucion = serializers.ChoiceField(
        choices=MotivoAtribucion.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why nobody was credited, when a rule decided it: the marca or the only "
        "partners it named are deactivated.",
    )

    class Meta:
        model = Evento
        # The public columns, named as the API names them (eventos_medios.almacen).
        fields = almacen.CAMPOS_API
        read_only_fields = fields


class EventoEntradaSerializer(serializers.Serializer[dict[str, object]]):
    """Body of `POST /api/v1/eventos/` (documentation; validation is in the service)."""

    id = serializers.UUIDField(
        required=False, help_text="Idempotency key: same id + same body returns the stored event."
    )
    tipo = serializers.ChoiceField(choices=TipoEvento.choices)
    ocurrido_en = serializers.DateTimeField(
        required=False,
        help_text="Defaults to now; at most 5 minutes in the future and at most "
        "EVENTOS_ANTIGUEDAD_MAXIMA_DIAS (default 400) days in the past.",
    )
    marca = serializers.UUIDField(
        required=False, help_text="Required unless your user sends for exactly one marca."
    )
    publicacion = serializers.UUIDField(required=False, allow_null=True)
    codigo_referido = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="The referral code of a partner with an agreement with this marca (any other "
        "code, known or not, is a 400 with the same message).",
    )
    click_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="The click event this event follows."
    )
    visitante_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=128,
        help_text="The visitor, as your back-end knows it. With click_id as well, it binds "
        "that tracking-link click to this visitor (the first binding wins), so later "
        "conversions of the visitor find it as a touchpoint.",
    )
    valor = serializers.DecimalField(
        required=False,
        allow_null=True,
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text="Plain ASCII digits, an optional '.' and at most two decimals, as a string "
        "(advised) or a JSON number without exponent.",
    )
    moneda = serializers.ChoiceField(
        choices=[(c, c) for c in CODIGOS_MONEDA],
        required=False,
        allow_blank=True,
        help_text="An active ISO 4217 currency (no testing, metal or fund codes); required "
        "with valor.",
    )
    referencia_externa = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Required for a venta; unique per (marca, referencia_externa).",
    )
    metadata = serializers.DictField(required=False, help_text="JSON object, at most 8 KB.")


class LoteEntradaSerializer(serializers.Serializer[dict[str, object]]):
    """Body of `POST /api/v1/eventos/lote/`."""

    eventos = EventoEntradaSerializer(many=True, help_text="1 to 1,000 events.")


class ResultadoLoteItemSerializer(serializers.Serializer[dict[str, object]]):
    id = serializers.UUIDField()
    estado = serializers.ChoiceField(choices=[("creado", "creado"), ("existente", "existente")])


class ResultadoLoteSerializer(serializers.Serializer[dict[str, object]]):
    creados = serializers.IntegerField()
    existentes = serializers.IntegerField()
    resultados = ResultadoLoteItemSerializer(many=True)
