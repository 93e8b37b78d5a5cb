"""Writes behind the seed prototype's endpoints (PRODUCT.md §7), mapped onto this model.

The prototype's bodies lack what the v1 API demands (a medio without socio, a publicacion
without marca) and carry free text where we have enums (``"Tipo 1"``, ``{"nombre":
"Facebook"}``). Mapping rules:

- supplied ids are kept (a chain of requests references what it created);
- free text that matches no enum value becomes ``otro`` and the original is stored
  (``plataforma_original`` / ``tipo_original``);
- a repeated id with the same content is accepted again (idempotent); with other content it
  is a ``Conflicto``;
- events go through the regular ingestion service (``evento_registrar`` with ``legado=True``),
  so they are validated, deduplicated and announced exactly like v1 events.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from alpespartners.errors import Conflicto, ErrorDominio, ErrorValidacion
from eventos_medios import destinos
from eventos_medios.models import (
    Marca,
    MedioMarketing,
    Plataforma,
    Publicacion,
    Socio,
    TipoEvento,
    TipoPublicacion,
)
from eventos_medios.services.ingesta import ALCANCE_INTERNO, evento_registrar

__all__ = [
    "evento_legado_registrar",
    "medio_legado_registrar",
    "plataforma_mapear",
    "publicacion_legado_registrar",
    "tipo_evento_mapear",
    "tipo_publicacion_mapear",
]

_MAX_ORIGINAL = 100

# Spellings of the enums a legacy client may send (normalised: lower case, no accents, "_").
_ALIAS_PLATAFORMA = {
    "twitter": Plataforma.X,
    "x_twitter": Plataforma.X,
    "web": Plataforma.SITIO_WEB,
    "sitio": Plataforma.SITIO_WEB,
    "website": Plataforma.SITIO_WEB,
    "pagina_web": Plataforma.SITIO_WEB,
    "ig": Plataforma.INSTAGRAM,
    "fb": Plataforma.FACEBOOK,
    "yt": Plataforma.YOUTUBE,
    "you_tube": Plataforma.YOUTUBE,
    "tik_tok": Plataforma.TIKTOK,
    "linked_in": Plataforma.LINKEDIN,
    "boletin": Plataforma.NEWSLETTER,
}
_ALIAS_TIPO_PUBLICACION = {
    "story": TipoPublicacion.HISTORIA,
    "stories": TipoPublicacion.HISTORIA,
    "review": TipoPublicacion.RESENA,
    "article": TipoPublicacion.ARTICULO,
    "blog_post": TipoPublicacion.ARTICULO,
    "short": TipoPublicacion.REEL,
    "boletin": TipoPublicacion.NEWSLETTER,
}
# The prototype's event types, plus v1 names in any case.
_ALIAS_TIPO_EVENTO = {
    "lead": TipoEvento.LEAD,
    "interaccionpublicacion": TipoEvento.INTERACCION,
    "interaccion_publicacion": TipoEvento.INTERACCION,
    "interaccion": TipoEvento.INTERACCION,
}


def _normalizar(texto: str) -> str:
    sin_acentos = unicodedata.normalize("NFKD", texto).encode("ascii", "ignore").decode()
    return "_".join(sin_acentos.lower().replace("-", " ").split())


def _texto_original(valor: Any, campo: str) -> str:
    """A legacy free-text value: a string, or an object with a `nombre` (the collection sends
    ``"platafoma": {"nombre": "Facebook"}``)."""
    if isinstance(valor, dict):
        valor = valor.get("nombre", valor.get("valor"))
    if valor is None:
        return ""
    if not isinstance(valor, str):
        raise ErrorDominio(f"{campo} must be a text or an object with 'nombre'.", campo=campo)
    valor = valor.strip()
    if len(valor) > _MAX_ORIGINAL or "\x00" in valor:
        raise ErrorDominio(f"{campo} must be at most {_MAX_ORIGINAL} characters.", campo=campo)
    return valor


def plataforma_mapear(original: str) -> str:
    """Plataforma value for a free-text platform name; unknown → ``otro``."""
    clave = _normalizar(original)
    if clave in Plataforma.values:
        return clave
    return str(_ALIAS_PLATAFORMA.get(clave, Plataforma.OTRO))


def tipo_publicacion_mapear(original: str) -> str:
    """TipoPublicacion value for a free-text type (``"Tipo 1"`` → ``otro``)."""
    clave = _normalizar(original)
    if clave in TipoPublicacion.values:
        return clave
    return str(_ALIAS_TIPO_PUBLICACION.get(clave, TipoPublicacion.OTRO))


def tipo_evento_mapear(original: Any) -> str:
    """TipoEvento for the prototype's ``tipo_evento`` (``Lead``, ``InteraccionPublicacion``) or
    a v1 tipo. Unknown → ErrorDominio (an event type is never guessed)."""
    if not isinstance(original, str) or not original.strip():
        raise ErrorDominio("tipo_evento is required.", campo="tipo_evento")
    clave = _normalizar(original)
    if clave in TipoEvento.values:
        return clave
    if clave in _ALIAS_TIPO_EVENTO:
        return str(_ALIAS_TIPO_EVENTO[clave])
    raise ErrorDominio(
        f"Unknown tipo_evento {original!r}: use Lead, InteraccionPublicacion or one of "
        f"{', '.join(TipoEvento.values)}.",
        campo="tipo_evento",
    )


def _uuid_requerido(valor: Any, campo: str) -> uuid.UUID:
    resultado = _uuid(valor, campo, obligatorio=True)
    assert resultado is not None
    return resultado


def _uuid(valor: Any, campo: str, *, obligatorio: bool) -> uuid.UUID | None:
    if valor is None or valor == "":
        if obligatorio:
            raise ErrorDominio(f"{campo} is required.", campo=campo)
        return None
    try:
        return uuid.UUID(str(valor))
    except ValueError:
        raise ErrorDominio(f"{campo} must be a UUID.", campo=campo) from None


def _fecha(valor: Any, campo: str) -> datetime | None:
    if valor is None or valor == "":
        return None
    if isinstance(valor, str):
        try:
            fecha = datetime.fromisoformat(valor)
        except ValueError:
            pass
        else:
            if fecha.tzinfo is None:
                raise ErrorDominio(f"{campo} must include a time zone (e.g. Z).", campo=campo)
            return fecha
    raise ErrorDominio(f"{campo} must be an ISO 8601 date-time.", campo=campo)


def _existente(modelo: Any, pk: uuid.UUID, campos: dict[str, Any], nombre: str) -> None:
    """A row with this id exists: fine if it holds the same content, a Conflicto otherwise."""
    fila = modelo.objects.filter(pk=pk).values(*campos).first()
    if fila is None:  # pragma: no cover - the id clashed with a row that vanished meanwhile
        raise Conflicto(f"{nombre} {pk} could not be stored; retry.", campo="id")
    if any(fila[c] != v for c, v in campos.items()):
        raise Conflicto(f"A {nombre} with id {pk} exists with a different body.", campo="id")


def _crear_o_confirmar(modelo: Any, pk: uuid.UUID, campos: dict[str, Any], nombre: str) -> bool:
    """INSERT the row with the supplied id; on a duplicate id compare. True when created."""
    if modelo.objects.filter(pk=pk).exists():
        _existente(modelo, pk, campos, nombre)
        return False
    try:
        with transaction.atomic():
            modelo.objects.create(pk=pk, **campos)
    except IntegrityError:  # a concurrent identical request won the race
        _existente(modelo, pk, campos, nombre)
        return False
    return True


@transaction.atomic
def medio_legado_registrar(*, datos: dict[str, Any]) -> tuple[MedioMarketing, bool]:
    """Create a MedioMarketing from a seed body, keeping its id.

    Body: ``id``, ``plataforma`` or the misspelt ``platafoma`` (text or ``{"nombre": …}``),
    optional ``id_socio``, ``nombre``, ``url``. The socio is optional (legacy medios have
    none; their events are stored and reported ``sin_atribucion``). Returns (medio, created).
    """
    pk = _uuid(datos.get("id"), "id", obligatorio=False) or uuid.uuid4()
    bruto = datos.get("plataforma", datos.get("platafoma"))
    original = _texto_original(bruto, "plataforma")
    if not original:
        raise ErrorDominio("plataforma is required.", campo="plataforma")
    socio_id = _uuid(datos.get("id_socio"), "id_socio", obligatorio=False)
    if socio_id is not None and not Socio.objects.filter(pk=socio_id).exists():
        raise ErrorDominio(f"Unknown id_socio {socio_id}.", campo="id_socio")
    nombre = _texto_original(datos.get("nombre"), "nombre")
    url = _texto_original(datos.get("url"), "url")
    if url and not url.startswith(("http://", "https://")):
        raise ErrorDominio("url must be an http(s) URL.", campo="url")
    campos = {
        "plataforma": plataforma_mapear(original),
        "plataforma_original": original,
        "socio_id": socio_id,
        "nombre": nombre,
        "url": url,
    }
    creado = _crear_o_confirmar(MedioMarketing, pk, campos, "medio")
    return MedioMarketing.objects.get(pk=pk), creado


@transaction.atomic
def publicacion_legado_registrar(*, datos: dict[str, Any]) -> tuple[Publicacion, bool]:
    """Create a Publicacion from a seed body, keeping its id.

    Body: ``id``, ``id_medio_marketing`` (must exist), ``tipo_publicacion`` (free text; unknown
    → ``otro`` with the text kept in ``tipo_original``), optional ``id_marca``, ``titulo``,
    ``fecha_creacion`` (→ ``publicada_en``) and ``url_destino``. Returns (publicacion, created).

    The seed's bodies carry no url_destino, and may carry no marca: such a publicacion has no
    tracking redirect (its link answers 404). A ``url_destino`` obeys the v1 rule (PRODUCT.md
    §8: http(s), on the marca's domains, no user:password part), so it needs ``id_marca``.
    """
    pk = _uuid(datos.get("id"), "id", obligatorio=False) or uuid.uuid4()
    medio_id = _uuid_requerido(datos.get("id_medio_marketing"), "id_medio_marketing")
    if not MedioMarketing.objects.filter(pk=medio_id).exists():
        raise ErrorDominio(f"Unknown id_medio_marketing {medio_id}.", campo="id_medio_marketing")
    marca_id = _uuid(datos.get("id_marca"), "id_marca", obligatorio=False)
    if marca_id is not None and not Marca.objects.filter(pk=marca_id).exists():
        raise ErrorDominio(f"Unknown id_marca {marca_id}.", campo="id_marca")
    original = _texto_original(datos.get("tipo_publicacion"), "tipo_publicacion")
    url_destino = _url_destino_legada(datos.get("url_destino"), marca_id)
    campos = {
        "medio_id": medio_id,
        "marca_id": marca_id,
        "url_destino": url_destino,
        "tipo": tipo_publicacion_mapear(original) if original else TipoPublicacion.OTRO.value,
        "tipo_original": original,
        "titulo": _texto_original(datos.get("titulo"), "titulo"),
        "publicada_en": _fecha(datos.get("fecha_creacion"), "fecha_creacion"),
    }
    creado = _crear_o_confirmar(Publicacion, pk, campos, "publicacion")
    return Publicacion.objects.get(pk=pk), creado


def _url_destino_legada(valor: Any, marca_id: uuid.UUID | None) -> str:
    """A legacy body's optional url_destino, checked like the v1 API's (ErrorDominio naming
    ``url_destino``); '' when absent."""
    if valor is None or valor == "":
        return ""
    if not isinstance(valor, str) or len(valor) > 2000:
        raise ErrorDominio(
            "url_destino must be a URL of at most 2000 characters.", campo="url_destino"
        )
    if marca_id is None:
        raise ErrorDominio(
            "url_destino needs id_marca: a publicacion without a marca cannot redirect.",
            campo="url_destino",
        )
    dominios = Marca.objects.get(pk=marca_id).dominios_efectivos
    try:
        destinos.url_destino_validar(valor, dominios)
    except destinos.DestinoInvalido as exc:
        raise ErrorDominio(f"url_destino: {exc}", campo="url_destino") from None
    return valor


# v1 field → the seed's name, for error messages the legacy client understands.
_CAMPOS_LEGADOS = {
    "tipo": "tipo_evento",
    "publicacion": "id_publicacion",
    "ocurrido_en": "fecha_creacion",
    "marca": "id_marca",
}
# v1 fields a legacy body may also carry, passed through unchanged.
_CAMPOS_V1 = (
    "visitante_id",
    "codigo_referido",
    "click_id",
    "valor",
    "moneda",
    "referencia_externa",
)


def evento_legado_registrar(*, datos: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Register a seed event through the regular ingestion service (``legado=True``).

    Body: ``id``, ``tipo_evento`` (``Lead`` → lead, ``InteraccionPublicacion`` → interaccion,
    or a v1 tipo), ``id_publicacion``, ``fecha_creacion`` (→ ``ocurrido_en``), optional
    ``id_marca`` and v1 fields (visitante_id, valor, moneda…). The marca is taken from the
    publicacion when it has one; none is invented. Returns (representation, created).
    """
    v1: dict[str, Any] = {"tipo": tipo_evento_mapear(datos.get("tipo_evento"))}
    for legado, nuevo in (
        ("id", "id"),
        ("id_publicacion", "publicacion"),
        ("fecha_creacion", "ocurrido_en"),
        ("id_marca", "marca"),
    ):
        if datos.get(legado) not in (None, ""):
            v1[nuevo] = datos[legado]
    for campo in _CAMPOS_V1:
        if datos.get(campo) not in (None, ""):
            v1[campo] = datos[campo]
    try:
        return evento_registrar(datos=v1, alcance=ALCANCE_INTERNO, legado=True)
    except ErrorValidacion as exc:
        partes = []
        for campo, mensajes in exc.errores.items():
            texto = " ".join(str(m) for m in mensajes) if isinstance(mensajes, list) else mensajes
            partes.append(f"{_CAMPOS_LEGADOS.get(campo, campo)}: {texto}")
        raise ErrorDominio("; ".join(partes) or exc.mensaje) from exc
