"""Webhook endpoints and their outbox of deliveries (PRODUCT.md §10). Imported by
`comision_recompensa.models` (one app, one migration history)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from eventos_medios.models import Marca, Socio


class ClaseEndpoint(models.TextChoices):
    WEBHOOK = "webhook"  # signed JSON POSTs of the subscribed types
    POSTBACK = "postback"  # a partner's GET to a URL template when it is credited


class EstadoEntrega(models.TextChoices):
    PENDIENTE = "pendiente"  # waiting for its (next) attempt
    ENTREGADA = "entregada"  # the endpoint answered 2xx
    FALLIDA = "fallida"  # dead letter: no 2xx within the retry window; replay to retry
    RETENIDA = "retenida"  # a postback of a credit under review: waits for the decision
    CANCELADA = "cancelada"  # a postback of a credit reversed before it was sent


class EndpointWebhook(models.Model):
    """Where a brand (for its programme) or a partner (for itself) receives events.

    `secuencia_actual` is the endpoint's delivery counter: each new delivery takes the next
    number with `UPDATE … SET secuencia_actual = secuencia_actual + 1 … RETURNING` in the
    transaction of the change, so numbers are gap-free and a rolled-back change takes none.
    The secret signs deliveries; it is shown once (creation, rotation) and never returned
    again. After a rotation the previous secret keeps signing until `secreto_anterior_expira_en`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clase = models.CharField(
        max_length=10, choices=ClaseEndpoint.choices, default=ClaseEndpoint.WEBHOOK
    )
    marca = models.ForeignKey(
        Marca, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    socio = models.ForeignKey(
        Socio, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    url = models.CharField(max_length=2048, help_text="https URL (a URL template for postbacks).")
    eventos = models.JSONField(default=list, blank=True, help_text="Subscribed types, or ['*'].")
    activo = models.BooleanField(default=True)
    descripcion = models.CharField(max_length=200, blank=True)
    secreto = models.CharField(max_length=80, editable=False)
    secreto_anterior = models.CharField(max_length=80, blank=True, editable=False)
    secreto_anterior_expira_en = models.DateTimeField(null=True, blank=True, editable=False)
    secuencia_actual = models.BigIntegerField(default=0, editable=False)
    creado_en = models.DateTimeField(default=timezone.now, editable=False)
    actualizado_en = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-creado_en", "id"]
        verbose_name = "endpoint de webhook"
        verbose_name_plural = "endpoints de webhook"
        constraints = [
            models.CheckConstraint(
                condition=(Q(marca__isnull=False) & Q(socio__isnull=True))
                | (Q(marca__isnull=True) & Q(socio__isnull=False)),
                name="webhook_un_dueno",
            ),
            models.CheckConstraint(
                condition=Q(clase__in=ClaseEndpoint.values), name="webhook_clase_valida"
            ),
            models.CheckConstraint(
                condition=~Q(clase=ClaseEndpoint.POSTBACK) | Q(socio__isnull=False),
                name="webhook_postback_de_socio",
            ),
            models.CheckConstraint(
                condition=Q(secuencia_actual__gte=0), name="webhook_secuencia_no_negativa"
            ),
        ]
        indexes = [
            models.Index(fields=["marca", "activo"], name="webhook_marca_idx"),
            models.Index(fields=["socio", "activo"], name="webhook_socio_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.clase} {self.url[:60]}"


class EntregaWebhook(models.Model):
    """One delivery of one event to one endpoint: the outbox row, written in the transaction of
    the change. Its id is the `Idempotency-Key` and `X-Alpes-Entrega` of every attempt and
    replay; the last attempt's outcome is kept on the row (the endpoint's delivery log)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(EndpointWebhook, on_delete=models.CASCADE, related_name="+")
    secuencia = models.BigIntegerField()
    tipo = models.CharField(max_length=40)
    datos = models.JSONField(default=dict)
    # Postbacks: the URL expanded from the template when the delivery was written.
    url = models.CharField(max_length=4096, blank=True)
    # The credit a delivery is about, when it is (postbacks wait for its review).
    credito_clase = models.CharField(max_length=10, blank=True)
    credito_id = models.UUIDField(null=True, blank=True)
    estado = models.CharField(
        max_length=10, choices=EstadoEntrega.choices, default=EstadoEntrega.PENDIENTE
    )
    intentos = models.PositiveIntegerField(default=0)
    reenvios = models.PositiveIntegerField(default=0)
    creado_en = models.DateTimeField(default=timezone.now)
    # Start of the retry window (creation, or the last replay): dead letter after it.
    ventana_desde = models.DateTimeField(default=timezone.now)
    proximo_intento_en = models.DateTimeField(default=timezone.now)
    ultimo_intento_en = models.DateTimeField(null=True, blank=True)
    entregada_en = models.DateTimeField(null=True, blank=True)
    ultimo_estado_http = models.PositiveSmallIntegerField(null=True, blank=True)
    latencia_ms = models.PositiveIntegerField(null=True, blank=True)
    respuesta = models.CharField(max_length=1024, blank=True, help_text="First 1 KB.")
    ultimo_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["endpoint", "-secuencia"]
        verbose_name = "entrega de webhook"
        verbose_name_plural = "entregas de webhook"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "secuencia"], name="entrega_secuencia_unica"
            ),
            models.CheckConstraint(
                condition=Q(estado__in=EstadoEntrega.values), name="entrega_estado_valido"
            ),
            models.CheckConstraint(condition=Q(secuencia__gte=1), name="entrega_secuencia_pos"),
        ]
        indexes = [
            models.Index(
                fields=["proximo_intento_en"],
                name="entrega_por_enviar_idx",
                condition=Q(estado=EstadoEntrega.PENDIENTE),
            ),
            models.Index(fields=["endpoint", "creado_en"], name="entrega_endpoint_fecha_idx"),
            models.Index(
                fields=["credito_id"],
                name="entrega_credito_idx",
                condition=Q(credito_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tipo} #{self.secuencia} · {self.estado}"
