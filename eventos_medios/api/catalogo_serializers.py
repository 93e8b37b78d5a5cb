"""Input and output serializers of the catalogue API (socios, marcas, medios, publicaciones).

Input serializers only parse and shape; rules live in `eventos_medios.services.catalogo`.
Related objects are looked up in querysets scoped to the caller (passed in the serializer
context as `medios`, `marcas`, `socios`), so an id the caller may not see is a 400 on that
field, exactly like an id that does not exist: nothing about its existence leaks.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from eventos_medios.destinos import MAX_DOMINIOS, MAX_LARGO_DOMINIO
from eventos_medios.enlaces import enlace_tracking
from eventos_medios.models import (
    Marca,
    MedioMarketing,
    ModeloAtribucion,
    Plataforma,
    Publicacion,
    Socio,
    TipoPublicacion,
    TipoSocio,
)
from eventos_medios.services.catalogo import VENTANA_ATRIBUCION_MAX, VENTANA_ATRIBUCION_MIN

__all__ = [
    "CredencialesSerializer",
    "ErrorRespuestaSerializer",
    "MarcaEntradaSerializer",
    "MarcaSerializer",
    "MedioActualizarSerializer",
    "MedioCrearSerializer",
    "MedioSerializer",
    "PublicacionActualizarSerializer",
    "PublicacionCrearSerializer",
    "PublicacionSerializer",
    "SocioEntradaSerializer",
    "SocioSerializer",
]


class UrlHttpField(serializers.URLField):
    """An absolute http(s) URL. `ftp:`, `javascript:` and relative URLs are rejected."""

    default_error_messages = {"invalid": "Enter an absolute http:// or https:// URL."}

    def to_internal_value(self, data: Any) -> str:
        valor = super().to_internal_value(data)
        if valor and not valor.lower().startswith(("http://", "https://")):
            self.fail("invalid")
        return valor


class RelacionVisibleField(serializers.PrimaryKeyRelatedField):
    """A primary key looked up in the queryset the view put in the context under `clave`.

    Unknown and invisible ids get the same message, so the caller learns nothing.
    """

    default_error_messages = {
        "does_not_exist": 'Unknown {nombre} "{pk_value}" (or not visible to you).',
        "incorrect_type": "Expected a UUID, got {data_type}.",
    }

    def __init__(self, *, clave: str, nombre: str, **kwargs: Any) -> None:
        self.clave = clave
        self.nombre = nombre
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        qs = self.context.get(self.clave)
        if qs is None:  # pragma: no cover - a programming error in the view
            raise RuntimeError(f"Serializer context lacks the '{self.clave}' queryset.")
        return qs

    def fail(self, key: str, **kwargs: Any) -> Any:
        if key == "does_not_exist":
            kwargs["nombre"] = self.nombre
        return super().fail(key, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # A malformed UUID is reported like an unknown one.
            if any(getattr(d, "code", "") == "invalid" for d in exc.detail):
                self.fail("does_not_exist", pk_value=data)
            raise


# --- Socio ----------------------------------------------------------------------------------


class SocioSerializer(serializers.ModelSerializer[Socio]):
    # Optional model fields are "" when unset: a plain string in the schema, not format email.
    email = serializers.CharField(read_only=True, help_text="Email address, or empty.")
    usuario: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username of the linked login, if any.",
    )

    class Meta:
        model = Socio
        fields = [
            "id",
            "nombre",
            "tipo",
            "email",
            "codigo_referido",
            "activo",
            "usuario",
            "creado_en",
            "actualizado_en",
        ]
        read_only_fields = fields


class SocioEntradaSerializer(serializers.Serializer[Any]):
    nombre = serializers.CharField(max_length=200)
    tipo = serializers.ChoiceField(choices=TipoSocio.choices)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    activo = serializers.BooleanField(required=False, default=True)


# --- Marca ----------------------------------------------------------------------------------


_AYUDA_DOMINIOS = (
    "Host names this marca's tracking links may redirect to (a subdomain of a listed name "
    "counts; no scheme, port or path). Empty: the host of sitio_web. Stored lowercase, "
    "internationalised names as IDNA (xn--)."
)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "maxLength": MAX_LARGO_DOMINIO},
        "maxItems": MAX_DOMINIOS,
    }
)
class DominiosField(serializers.Field):  # type: ignore[type-arg]
    """A JSON list, passed to the service as is: `eventos_medios.destinos` checks each host
    name and answers one flat message naming `dominios` (no nested per-item errors)."""

    default_error_messages = {"invalid": "Must be a list of host names."}

    def get_value(self, dictionary: Any) -> Any:
        if html.is_html_input(dictionary):  # a form sends one value per host name
            if self.field_name not in dictionary:
                return empty
            return dictionary.getlist(self.field_name)
        return dictionary.get(self.field_name, empty)

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class MarcaSerializer(serializers.ModelSerializer[Marca]):
    # Optional: "" when unset, so a plain string in the schema rather than format uri.
    sitio_web = serializers.CharField(read_only=True, help_text="URL, or empty.")
    dominios = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=_AYUDA_DOMINIOS
    )

    class Meta:
        model = Marca
        fields = [
            "id",
            "nombre",
            "sitio_web",
            "dominios",
            "activo",
            "modelo_atribucion",
            "ventana_atribucion_dias",
            "creado_en",
            "actualizado_en",
        ]
        read_only_fields = fields


class MarcaEntradaSerializer(serializers.Serializer[Any]):
    nombre = serializers.CharField(max_length=200)
    sitio_web = UrlHttpField(required=False, allow_blank=True, default="", max_length=200)
    dominios = DominiosField(required=False, default=list, help_text=_AYUDA_DOMINIOS)
    activo = serializers.BooleanField(required=False, default=True)
    modelo_atribucion = serializers.ChoiceField(
        choices=ModeloAtribucion.choices,
        required=False,
        default=ModeloAtribucion.ULTIMO_CLIC,
        help_text="Programme-wide attribution model for multi-touch conversions.",
    )
    ventana_atribucion_dias = serializers.IntegerField(
        min_value=VENTANA_ATRIBUCION_MIN,
        max_value=VENTANA_ATRIBUCION_MAX,
        required=False,
        default=30,
        help_text="Look-back window for touchpoints, in days.",
    )


# --- MedioMarketing -------------------------------------------------------------------------


class MedioSerializer(serializers.ModelSerializer[MedioMarketing]):
    # Optional: "" when unset, so a plain string in the schema rather than format uri.
    url = serializers.CharField(read_only=True, help_text="URL, or empty.")

    class Meta:
        model = MedioMarketing
        fields = [
            "id",
            "socio",
            "plataforma",
            "nombre",
            "url",
            "activo",
            "creado_en",
            "actualizado_en",
        ]
        read_only_fields = fields


class MedioActualizarSerializer(serializers.Serializer[Any]):
    plataforma = serializers.ChoiceField(choices=Plataforma.choices)
    nombre = serializers.CharField(max_length=200, required=False, allow_blank=True)
    url = UrlHttpField(max_length=500, required=False, allow_blank=True)
    activo = serializers.BooleanField(required=False)


class MedioCrearSerializer(MedioActualizarSerializer):
    socio = RelacionVisibleField(
        clave="socios",
        nombre="socio",
        required=False,
        help_text="Owner of the medio. Staff must send it; a partner's own socio is used "
        "when omitted.",
    )


# --- Publicacion ----------------------------------------------------------------------------


class PublicacionSerializer(serializers.ModelSerializer[Publicacion]):
    # Optional: "" when unset, so a plain string in the schema rather than format uri.
    url = serializers.CharField(read_only=True, help_text="URL of the post, or empty.")
    socio = serializers.UUIDField(
        source="medio.socio_id", read_only=True, allow_null=True, help_text="Owner of the medio."
    )
    enlace_tracking = serializers.SerializerMethodField(
        help_text="Absolute tracking link (`/t/<codigo>`) to share instead of url_destino."
    )

    class Meta:
        model = Publicacion
        fields = [
            "id",
            "medio",
            "marca",
            "socio",
            "tipo",
            "titulo",
            "url",
            "url_destino",
            "codigo",
            "enlace_tracking",
            "publicada_en",
            "creado_en",
            "actualizado_en",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_enlace_tracking(self, obj: Publicacion) -> str:
        return enlace_tracking(obj.codigo, self.context.get("request"))


class PublicacionActualizarSerializer(serializers.Serializer[Any]):
    tipo = serializers.ChoiceField(choices=TipoPublicacion.choices)
    titulo = serializers.CharField(max_length=300, required=False, allow_blank=True)
    url = UrlHttpField(
        max_length=1000, required=False, allow_blank=True, help_text="Where the content lives."
    )
    url_destino = UrlHttpField(
        max_length=2000,
        help_text="The brand's landing page; the tracking link redirects here. Must be on one "
        "of the marca's dominios (or a subdomain), with no user:password part.",
    )
    publicada_en = serializers.DateTimeField(required=False, allow_null=True)


class PublicacionCrearSerializer(PublicacionActualizarSerializer):
    medio = RelacionVisibleField(
        clave="medios", nombre="medio", help_text="A medio of yours (staff: any)."
    )
    marca = RelacionVisibleField(
        clave="marcas", nombre="marca", help_text="The brand this publicacion promotes."
    )


# --- Credentials ----------------------------------------------------------------------------


class CredencialesSerializer(serializers.Serializer[Any]):
    usuario = serializers.CharField(help_text="Username of the API login.")
    token = serializers.CharField(
        help_text="The new API key (`ap_…`); send it as `Authorization: Token <key>`. Shown "
        "only in this response: the service keeps just its hash. The previous key stopped "
        "working."
    )


# --- Errors (schema only) -------------------------------------------------------------------

# The API's error envelope, for the schema (`errors` would shadow Serializer.errors as a class
# attribute, hence an inline serializer).
ErrorRespuestaSerializer = inline_serializer(
    name="ErrorRespuesta",
    fields={
        "detail": serializers.CharField(help_text="Human-readable summary."),
        "code": serializers.CharField(help_text="Stable machine-readable code."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Offending fields (or batch indexes) and their messages.",
        ),
    },
)
