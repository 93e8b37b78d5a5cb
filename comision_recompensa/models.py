"""Money domain: agreements and their payment rules, commissions, rewards, adjustments, payouts.

Reads events from eventos_medios; eventos_medios never imports this app.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from eventos_medios.models import (
    CODIGOS_MONEDA,
    Evento,
    Marca,
    Plataforma,
    Publicacion,
    Socio,
    TipoEvento,
    TipoSocio,
)

# Socio types paid with a Comision; the rest are paid with a Recompensa (PRODUCT.md §1).
TIPOS_SOCIO_COMISION = frozenset(
    {TipoSocio.AFILIADO, TipoSocio.SOCIO_B2B, TipoSocio.INTEGRADOR_SAAS}
)
TIPOS_SOCIO_RECOMPENSA = frozenset(
    {TipoSocio.INFLUENCER, TipoSocio.CREADOR_CONTENIDO, TipoSocio.EMBAJADOR}
)


class TipoAsociacion(models.TextChoices):
    PROGRAMA_AFILIADOS = "programa_afiliados"
    COLABORACION_DIRECTA = "colaboracion_directa"
    CAMPANIA = "campania"
    PROGRAMA_LEALTAD = "programa_lealtad"
    ALIANZA_B2B = "alianza_b2b"


class Modalidad(models.TextChoices):
    FIJO = "fijo"
    PORCENTAJE = "porcentaje"


class EstadoCredito(models.TextChoices):
    PENDIENTE = "pendiente"
    APROBADA = "aprobada"
    PAGADA = "pagada"
    REVERTIDA = "revertida"
    EN_REVISION = "en_revision"


class EstadoPago(models.TextChoices):
    PENDIENTE = "pendiente"  # waiting to be delivered (or no PAGOS_URL configured)
    RETENIDO = "retenido"  # a compliance control failed: never delivered until it passes/released
    ENVIADO = "enviado"  # accepted by the payments component, waiting for its confirmation
    PAGADO = "pagado"  # confirmed by the signed callback
    FALLIDO = "fallido"  # dead letter: gave up after PAGOS_MAX_INTENTOS; staff can retry


class AsociacionEstrategica(models.Model):
    """A brand–partner agreement: the terms under which the partner is paid."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    marca = models.ForeignKey(Marca, on_delete=models.PROTECT, related_name="asociaciones")
    socio = models.ForeignKey(Socio, on_delete=models.PROTECT, related_name="asociaciones")
    tipo = models.CharField(max_length=24, choices=TipoAsociacion.choices)
    dias_retencion = models.PositiveSmallIntegerField(default=30)
    vigencia_inicio = models.DateField()
    vigencia_fin = models.DateField(null=True, blank=True)
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-vigencia_inicio", "id"]
        verbose_name = "asociación estratégica"
        verbose_name_plural = "asociaciones estratégicas"
        constraints = [
            models.CheckConstraint(
                condition=Q(tipo__in=TipoAsociacion.values), name="asociacion_tipo_valido"
            ),
            models.CheckConstraint(
                condition=Q(vigencia_fin__isnull=True)
                | Q(vigencia_fin__gte=models.F("vigencia_inicio")),
                name="asociacion_vigencia_ordenada",
            ),
            models.CheckConstraint(
                condition=Q(dias_retencion__lte=365), name="asociacion_retencion_max_365"
            ),
        ]
        indexes = [
            models.Index(
                fields=["marca", "socio", "vigencia_inicio"], name="asociacion_vigente_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.marca} ↔ {self.socio} ({self.get_tipo_display()})"


class ReglaPago(models.Model):
    """What one event type pays under an asociacion: a fixed amount or a percentage of valor."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asociacion = models.ForeignKey(
        AsociacionEstrategica, on_delete=models.CASCADE, related_name="reglas"
    )
    tipo_evento = models.CharField(max_length=16, choices=TipoEvento.choices)
    modalidad = models.CharField(max_length=12, choices=Modalidad.choices)
    valor = models.DecimalField(max_digits=12, decimal_places=2)
    moneda = models.CharField(max_length=3)
    tope = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Cap per event."
    )

    class Meta:
        ordering = ["tipo_evento"]
        verbose_name = "regla de pago"
        verbose_name_plural = "reglas de pago"
        constraints = [
            models.UniqueConstraint(
                fields=["asociacion", "tipo_evento"], name="regla_una_por_tipo_evento"
            ),
            models.CheckConstraint(
                condition=Q(tipo_evento__in=TipoEvento.values), name="regla_tipo_evento_valido"
            ),
            models.CheckConstraint(
                condition=Q(modalidad__in=Modalidad.values), name="regla_modalidad_valida"
            ),
            models.CheckConstraint(condition=Q(valor__gte=0), name="regla_valor_no_negativo"),
            models.CheckConstraint(
                condition=~Q(modalidad=Modalidad.PORCENTAJE) | Q(valor__lte=100),
                name="regla_porcentaje_max_100",
            ),
            models.CheckConstraint(
                condition=Q(tope__isnull=True) | Q(tope__gte=0), name="regla_tope_no_negativo"
            ),
            models.CheckConstraint(
                condition=Q(moneda__in=CODIGOS_MONEDA), name="regla_moneda_iso4217"
            ),
        ]

    def __str__(self) -> str:
        unidad = "%" if self.modalidad == Modalidad.PORCENTAJE else f" {self.moneda}"
        return f"{self.tipo_evento}: {self.valor}{unidad}"


class Pago(models.Model):
    """A payout request to the payments component, per (socio, marca, moneda). The row is the
    outbox (PRODUCT.md §4, §9). `marca` is null only on Pagos generated before payouts were
    split per brand (one Pago then mixed every brand's money) and for money of events without
    a brand (the seed's legacy endpoints)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    socio = models.ForeignKey(Socio, on_delete=models.PROTECT, related_name="pagos")
    marca = models.ForeignKey(
        Marca, null=True, blank=True, on_delete=models.PROTECT, related_name="pagos"
    )
    monto = models.DecimalField(max_digits=14, decimal_places=2)
    moneda = models.CharField(max_length=3)
    estado = models.CharField(
        max_length=12, choices=EstadoPago.choices, default=EstadoPago.PENDIENTE
    )
    intentos = models.PositiveIntegerField(default=0)
    ultimo_error = models.TextField(blank=True)
    proximo_intento_en = models.DateTimeField(default=timezone.now)
    enviado_en = models.DateTimeField(null=True, blank=True)
    confirmado_en = models.DateTimeField(null=True, blank=True)
    # Staff released a held Pago: it is delivered even if a control still fails.
    liberado_en = models.DateTimeField(null=True, blank=True)
    liberado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    motivo_liberacion = models.CharField(max_length=500, blank=True)
    # The payout details sent with the first delivery attempt, frozen so that every retry sends
    # the same body under the same Idempotency-Key. Never shown (the reference is not masked).
    beneficiario = models.JSONField(default=dict, blank=True)
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-creado_en", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(estado__in=EstadoPago.values), name="pago_estado_valido"
            ),
            models.CheckConstraint(
                condition=Q(moneda__in=CODIGOS_MONEDA), name="pago_moneda_iso4217"
            ),
            models.CheckConstraint(
                condition=Q(liberado_en__isnull=True) | ~Q(motivo_liberacion=""),
                name="pago_liberacion_con_motivo",
            ),
        ]
        indexes = [
            models.Index(
                fields=["proximo_intento_en"],
                name="pago_por_enviar_idx",
                condition=Q(estado=EstadoPago.PENDIENTE),
            ),
            models.Index(
                fields=["actualizado_en"],
                name="pago_retenido_idx",
                condition=Q(estado=EstadoPago.RETENIDO),
            ),
            models.Index(fields=["socio", "-creado_en"], name="pago_socio_idx"),
            models.Index(fields=["marca", "-creado_en"], name="pago_marca_idx"),
        ]

    def __str__(self) -> str:
        return f"Pago {self.id} · {self.monto} {self.moneda} · {self.estado}"


class Credito(models.Model):
    """What Comision and Recompensa share: one partner's credited share of one event."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    socio = models.ForeignKey(Socio, on_delete=models.PROTECT, related_name="+")
    evento = models.ForeignKey(Evento, on_delete=models.PROTECT, related_name="+")
    asociacion = models.ForeignKey(
        AsociacionEstrategica, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    regla = models.ForeignKey(
        ReglaPago, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The partner's share of the event (0–1). The API and the CSV exports call it `credito`.
    participacion = models.DecimalField(
        max_digits=7, decimal_places=6, help_text="Share of the event credited (0–1)."
    )
    monto = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    moneda = models.CharField(max_length=3, blank=True)
    estado = models.CharField(
        max_length=12, choices=EstadoCredito.choices, default=EstadoCredito.PENDIENTE
    )
    detalle_atribucion = models.JSONField(default=dict)
    pago = models.ForeignKey(
        Pago, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    motivo_reversion = models.CharField(max_length=300, blank=True)
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)
    aprobado_en = models.DateTimeField(null=True, blank=True)
    pagado_en = models.DateTimeField(null=True, blank=True)
    revertido_en = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-creado_en", "id"]

    @classmethod
    def restricciones(cls, prefijo: str) -> list[models.BaseConstraint]:
        """Constraints shared by Comision and Recompensa, named per table."""
        return [
            # One live credit per (event, partner): a second credit is impossible.
            models.UniqueConstraint(
                fields=["evento", "socio"],
                condition=~Q(estado=EstadoCredito.REVERTIDA),
                name=f"{prefijo}_una_por_evento_socio",
            ),
            models.CheckConstraint(condition=Q(monto__gte=0), name=f"{prefijo}_monto_no_negativo"),
            # (Named before the field was renamed from `credito`; database names stay.)
            models.CheckConstraint(
                condition=Q(participacion__gte=0) & Q(participacion__lte=1),
                name=f"{prefijo}_credito_0_1",
            ),
            models.CheckConstraint(
                condition=Q(estado__in=EstadoCredito.values), name=f"{prefijo}_estado_valido"
            ),
            models.CheckConstraint(
                condition=Q(moneda="") | Q(moneda__in=CODIGOS_MONEDA),
                name=f"{prefijo}_moneda_iso4217",
            ),
        ]

    @classmethod
    def indices(cls, prefijo: str) -> list[models.Index]:
        return [
            models.Index(fields=["socio", "estado", "-creado_en"], name=f"{prefijo}_socio_idx"),
            # The partner portal's list, newest first, paginated by (creado_en, id).
            models.Index(fields=["socio", "-creado_en", "-id"], name=f"{prefijo}_socio_fecha_idx"),
            models.Index(fields=["estado", "creado_en"], name=f"{prefijo}_estado_idx"),
            models.Index(fields=["evento"], name=f"{prefijo}_evento_idx"),
        ]


class Comision(Credito):
    """Money owed to an afiliado, socio_b2b or integrador_saas for one event."""

    class Meta(Credito.Meta):
        verbose_name = "comisión"
        verbose_name_plural = "comisiones"
        constraints = Credito.restricciones("comision")
        indexes = Credito.indices("comision")

    def __str__(self) -> str:
        return f"Comisión {self.monto} {self.moneda} · {self.estado}"


class Recompensa(Credito):
    """A reward owed to an influencer, creador_contenido or embajador for one event."""

    descripcion = models.CharField(max_length=300, blank=True)

    class Meta(Credito.Meta):
        verbose_name = "recompensa"
        verbose_name_plural = "recompensas"
        constraints = Credito.restricciones("recompensa")
        indexes = Credito.indices("recompensa")

    def __str__(self) -> str:
        return f"Recompensa {self.monto} {self.moneda} · {self.estado}"


class Ajuste(models.Model):
    """A signed correction to a partner's next Pago (a clawback after a paid item is reversed,
    or the delta of a re-attribution that touched a paid item)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    socio = models.ForeignKey(Socio, on_delete=models.PROTECT, related_name="ajustes")
    # The brand's programme the correction belongs to (that of the credit's event): it is
    # deducted from that brand's next Pago. Null: no brand (legacy events).
    marca = models.ForeignKey(
        Marca, null=True, blank=True, on_delete=models.PROTECT, related_name="ajustes"
    )
    monto = models.DecimalField(max_digits=14, decimal_places=2)
    moneda = models.CharField(max_length=3)
    motivo = models.CharField(max_length=300)
    comision = models.ForeignKey(
        Comision, null=True, blank=True, on_delete=models.PROTECT, related_name="ajustes"
    )
    recompensa = models.ForeignKey(
        Recompensa, null=True, blank=True, on_delete=models.PROTECT, related_name="ajustes"
    )
    pago = models.ForeignKey(
        Pago, null=True, blank=True, on_delete=models.PROTECT, related_name="ajustes"
    )
    creado_en = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-creado_en", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(moneda__in=CODIGOS_MONEDA), name="ajuste_moneda_iso4217"
            ),
            models.CheckConstraint(
                condition=~(Q(comision__isnull=False) & Q(recompensa__isnull=False)),
                name="ajuste_un_origen",
            ),
        ]

    def __str__(self) -> str:
        return f"Ajuste {self.monto} {self.moneda}: {self.motivo}"


class ControlCumplimiento(models.Model):
    """The latest result of one compliance control on one Pago (PRODUCT.md §9). Evaluated
    before delivery (`pagos.cumplimiento`); a Pago failing any control is `retenido`."""

    id = models.BigAutoField(primary_key=True)
    pago = models.ForeignKey(Pago, on_delete=models.CASCADE, related_name="controles")
    control = models.CharField(max_length=40)
    paso = models.BooleanField()
    detalle = models.CharField(max_length=500, blank=True)
    evaluado_en = models.DateTimeField()

    class Meta:
        ordering = ["pago", "control"]
        verbose_name = "control de cumplimiento"
        verbose_name_plural = "controles de cumplimiento"
        constraints = [
            models.UniqueConstraint(fields=["pago", "control"], name="control_uno_por_pago"),
        ]

    def __str__(self) -> str:
        return f"{self.control}: {'ok' if self.paso else 'failed'}"


class Contrato(models.Model):
    """One version of the terms of an AsociacionEstrategica (PRODUCT.md §9).

    A draft (`publicado_en` null) is staff's work in progress: editable, invisible to
    partners and brands. Publishing freezes it (new text = new version). The version in force
    is the published one with the highest number whose `vigente_desde` has come; a later
    published version is `programado` until its date, and may be accepted ahead of it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asociacion = models.ForeignKey(
        AsociacionEstrategica, on_delete=models.PROTECT, related_name="contratos"
    )
    version = models.PositiveIntegerField()
    texto = models.TextField()
    hash_texto = models.CharField(max_length=64, help_text="SHA-256 of the text (hex).")
    vigente_desde = models.DateField()
    publicado_en = models.DateTimeField(null=True, blank=True)
    publicado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    creado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["asociacion", "-version"]
        verbose_name = "contrato"
        verbose_name_plural = "contratos"
        constraints = [
            models.UniqueConstraint(
                fields=["asociacion", "version"], name="contrato_version_unica"
            ),
            models.UniqueConstraint(
                fields=["asociacion"],
                condition=Q(publicado_en__isnull=True),
                name="contrato_un_borrador",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="contrato_version_positiva"),
            models.CheckConstraint(condition=~Q(texto=""), name="contrato_texto_no_vacio"),
        ]

    def __str__(self) -> str:
        estado = "" if self.publicado_en else " (draft)"
        return f"Contrato v{self.version}{estado} · {self.asociacion_id}"


class AceptacionContrato(models.Model):
    """A partner accepted one contract version: who, when, from which IP (salted hash only)
    and a SHA-256 of the text it accepted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contrato = models.ForeignKey(Contrato, on_delete=models.PROTECT, related_name="aceptaciones")
    socio = models.ForeignKey(Socio, on_delete=models.PROTECT, related_name="aceptaciones")
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    aceptado_en = models.DateTimeField(default=timezone.now)
    ip_hash = models.CharField(max_length=64, blank=True)
    hash_texto = models.CharField(max_length=64)

    class Meta:
        ordering = ["-aceptado_en", "id"]
        verbose_name = "aceptación de contrato"
        verbose_name_plural = "aceptaciones de contrato"
        constraints = [
            models.UniqueConstraint(
                fields=["contrato", "socio"], name="aceptacion_una_por_contrato_socio"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.socio_id} accepted {self.contrato_id} at {self.aceptado_en:%Y-%m-%d %H:%M}"


class MetodoPago(models.TextChoices):
    TRANSFERENCIA = "transferencia"
    PAYPAL = "paypal"
    OTRO = "otro"


class PerfilPago(models.Model):
    """Where a partner is paid (PRODUCT.md §9). May be incomplete (the `datos_pago` control
    holds its Pagos until it is complete). `referencia` (IBAN or e-mail) is shown masked
    everywhere; only staff reveal it, deliberately (and that is recorded)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    socio = models.OneToOneField(Socio, on_delete=models.PROTECT, related_name="perfil_pago")
    titular = models.CharField(max_length=200, blank=True)
    metodo = models.CharField(max_length=16, choices=MetodoPago.choices, blank=True)
    referencia = models.CharField(max_length=254, blank=True)
    pais = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    identificacion_fiscal = models.CharField(max_length=64, blank=True)
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "perfil de pago"
        verbose_name_plural = "perfiles de pago"
        constraints = [
            models.CheckConstraint(
                condition=Q(metodo="") | Q(metodo__in=MetodoPago.values),
                name="perfil_pago_metodo_valido",
            ),
        ]

    def __str__(self) -> str:
        # Never the reference: this string reaches logs and admin pages.
        return f"Perfil de pago de {self.socio_id} ({self.metodo or 'sin método'})"


class EjecucionReatribucion(models.Model):
    """One run of `reatribuir`: its parameters, progress checkpoint (resumable) and balance."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    parametros = models.JSONField(default=dict)
    dry_run = models.BooleanField(default=False)
    iniciada_en = models.DateTimeField(auto_now_add=True)
    terminada_en = models.DateTimeField(null=True, blank=True)
    # Resume point: the last (ocurrido_en, id) fully processed.
    cursor_ocurrido_en = models.DateTimeField(null=True, blank=True)
    cursor_evento_id = models.UUIDField(null=True, blank=True)
    eventos_procesados = models.PositiveIntegerField(default=0)
    # What the run changed so far (`reatribucion.BalanceReatribucion.como_dict`).
    balance = models.JSONField(default=dict)
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-iniciada_en"]
        verbose_name = "ejecución de reatribución"
        verbose_name_plural = "ejecuciones de reatribución"

    def __str__(self) -> str:
        return f"Reatribución {self.iniciada_en:%Y-%m-%d %H:%M} ({self.eventos_procesados} eventos)"


class CambioAtribucion(models.Model):
    """Audit trail: one change to a credit made by a re-attribution (or a reversal)."""

    class Accion(models.TextChoices):
        CREADA = "creada"
        CAMBIADA = "cambiada"
        REVERTIDA = "revertida"
        AJUSTE = "ajuste"

    id = models.BigAutoField(primary_key=True)
    ejecucion = models.ForeignKey(
        EjecucionReatribucion,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cambios",
    )
    evento = models.ForeignKey(Evento, on_delete=models.PROTECT, related_name="+")
    socio = models.ForeignKey(Socio, on_delete=models.PROTECT, related_name="+")
    accion = models.CharField(max_length=12, choices=Accion.choices)
    monto_anterior = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    monto_nuevo = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    moneda = models.CharField(max_length=3, blank=True)
    detalle = models.JSONField(default=dict)
    creado_en = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-creado_en", "-id"]
        verbose_name = "cambio de atribución"
        verbose_name_plural = "cambios de atribución"
        indexes = [models.Index(fields=["evento"], name="cambio_evento_idx")]

    def __str__(self) -> str:
        return f"{self.accion}: {self.monto_anterior} → {self.monto_nuevo} {self.moneda}"


class ResumenDiario(models.Model):
    """Daily rollup of events per (dia, socio, marca, tipo), derived data for the reports.

    Rebuilt a whole UTC day at a time by `reportes.resumen_diario.resumen_refrescar` (never
    edited row by row); a day is read from here only while its `DiaResumido` row says it is
    current.
    `clicks_unicos` is the distinct visitors among the day's live clicks of that socio and
    marca (see `reportes/consultas.py`), so it adds up across days, socios and marcas."""

    id = models.BigAutoField(primary_key=True)
    dia = models.DateField()
    socio = models.ForeignKey(
        Socio, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    marca = models.ForeignKey(
        Marca, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tipo = models.CharField(max_length=16, choices=TipoEvento.choices)
    eventos = models.PositiveIntegerField(default=0, help_text="Not discarded.")
    descartados = models.PositiveIntegerField(default=0)
    clicks_unicos = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dia", "id"]
        verbose_name = "resumen diario"
        verbose_name_plural = "resúmenes diarios"
        indexes = [
            models.Index(fields=["socio", "dia"], name="resumen_socio_dia_idx"),
            models.Index(fields=["marca", "dia"], name="resumen_marca_dia_idx"),
            models.Index(fields=["dia"], name="resumen_dia_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dia} {self.tipo}: {self.eventos}"


class ResumenDinero(models.Model):
    """Daily rollup of comisiones and recompensas per (dia of their event, socio credited,
    marca and publicacion of the event, clase, moneda, estado): count and amount. Rebuilt with
    `ResumenDiario`, under the same `DiaResumido` row."""

    class Clase(models.TextChoices):
        COMISION = "comision"
        RECOMPENSA = "recompensa"

    id = models.BigAutoField(primary_key=True)
    dia = models.DateField()
    socio = models.ForeignKey(Socio, on_delete=models.CASCADE, related_name="+")
    marca = models.ForeignKey(
        Marca, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    publicacion = models.ForeignKey(
        "eventos_medios.Publicacion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    clase = models.CharField(max_length=10, choices=Clase.choices)
    moneda = models.CharField(max_length=3, blank=True)
    estado = models.CharField(max_length=12, choices=EstadoCredito.choices)
    cantidad = models.PositiveIntegerField(default=0)
    monto = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering = ["dia", "id"]
        verbose_name = "resumen de dinero"
        verbose_name_plural = "resúmenes de dinero"
        indexes = [
            models.Index(fields=["socio", "dia"], name="resumendinero_socio_dia_idx"),
            models.Index(fields=["marca", "dia"], name="resumendinero_marca_dia_idx"),
            models.Index(fields=["dia"], name="resumendinero_dia_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dia} {self.clase} {self.estado}: {self.monto} {self.moneda}"


class DiaResumido(models.Model):
    """One UTC day whose `ResumenDiario` rows are current. Deleting the row (an event of that
    day was attributed after the refresh) sends reports back to the live events for that day
    until the next refresh rebuilds it."""

    dia = models.DateField(primary_key=True)
    refrescado_en = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dia"]
        verbose_name = "día resumido"
        verbose_name_plural = "días resumidos"

    def __str__(self) -> str:
        return f"{self.dia} ({self.refrescado_en or 'en curso'})"


class ResumenPublicacion(models.Model):
    """Daily rollup of clicks per publicacion (its tracking link): the partner portal's link
    counts. Rebuilt with `ResumenDiario`, under the same `DiaResumido` row. `clicks` leaves out
    discarded clicks (bots, duplicates, HEAD); `clicks_unicos` counts distinct visitors of that
    day and link, as `ResumenDiario.clicks_unicos` does per partner and brand."""

    id = models.BigAutoField(primary_key=True)
    dia = models.DateField()
    publicacion = models.ForeignKey(Publicacion, on_delete=models.CASCADE, related_name="+")
    socio = models.ForeignKey(
        Socio, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    marca = models.ForeignKey(
        Marca, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    clicks = models.PositiveIntegerField(default=0)
    clicks_unicos = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dia", "id"]
        verbose_name = "resumen por publicación"
        verbose_name_plural = "resúmenes por publicación"
        indexes = [
            models.Index(fields=["publicacion", "dia"], name="resumenpub_pub_dia_idx"),
            models.Index(fields=["dia"], name="resumenpub_dia_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dia} {self.publicacion_id}: {self.clicks}"


# --- Onboarding: default terms, applications ---------------------------------------------------


class TerminosPorDefecto(models.Model):
    """The terms a marca offers to the partners it accepts through its public application form
    (PRODUCT.md §12): approving an application creates an asociacion from them
    (`asociaciones.terminos.asociacion_desde_terminos`). `texto_contrato` becomes the
    agreement's first contract version once contracts exist."""

    marca = models.OneToOneField(
        Marca, on_delete=models.CASCADE, primary_key=True, related_name="terminos_por_defecto"
    )
    tipo = models.CharField(
        max_length=24, choices=TipoAsociacion.choices, default=TipoAsociacion.PROGRAMA_AFILIADOS
    )
    dias_retencion = models.PositiveSmallIntegerField(default=30)
    texto_contrato = models.TextField(blank=True)
    acepta_solicitudes = models.BooleanField(
        default=True, help_text="The public application form is open."
    )
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "términos por defecto"
        verbose_name_plural = "términos por defecto"
        constraints = [
            models.CheckConstraint(
                condition=Q(tipo__in=TipoAsociacion.values), name="terminos_tipo_valido"
            ),
            models.CheckConstraint(
                condition=Q(dias_retencion__lte=365), name="terminos_retencion_max_365"
            ),
        ]

    def __str__(self) -> str:
        return f"Términos de {self.marca}"


class ReglaTerminos(models.Model):
    """A payment rule of a marca's default terms: copied as a `ReglaPago` (same fields) into
    every asociacion created from them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    terminos = models.ForeignKey(
        TerminosPorDefecto, on_delete=models.CASCADE, related_name="reglas"
    )
    tipo_evento = models.CharField(max_length=16, choices=TipoEvento.choices)
    modalidad = models.CharField(max_length=12, choices=Modalidad.choices)
    valor = models.DecimalField(max_digits=12, decimal_places=2)
    moneda = models.CharField(max_length=3)
    tope = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Cap per event."
    )

    class Meta:
        ordering = ["tipo_evento"]
        verbose_name = "regla de los términos"
        verbose_name_plural = "reglas de los términos"
        constraints = [
            models.UniqueConstraint(
                fields=["terminos", "tipo_evento"], name="reglaterminos_una_por_tipo_evento"
            ),
            models.CheckConstraint(
                condition=Q(tipo_evento__in=TipoEvento.values),
                name="reglaterminos_tipo_evento_valido",
            ),
            models.CheckConstraint(
                condition=Q(modalidad__in=Modalidad.values), name="reglaterminos_modalidad_valida"
            ),
            models.CheckConstraint(
                condition=Q(valor__gte=0), name="reglaterminos_valor_no_negativo"
            ),
            models.CheckConstraint(
                condition=~Q(modalidad=Modalidad.PORCENTAJE) | Q(valor__lte=100),
                name="reglaterminos_porcentaje_max_100",
            ),
            models.CheckConstraint(
                condition=Q(tope__isnull=True) | Q(tope__gte=0),
                name="reglaterminos_tope_no_negativo",
            ),
            models.CheckConstraint(
                condition=Q(moneda__in=CODIGOS_MONEDA), name="reglaterminos_moneda_iso4217"
            ),
        ]

    def __str__(self) -> str:
        unidad = "%" if self.modalidad == Modalidad.PORCENTAJE else f" {self.moneda}"
        return f"{self.tipo_evento}: {self.valor}{unidad}"


class Idioma(models.TextChoices):
    """Languages of the partner portal and its e-mails (Spanish first: the default)."""

    ES = "es", "Español"
    EN = "en", "English"


class EstadoSolicitud(models.TextChoices):
    PENDIENTE = "pendiente"
    APROBADA = "aprobada"
    RECHAZADA = "rechazada"


class Solicitud(models.Model):
    """An application to join a marca's programme, sent through its public form. Staff approve
    (socio, user, asociacion and invitation in one transaction) or reject it in the admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    marca = models.ForeignKey(Marca, on_delete=models.PROTECT, related_name="solicitudes")
    nombre = models.CharField(max_length=200)
    email = models.EmailField(help_text="Stored lower-case.")
    tipo_socio = models.CharField(max_length=20, choices=TipoSocio.choices)
    medio_plataforma = models.CharField(max_length=16, choices=Plataforma.choices)
    medio_url = models.URLField(max_length=500, blank=True)
    mensaje = models.TextField(blank=True)
    acepta_terminos = models.BooleanField()
    idioma = models.CharField(max_length=8, choices=Idioma.choices, default=Idioma.ES)
    estado = models.CharField(
        max_length=12, choices=EstadoSolicitud.choices, default=EstadoSolicitud.PENDIENTE
    )
    motivo_rechazo = models.CharField(
        max_length=500, blank=True, help_text="Sent to the applicant in the rejection e-mail."
    )
    ip_hash = models.CharField(max_length=64, blank=True)
    creado_en = models.DateTimeField(default=timezone.now)
    resuelta_en = models.DateTimeField(null=True, blank=True)
    resuelta_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    socio = models.ForeignKey(
        Socio, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-creado_en", "id"]
        verbose_name = "solicitud"
        verbose_name_plural = "solicitudes"
        constraints = [
            models.CheckConstraint(
                condition=Q(estado__in=EstadoSolicitud.values), name="solicitud_estado_valido"
            ),
            models.CheckConstraint(
                condition=Q(tipo_socio__in=TipoSocio.values), name="solicitud_tipo_valido"
            ),
            models.CheckConstraint(
                condition=Q(acepta_terminos=True), name="solicitud_terminos_aceptados"
            ),
            # One open application per person and programme: a resubmission adds nothing.
            models.UniqueConstraint(
                fields=["marca", "email"],
                condition=Q(estado=EstadoSolicitud.PENDIENTE),
                name="solicitud_una_pendiente_por_email",
            ),
        ]
        indexes = [models.Index(fields=["estado", "-creado_en"], name="solicitud_estado_idx")]

    def __str__(self) -> str:
        return f"{self.nombre} <{self.email}> → {self.marca} ({self.estado})"


# --- E-mail outbox -----------------------------------------------------------------------------


class TipoCorreo(models.TextChoices):
    SOLICITUD_RECIBIDA = "solicitud_recibida"
    INVITACION = "invitacion"  # the application was approved: set your password
    SOLICITUD_RECHAZADA = "solicitud_rechazada"
    CREDITO_APROBADO = "credito_aprobado"
    PAGO_ENVIADO = "pago_enviado"
    CONTRATO_PUBLICADO = "contrato_publicado"
    CLAVE_RESTABLECER = "clave_restablecer"


# What a partner may unsubscribe from; everything else always goes (PRODUCT.md §12).
TIPOS_CORREO_OPCIONALES = frozenset({TipoCorreo.CREDITO_APROBADO, TipoCorreo.PAGO_ENVIADO})
# Their bodies carry a one-time password link: blanked once sent (the row outlives the link).
TIPOS_CORREO_CON_ENLACE_SECRETO = frozenset({TipoCorreo.INVITACION, TipoCorreo.CLAVE_RESTABLECER})


class EstadoCorreo(models.TextChoices):
    PENDIENTE = "pendiente"  # waiting to be sent (or retried after a failure)
    ENVIADO = "enviado"  # handed to the e-mail backend
    FALLIDO = "fallido"  # dead letter after CORREO_MAX_INTENTOS attempts; staff can retry


class CorreoSaliente(models.Model):
    """One e-mail to send: the outbox row, written in the transaction of the change it tells
    about and sent by `correos.envio` (claimed, never sent twice, retried with backoff)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tipo = models.CharField(max_length=24, choices=TipoCorreo.choices)
    destinatario = models.EmailField(max_length=254)
    asunto = models.CharField(max_length=300)
    cuerpo_texto = models.TextField()
    cuerpo_html = models.TextField(blank=True)
    cabeceras = models.JSONField(default=dict, blank=True)
    idioma = models.CharField(max_length=8, choices=Idioma.choices, default=Idioma.ES)
    socio = models.ForeignKey(
        Socio, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    estado = models.CharField(
        max_length=12, choices=EstadoCorreo.choices, default=EstadoCorreo.PENDIENTE
    )
    intentos = models.PositiveIntegerField(default=0)
    proximo_intento_en = models.DateTimeField(default=timezone.now)
    enviado_en = models.DateTimeField(null=True, blank=True)
    ultimo_error = models.TextField(blank=True)
    clave_idempotencia = models.CharField(max_length=200, unique=True)
    creado_en = models.DateTimeField(default=timezone.now)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-creado_en", "id"]
        verbose_name = "correo saliente"
        verbose_name_plural = "correos salientes"
        constraints = [
            models.CheckConstraint(
                condition=Q(estado__in=EstadoCorreo.values), name="correo_estado_valido"
            ),
            models.CheckConstraint(
                condition=Q(tipo__in=TipoCorreo.values), name="correo_tipo_valido"
            ),
        ]
        indexes = [
            models.Index(
                fields=["proximo_intento_en"],
                name="correo_por_enviar_idx",
                condition=Q(estado=EstadoCorreo.PENDIENTE),
            ),
            models.Index(fields=["socio", "-creado_en"], name="correo_socio_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tipo} → {self.destinatario} ({self.estado})"


class PreferenciasSocio(models.Model):
    """A partner's portal language (also its e-mails') and the optional e-mails it wants."""

    socio = models.OneToOneField(
        Socio, on_delete=models.CASCADE, primary_key=True, related_name="preferencias"
    )
    idioma = models.CharField(max_length=8, choices=Idioma.choices, default=Idioma.ES)
    correo_creditos = models.BooleanField(
        default=True, help_text="E-mail when a commission or reward is approved."
    )
    correo_pagos = models.BooleanField(default=True, help_text="E-mail when a payout is sent.")
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "preferencias del socio"
        verbose_name_plural = "preferencias de los socios"

    def __str__(self) -> str:
        return f"Preferencias de {self.socio_id}"


# Webhook endpoints and deliveries live in their subdomain's module, registered with this app.
from comision_recompensa.webhooks.modelos import (  # noqa: E402, F401
    ClaseEndpoint,
    EndpointWebhook,
    EntregaWebhook,
    EstadoEntrega,
)
