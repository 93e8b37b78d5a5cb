"""Tracking domain: partners, brands, their media and publications, and tracked events.

This app knows nothing of money (see comision_recompensa). Rules that must never break are
database constraints, not only Python checks.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from eventos_medios import destinos

# ISO 4217 codes that are not money a partner can be paid in: testing and "no currency"
# (XTS, XXX), precious metals (XAU, XAG, XPT, XPD), bond-market and IMF/ADB units and funds
# codes (PRODUCT.md §8). Defined once: the API, the admin, the legacy endpoints and the
# database CHECK constraints all use CODIGOS_MONEDA.
CODIGOS_NO_MONEDA = frozenset(
    {
        "XXX",
        "XTS",
        "XAU",
        "XAG",
        "XPT",
        "XPD",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XDR",
        "XSU",
        "XUA",
        "XAD",
        "BOV",
        "CHE",
        "CHW",
        "CLF",
        "COU",
        "MXV",
        "USN",
        "UYI",
        "UYW",
    }
)
# Active ISO 4217 currencies (pycountry's list minus the codes above).
CODIGOS_MONEDA: tuple[str, ...] = tuple(
    sorted(c.alpha_3 for c in pycountry.currencies if c.alpha_3 not in CODIGOS_NO_MONEDA)
)

# Alphabet without look-alikes (0/O, 1/I/L) for human-typed codes.
_ALFABETO_CODIGO = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def generar_codigo(longitud: int = 8) -> str:
    """A random, URL-safe, human-friendly code (about 40 bits for 8 characters)."""
    return "".join(secrets.choice(_ALFABETO_CODIGO) for _ in range(longitud))


def _generar_codigo_referido() -> str:
    return generar_codigo(8)


def _generar_codigo_publicacion() -> str:
    return generar_codigo(10)


SLUG_MARCA_MAX = 80


def q_url_http(campo: str, *, permitir_vacio: bool = False) -> Q:
    """Q for a CheckConstraint: the field holds an http(s) URL (optionally empty)."""
    q = Q(**{f"{campo}__startswith": "http://"}) | Q(**{f"{campo}__startswith": "https://"})
    if permitir_vacio:
        q |= Q(**{campo: ""})
    return q


def validar_dominios(valor: object) -> None:
    """Field validator of `Marca.dominios`: canonical host names only (the services and the
    admin normalise what they are given with `destinos.dominios_normalizar` first)."""
    try:
        normalizados = destinos.dominios_normalizar(valor)
    except destinos.DestinoInvalido as exc:
        raise ValidationError(str(exc), code="invalid_domain") from None
    if normalizados != valor:
        raise ValidationError(
            "Host names must be lowercase, IDNA-encoded and unique.", code="invalid_domain"
        )


class TipoSocio(models.TextChoices):
    AFILIADO = "afiliado"
    INFLUENCER = "influencer"
    CREADOR_CONTENIDO = "creador_contenido"
    EMBAJADOR = "embajador"
    SOCIO_B2B = "socio_b2b"
    INTEGRADOR_SAAS = "integrador_saas"


class ModeloAtribucion(models.TextChoices):
    ULTIMO_CLIC = "ultimo_clic"
    PRIMER_CLIC = "primer_clic"
    LINEAL = "lineal"
    POSICIONAL = "posicional"
    DECAIMIENTO_TEMPORAL = "decaimiento_temporal"


class Plataforma(models.TextChoices):
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    FACEBOOK = "facebook"
    X = "x"
    LINKEDIN = "linkedin"
    TWITCH = "twitch"
    BLOG = "blog"
    SITIO_WEB = "sitio_web"
    NEWSLETTER = "newsletter"
    PODCAST = "podcast"
    OTRO = "otro"


class TipoPublicacion(models.TextChoices):
    POST = "post"
    HISTORIA = "historia"
    REEL = "reel"
    VIDEO = "video"
    ARTICULO = "articulo"
    RESENA = "resena"
    NEWSLETTER = "newsletter"
    BANNER = "banner"
    OTRO = "otro"


class TipoEvento(models.TextChoices):
    CLICK = "click"
    INTERACCION = "interaccion"
    LEAD = "lead"
    REGISTRO = "registro"
    CONVERSION = "conversion"
    VENTA = "venta"
    HITO = "hito"


# Event types that can be paid for as conversions, and those that are touchpoints.
TIPOS_CONVERSION = frozenset(
    {TipoEvento.LEAD, TipoEvento.REGISTRO, TipoEvento.CONVERSION, TipoEvento.VENTA, TipoEvento.HITO}
)
TIPOS_TOUCHPOINT = frozenset({TipoEvento.CLICK, TipoEvento.INTERACCION})


class EstadoAtribucion(models.TextChoices):
    PENDIENTE = "pendiente"
    ATRIBUIDO = "atribuido"
    SIN_ATRIBUCION = "sin_atribucion"
    DESCARTADO = "descartado"


class MotivoDescarte(models.TextChoices):
    BOT = "bot"
    DUPLICADO = "duplicado"
    HEAD = "head"
    # The publicacion's socio or marca is deactivated: the visitor is still redirected, the
    # click earns nothing (PRODUCT.md §8, "Deactivation").
    INACTIVO = "inactivo"


class OrigenVisitante(models.TextChoices):
    """Where an event's `visitante_id` came from (PRODUCT.md §8, "Visitors are bound by the
    brand"). Only `marca` makes an event a touchpoint of that visitor."""

    # Sent by the brand's back-end (a marca token, or staff) with the event, or bound to a
    # tracking-link click by a brand event carrying both its click_id and the visitante_id.
    MARCA = "marca"
    # Supplied by the tracking link itself (`apc_vid`) before the rule: kept for the record,
    # never used for attribution. New link clicks keep the hint in `metadata.apc_vid` instead.
    ENLACE = "enlace"
    NINGUNO = "", "ninguno"


class MotivoAtribucion(models.TextChoices):
    """Why attribution credited nobody, when a rule decided it (not a lack of touchpoints)."""

    MARCA_INACTIVA = "marca_inactiva"
    SOCIO_INACTIVO = "socio_inactivo"
    NINGUNO = "", "ninguno"


class Socio(models.Model):
    """A partner: affiliate, influencer, creator, ambassador, B2B partner or SaaS integrator."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nombre = models.CharField(max_length=200)
    tipo = models.CharField(max_length=20, choices=TipoSocio.choices)
    email = models.EmailField(blank=True)
    codigo_referido = models.CharField(
        max_length=32, unique=True, default=_generar_codigo_referido, editable=False
    )
    activo = models.BooleanField(default=True)
    usuario = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="socio",
    )
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["nombre", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tipo__in=TipoSocio.values), name="socio_tipo_valido"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nombre} ({self.get_tipo_display()})"


class Marca(models.Model):
    """A brand that runs a partner programme; it owns the programme-wide attribution policy."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nombre = models.CharField(max_length=200)
    # The programme's public address (`/portal/programas/<slug>/solicitar/`): generated from
    # `nombre` by the services (`marca_slug_generar`), editable by staff. Null only for rows
    # created behind the services' back; those have no public application form.
    slug = models.SlugField(
        max_length=SLUG_MARCA_MAX,
        unique=True,
        null=True,
        blank=True,
        help_text="Public address of the programme's application form; generated from nombre.",
    )
    sitio_web = models.URLField(blank=True)
    dominios = models.JSONField(
        default=list,
        blank=True,
        validators=[validar_dominios],
        help_text="Host names the tracking links of this marca may redirect to (a subdomain of "
        "a listed name counts). Empty: the host of sitio_web.",
    )
    activo = models.BooleanField(default=True)
    modelo_atribucion = models.CharField(
        max_length=24, choices=ModeloAtribucion.choices, default=ModeloAtribucion.ULTIMO_CLIC
    )
    ventana_atribucion_dias = models.PositiveSmallIntegerField(default=30)
    usuarios = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="marcas")
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["nombre", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(modelo_atribucion__in=ModeloAtribucion.values),
                name="marca_modelo_valido",
            ),
            models.CheckConstraint(
                condition=Q(ventana_atribucion_dias__gte=1, ventana_atribucion_dias__lte=365),
                name="marca_ventana_1_365",
            ),
            models.CheckConstraint(
                condition=q_url_http("sitio_web", permitir_vacio=True), name="marca_sitio_http"
            ),
        ]

    def __str__(self) -> str:
        return self.nombre

    @property
    def dominios_efectivos(self) -> tuple[str, ...]:
        """Where its publicaciones may redirect: `dominios`, or else the host of sitio_web."""
        return destinos.dominios_efectivos(self.dominios, self.sitio_web)


class MedioMarketing(models.Model):
    """A partner's channel (an Instagram account, a blog…). Legacy rows may lack a socio."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    socio = models.ForeignKey(
        Socio, null=True, blank=True, on_delete=models.PROTECT, related_name="medios"
    )
    plataforma = models.CharField(max_length=16, choices=Plataforma.choices)
    plataforma_original = models.CharField(
        max_length=100, blank=True, help_text="Free-text platform sent by a legacy client."
    )
    nombre = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    activo = models.BooleanField(default=True)
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-creado_en", "id"]
        verbose_name = "medio de marketing"
        verbose_name_plural = "medios de marketing"
        constraints = [
            models.CheckConstraint(
                condition=Q(plataforma__in=Plataforma.values), name="medio_plataforma_valida"
            ),
            models.CheckConstraint(
                condition=q_url_http("url", permitir_vacio=True), name="medio_url_http"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nombre or self.id} · {self.get_plataforma_display()}"


class Publicacion(models.Model):
    """A post, article, video… inside a medio, promoting a marca, with its tracking code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    medio = models.ForeignKey(
        MedioMarketing, on_delete=models.PROTECT, related_name="publicaciones"
    )
    marca = models.ForeignKey(
        Marca, null=True, blank=True, on_delete=models.PROTECT, related_name="publicaciones"
    )
    tipo = models.CharField(max_length=16, choices=TipoPublicacion.choices)
    tipo_original = models.CharField(
        max_length=100, blank=True, help_text="Free-text type sent by a legacy client."
    )
    titulo = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    url_destino = models.URLField(
        max_length=2000, blank=True, help_text="The brand's landing page (http/https only)."
    )
    codigo = models.CharField(
        max_length=32, unique=True, default=_generar_codigo_publicacion, editable=False
    )
    publicada_en = models.DateTimeField(null=True, blank=True)
    creado_en = models.DateTimeField(auto_now_add=True)
    actualizado_en = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-creado_en", "id"]
        verbose_name = "publicación"
        verbose_name_plural = "publicaciones"
        constraints = [
            models.CheckConstraint(
                condition=Q(tipo__in=TipoPublicacion.values), name="publicacion_tipo_valido"
            ),
            models.CheckConstraint(
                condition=q_url_http("url_destino", permitir_vacio=True),
                name="publicacion_url_destino_http",
            ),
            models.CheckConstraint(
                condition=q_url_http("url", permitir_vacio=True), name="publicacion_url_http"
            ),
        ]
        indexes = [models.Index(fields=["marca", "-creado_en"], name="publicacion_marca_idx")]

    def __str__(self) -> str:
        return self.titulo or self.codigo

    def clean(self) -> None:
        """`url_destino` must be on the marca's domains (PRODUCT.md §8). A publicacion
        without a marca (the seed's legacy endpoint may store one) has no domains, so it
        cannot have a url_destino: its tracking link answers 404."""
        super().clean()
        if not self.url_destino:
            return
        marca = self.marca if self.marca_id is not None else None
        if marca is None:
            raise ValidationError(
                {"url_destino": "A publicacion without a marca cannot redirect anywhere."}
            )
        try:
            destinos.url_destino_validar(self.url_destino, marca.dominios_efectivos)
        except destinos.DestinoInvalido as exc:
            raise ValidationError({"url_destino": str(exc)}) from None


class Evento(models.Model):
    """One tracked event. `id` is the client's idempotency key when supplied.

    `socio` is the one partner the event belongs to, when there is exactly one:
    - at ingestion, the partner of the publicacion or codigo_referido the event names (so that
      partner scoping, filters and statements never join through medios);
    - after attribution, the one partner it credited (through a click_id, or a visitor's
      touchpoints that all belong to one partner, or a single-winner model);
    - null when nobody is credited or the credit is split between several partners (each sees
      its share through its own Comision/Recompensa rows). Re-attribution applies the same rule.
    On its own (without a publicacion or codigo_referido) a stored `socio` is an output of
    attribution, never read back as a direct credit.

    Writes to this table go through `eventos_medios.almacen`, its one owner.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tipo = models.CharField(max_length=16, choices=TipoEvento.choices)
    ocurrido_en = models.DateTimeField()
    recibido_en = models.DateTimeField(default=timezone.now)
    marca = models.ForeignKey(
        Marca, null=True, blank=True, on_delete=models.PROTECT, related_name="eventos"
    )
    publicacion = models.ForeignKey(
        Publicacion, null=True, blank=True, on_delete=models.PROTECT, related_name="eventos"
    )
    socio = models.ForeignKey(
        Socio, null=True, blank=True, on_delete=models.PROTECT, related_name="eventos"
    )
    click = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="seguidores",
        help_text="The click event this event follows (click_id).",
    )
    visitante_id = models.CharField(max_length=128, blank=True)
    codigo_referido = models.CharField(max_length=32, blank=True)
    valor = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    moneda = models.CharField(max_length=3, blank=True)
    referencia_externa = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    estado_atribucion = models.CharField(
        max_length=16, choices=EstadoAtribucion.choices, default=EstadoAtribucion.PENDIENTE
    )
    motivo_descarte = models.CharField(max_length=16, choices=MotivoDescarte.choices, blank=True)
    # SHA-256 of the canonical request body: same id + same body → 200, other body → 409.
    huella = models.CharField(max_length=64, blank=True)
    atribuido_en = models.DateTimeField(null=True, blank=True)
    origen_visitante = models.CharField(
        max_length=8,
        choices=OrigenVisitante.choices,
        blank=True,
        help_text="Where visitante_id came from: 'marca' (the brand vouches for it: the only "
        "touchpoints of a visitor), 'enlace' (a tracking link, before the rule), or empty.",
    )
    motivo_atribucion = models.CharField(
        max_length=16,
        choices=MotivoAtribucion.choices,
        blank=True,
        help_text="Why attribution credited nobody, when a rule decided it.",
    )

    class Meta:
        ordering = ["-ocurrido_en", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tipo__in=TipoEvento.values), name="evento_tipo_valido"
            ),
            models.CheckConstraint(
                condition=Q(estado_atribucion__in=EstadoAtribucion.values),
                name="evento_estado_valido",
            ),
            models.CheckConstraint(
                condition=Q(valor__isnull=True) | Q(valor__gte=0), name="evento_valor_no_negativo"
            ),
            models.CheckConstraint(
                condition=Q(moneda="") | Q(moneda__in=CODIGOS_MONEDA), name="evento_moneda_iso4217"
            ),
            models.CheckConstraint(
                condition=Q(valor__isnull=True) | ~Q(moneda=""), name="evento_valor_con_moneda"
            ),
            models.CheckConstraint(
                condition=Q(estado_atribucion=EstadoAtribucion.DESCARTADO) | Q(motivo_descarte=""),
                name="evento_motivo_solo_si_descartado",
            ),
            models.CheckConstraint(
                condition=Q(origen_visitante__in=OrigenVisitante.values)
                & (Q(origen_visitante="") | ~Q(visitante_id="")),
                name="evento_origen_visitante_valido",
            ),
            models.CheckConstraint(
                condition=Q(motivo_atribucion="")
                | Q(
                    estado_atribucion=EstadoAtribucion.SIN_ATRIBUCION,
                    motivo_atribucion__in=MotivoAtribucion.values,
                ),
                name="evento_motivo_atribucion_valido",
            ),
            # A venta is unique per (marca, referencia_externa): the same order never counts twice.
            models.UniqueConstraint(
                fields=["marca", "referencia_externa"],
                condition=Q(tipo=TipoEvento.VENTA) & ~Q(referencia_externa=""),
                name="evento_venta_referencia_unica",
            ),
        ]
        indexes = [
            # Touchpoint look-up for attribution: same marca and visitor, before ocurrido_en;
            # only visitors the brand vouches for (PRODUCT.md §8).
            models.Index(
                fields=["marca", "visitante_id", "ocurrido_en"],
                name="evento_touchpoint_marca_idx",
                condition=Q(origen_visitante=OrigenVisitante.MARCA),
            ),
            # Attribution work queue and the safety-net sweep.
            models.Index(
                fields=["recibido_en"],
                name="evento_pendiente_idx",
                condition=Q(estado_atribucion=EstadoAtribucion.PENDIENTE),
            ),
            # Duplicate click rule without Redis: same (socio, marca, ip_hash) within an hour.
            models.Index(
                fields=["socio", "marca", "ip_hash", "ocurrido_en"],
                name="evento_click_clave_idx",
                condition=Q(tipo=TipoEvento.CLICK),
            ),
            models.Index(fields=["marca", "-ocurrido_en"], name="evento_marca_fecha_idx"),
            # Partner lists and statements: the trailing columns let the summary report count
            # events by tipo and unique clicks with an index-only scan (no heap visits).
            models.Index(
                fields=[
                    "socio",
                    "-ocurrido_en",
                    "tipo",
                    "estado_atribucion",
                    "visitante_id",
                    "ip_hash",
                ],
                name="evento_socio_fecha_idx",
            ),
            models.Index(fields=["publicacion", "-ocurrido_en"], name="evento_pub_fecha_idx"),
            models.Index(fields=["tipo", "-ocurrido_en"], name="evento_tipo_fecha_idx"),
            models.Index(fields=["-ocurrido_en", "-id"], name="evento_fecha_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tipo} {self.id}"


class TokenApi(models.Model):
    """A user's API key, stored only as its SHA-256 (PRODUCT.md §8).

    A key is `ap_` plus 40 random URL-safe characters (about 240 bits): high-entropy, so a plain
    SHA-256 is enough to store it (no salt or slow hash needed) and lookups are by that hash.
    It is shown once, when issued (`eventos_medios.services.tokens.token_emitir`); `prefijo`,
    its first characters, tells keys apart in the admin. One key per user: issuing another
    replaces it, and the previous one stops working at once.
    """

    usuario = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_api"
    )
    prefijo = models.CharField(max_length=12, help_text="The key's first characters.")
    hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key (hex).")
    creado_en = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "token de API"
        verbose_name_plural = "tokens de API"

    def __str__(self) -> str:
        return f"{self.prefijo}…"

    @staticmethod
    def hash_de(clave: str) -> str:
        """The stored form of a key: SHA-256, hex."""
        return hashlib.sha256(clave.encode("utf-8", "surrogatepass")).hexdigest()
