"""Writes of the catalogue: socios, marcas, medios, publicaciones and API credentials.

Services are access-agnostic: the API layer decides *who* may call them (PRODUCT.md §6) and
hands over objects the caller may see; services check the domain rules and write atomically.
Every broken rule is an `ErrorDominio`/`ErrorValidacion` naming the field, nothing half-written.
Optional `id` arguments let a caller keep a supplied identifier (the admin, seed endpoints).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.text import slugify

from alpespartners.errors import Conflicto, ErrorDominio, ErrorValidacion
from alpespartners.senales import enviar_en_transaccion
from eventos_medios import destinos
from eventos_medios.models import (
    SLUG_MARCA_MAX,
    Marca,
    MedioMarketing,
    ModeloAtribucion,
    Plataforma,
    Publicacion,
    Socio,
    TipoPublicacion,
    TipoSocio,
)
from eventos_medios.services.tokens import token_emitir
from eventos_medios.services.tracking import destinos_cache_invalidar, publicacion_cache_invalidar
from eventos_medios.signals import marca_activacion_cambiada, socio_activacion_cambiada

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "CAMPOS_MARCA_EDITABLES",
    "CAMPOS_MEDIO_EDITABLES",
    "CAMPOS_PUBLICACION_EDITABLES",
    "CAMPOS_SOCIO_EDITABLES",
    "VENTANA_ATRIBUCION_MAX",
    "VENTANA_ATRIBUCION_MIN",
    "Credenciales",
    "marca_actualizar",
    "marca_crear",
    "marca_credenciales_rotar",
    "marca_slug_generar",
    "medio_actualizar",
    "medio_crear",
    "publicacion_actualizar",
    "publicacion_crear",
    "socio_actualizar",
    "socio_crear",
    "socio_credenciales_rotar",
    "validar_url_http",
]

VENTANA_ATRIBUCION_MIN = 1
VENTANA_ATRIBUCION_MAX = 365

# What an update may change. Links that history depends on (a medio's socio, a publicacion's
# medio and marca, codes) are fixed once created: events are denormalised from them.
CAMPOS_SOCIO_EDITABLES = frozenset({"nombre", "tipo", "email", "activo", "usuario"})
CAMPOS_MARCA_EDITABLES = frozenset(
    {
        "nombre",
        "slug",
        "sitio_web",
        "dominios",
        "activo",
        "modelo_atribucion",
        "ventana_atribucion_dias",
    }
)
# Changing these changes where (and whether) a marca's tracking links redirect.
_CAMPOS_MARCA_DESTINO = frozenset({"sitio_web", "dominios", "activo"})
CAMPOS_MEDIO_EDITABLES = frozenset({"plataforma", "nombre", "url", "activo"})
CAMPOS_PUBLICACION_EDITABLES = frozenset({"tipo", "titulo", "url", "url_destino", "publicada_en"})

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Credenciales:
    """An API user and its freshly issued token key (shown once)."""

    usuario: str
    token: str


# --- Validation helpers ---------------------------------------------------------------------


def validar_url_http(valor: str, *, campo: str, obligatoria: bool = False) -> None:
    """Raise unless `valor` is an absolute http(s) URL (empty allowed when not obligatoria).

    Rejects `javascript:`, `data:`, `ftp:` and relative URLs: these links are redirect targets
    and shown to visitors, so nothing but the web is acceptable.
    """
    if not valor:
        if obligatoria:
            raise ErrorDominio("This field is required.", campo=campo, codigo="required")
        return
    try:
        partes = urlsplit(valor)
    except ValueError:
        partes = None
    if partes is None or partes.scheme.lower() not in ("http", "https") or not partes.netloc:
        raise ErrorDominio(
            "Enter an absolute http:// or https:// URL.", campo=campo, codigo="invalid_url"
        )


def _validar_eleccion(valor: Any, opciones: Iterable[str], *, campo: str) -> None:
    opciones = list(opciones)
    if valor not in opciones:
        raise ErrorDominio(
            f'"{valor}" is not a valid choice; expected one of: {", ".join(opciones)}.',
            campo=campo,
            codigo="invalid_choice",
        )


def _validar_ventana(valor: Any) -> None:
    if (
        isinstance(valor, bool)
        or not isinstance(valor, int)
        or not VENTANA_ATRIBUCION_MIN <= valor <= VENTANA_ATRIBUCION_MAX
    ):
        raise ErrorDominio(
            f"Must be a whole number of days between {VENTANA_ATRIBUCION_MIN} and "
            f"{VENTANA_ATRIBUCION_MAX}.",
            campo="ventana_atribucion_dias",
            codigo="out_of_range",
        )


def _guardar(obj: M, *, update_fields: Iterable[str] | None = None) -> M:
    """full_clean() (field validators, uniqueness, CheckConstraints) then save, or raise
    ErrorValidacion with the offending fields named."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        errores = {
            ("non_field_errors" if k == NON_FIELD_ERRORS else k): v
            for k, v in exc.message_dict.items()
        }
        raise ErrorValidacion(errores) from exc
    if update_fields is not None:
        campos = set(update_fields)
        if any(f.name == "actualizado_en" for f in obj._meta.get_fields()):
            campos.add("actualizado_en")
        obj.save(update_fields=sorted(campos))
    else:
        obj.save(force_insert=True)
    return obj


def _solo_editables(datos: Mapping[str, Any], editables: frozenset[str]) -> dict[str, Any]:
    desconocidos = sorted(set(datos) - editables)
    if desconocidos:
        raise ErrorValidacion(
            {campo: ["This field cannot be changed."] for campo in desconocidos},
        )
    return dict(datos)


# --- Socio ----------------------------------------------------------------------------------


def _validar_socio(datos: Mapping[str, Any]) -> None:
    if "tipo" in datos:
        _validar_eleccion(datos["tipo"], TipoSocio.values, campo="tipo")


@transaction.atomic
def socio_crear(
    *,
    nombre: str,
    tipo: str,
    email: str = "",
    activo: bool = True,
    usuario: User | None = None,
    id: uuid.UUID | None = None,
) -> Socio:
    """Register a partner. `codigo_referido` is generated; `usuario` links a login (optional)."""
    _validar_socio({"tipo": tipo})
    socio = Socio(nombre=nombre, tipo=tipo, email=email, activo=activo, usuario=usuario)
    if id is not None:
        socio.id = id
    return _guardar(socio)


def _codigos_de(filtro: dict[str, Any]) -> list[str]:
    return list(Publicacion.objects.filter(**filtro).values_list("codigo", flat=True))


def _al_confirmar_invalidar_destinos(filtro: dict[str, Any]) -> None:
    """After commit, drop the cached destinations of the publicaciones matching `filtro` (the
    tracking link caches each one briefly with its activity flag and validity)."""
    transaction.on_commit(lambda: destinos_cache_invalidar(codigos=_codigos_de(filtro)))


def _activo_guardado(modelo: type[Socio] | type[Marca], pk: Any) -> bool:
    """The stored `activo` of a row, locked for the transaction (so that two concurrent
    changes send one signal each, in order)."""
    qs = modelo._default_manager.select_for_update().filter(pk=pk)
    return bool(qs.values_list("activo", flat=True).get())


@transaction.atomic
def socio_actualizar(*, socio: Socio, datos: Mapping[str, Any], por: Any = None) -> Socio:
    """Change a partner's `nombre`, `tipo`, `email`, `activo` or linked `usuario` (a new tipo
    applies to credits computed from now on; existing ones keep their kind).

    Deactivating a partner (PRODUCT.md §8): its links still redirect but their clicks are
    discarded (`inactivo`), attribution skips it, and its key becomes read-only. A change of
    `activo` sends `socio_activacion_cambiada` inside this transaction (`por`: who did it)."""
    cambios = _solo_editables(datos, CAMPOS_SOCIO_EDITABLES)
    _validar_socio(cambios)
    antes = _activo_guardado(Socio, socio.pk) if "activo" in cambios else None
    for campo, valor in cambios.items():
        setattr(socio, campo, valor)
    guardado = _guardar(socio, update_fields=cambios)
    if antes is not None and bool(guardado.activo) != antes:
        _al_confirmar_invalidar_destinos({"medio__socio_id": guardado.pk})
        enviar_en_transaccion(
            socio_activacion_cambiada,
            sender=socio_actualizar,
            socio_id=guardado.pk,
            activo=bool(guardado.activo),
            por=por,
        )
    return guardado


# --- Marca ----------------------------------------------------------------------------------


def _dominios(valor: Any) -> list[str]:
    """`dominios` normalised (`destinos.dominios_normalizar`), or ErrorDominio naming it."""
    try:
        return destinos.dominios_normalizar(valor)
    except destinos.DestinoInvalido as exc:
        raise ErrorDominio(str(exc), campo="dominios", codigo="invalid_domain") from None


def _validar_marca(datos: dict[str, Any]) -> None:
    """Check a marca's fields; `dominios` is replaced by its normalised form."""
    if "dominios" in datos:
        datos["dominios"] = _dominios(datos["dominios"])
    if "sitio_web" in datos:
        validar_url_http(datos["sitio_web"], campo="sitio_web")
    if "modelo_atribucion" in datos:
        _validar_eleccion(
            datos["modelo_atribucion"], ModeloAtribucion.values, campo="modelo_atribucion"
        )
    if "ventana_atribucion_dias" in datos:
        _validar_ventana(datos["ventana_atribucion_dias"])


def marca_slug_generar(*, nombre: str, excluir: uuid.UUID | None = None) -> str:
    """A free slug for a marca named `nombre`: `slugify(nombre)`, then `-2`, `-3`… while taken
    (by another marca than `excluir`). The unique constraint settles a concurrent race."""
    base = slugify(nombre)[: SLUG_MARCA_MAX - 6].strip("-") or "marca"
    qs = Marca.objects.filter(slug__startswith=base)
    if excluir is not None:
        qs = qs.exclude(pk=excluir)
    tomados = set(qs.values_list("slug", flat=True))
    candidato, n = base, 1
    while candidato in tomados:
        n += 1
        candidato = f"{base}-{n}"
    return candidato


@transaction.atomic
def marca_crear(
    *,
    nombre: str,
    slug: str = "",
    sitio_web: str = "",
    dominios: Iterable[str] | None = None,
    activo: bool = True,
    modelo_atribucion: str = ModeloAtribucion.ULTIMO_CLIC,
    ventana_atribucion_dias: int = 30,
    usuarios: Iterable[User] | None = None,
    id: uuid.UUID | None = None,
) -> Marca:
    """Register a brand with its programme-wide attribution policy (model and window in days,
    1–365). `usuarios` are the logins allowed to send its events and read its programme. `slug`
    (its application form's address) is generated from `nombre` when not given. `dominios` are
    the host names its tracking links may redirect to (a subdomain of one counts; none: the host
    of `sitio_web`), normalised to lowercase IDNA."""
    datos = {
        "sitio_web": sitio_web,
        "dominios": list(dominios or []),
        "modelo_atribucion": modelo_atribucion,
        "ventana_atribucion_dias": ventana_atribucion_dias,
    }
    _validar_marca(datos)
    marca = Marca(
        nombre=nombre,
        slug=slug or marca_slug_generar(nombre=nombre),
        sitio_web=sitio_web,
        dominios=datos["dominios"],
        activo=activo,
        modelo_atribucion=modelo_atribucion,
        ventana_atribucion_dias=ventana_atribucion_dias,
    )
    if id is not None:
        marca.id = id
    _guardar(marca)
    if usuarios is not None:
        marca.usuarios.set(list(usuarios))
    return marca


@transaction.atomic
def marca_actualizar(
    *,
    marca: Marca,
    datos: Mapping[str, Any],
    usuarios: Iterable[User] | None = None,
    por: Any = None,
) -> Marca:
    """Change a brand's data or attribution policy (used by attribution from now on, and by
    `reatribuir` for past conversions). `usuarios`, when given, replaces the brand's logins.

    New `dominios` or `sitio_web` apply to its tracking links at once: a publicacion whose
    url_destino falls off the domains stops redirecting (404). Deactivating a brand
    (PRODUCT.md §8): its links still redirect but their clicks are discarded (`inactivo`), its
    events are stored and credit nobody. A change of `activo` sends
    `marca_activacion_cambiada` inside this transaction (`por`: who did it)."""
    cambios = _solo_editables(datos, CAMPOS_MARCA_EDITABLES)
    if "slug" in cambios and not cambios["slug"]:
        nombre = cambios.get("nombre", marca.nombre)
        cambios["slug"] = marca_slug_generar(nombre=nombre, excluir=marca.pk)
    _validar_marca(cambios)
    antes = _activo_guardado(Marca, marca.pk) if "activo" in cambios else None
    for campo, valor in cambios.items():
        setattr(marca, campo, valor)
    _guardar(marca, update_fields=cambios)
    if usuarios is not None:
        marca.usuarios.set(list(usuarios))
    if _CAMPOS_MARCA_DESTINO & set(cambios):
        _al_confirmar_invalidar_destinos({"marca_id": marca.pk})
    if antes is not None and bool(marca.activo) != antes:
        enviar_en_transaccion(
            marca_activacion_cambiada,
            sender=marca_actualizar,
            marca_id=marca.pk,
            activo=bool(marca.activo),
            por=por,
        )
    return marca


# --- MedioMarketing -------------------------------------------------------------------------


def _validar_medio(datos: Mapping[str, Any]) -> None:
    if "plataforma" in datos:
        _validar_eleccion(datos["plataforma"], Plataforma.values, campo="plataforma")
    if "url" in datos:
        validar_url_http(datos["url"], campo="url")


@transaction.atomic
def medio_crear(
    *,
    socio: Socio,
    plataforma: str,
    nombre: str = "",
    url: str = "",
    activo: bool = True,
    id: uuid.UUID | None = None,
) -> MedioMarketing:
    """Register a partner's channel (an Instagram account, a blog…)."""
    _validar_medio({"plataforma": plataforma, "url": url})
    medio = MedioMarketing(
        socio=socio, plataforma=plataforma, nombre=nombre, url=url, activo=activo
    )
    if id is not None:
        medio.id = id
    return _guardar(medio)


@transaction.atomic
def medio_actualizar(*, medio: MedioMarketing, datos: Mapping[str, Any]) -> MedioMarketing:
    """Change a medio's `plataforma`, `nombre`, `url` or `activo`.

    Its socio is fixed once set (events are credited to it); a legacy medio stored without a
    socio may be given one (`datos["socio"]`), after which it can carry publicaciones.
    """
    datos = dict(datos)
    socio = datos.pop("socio", None)
    cambios = _solo_editables(datos, CAMPOS_MEDIO_EDITABLES)
    if socio is not None:
        # Compare with the stored row: the caller's instance may already carry the new value.
        guardado = (
            MedioMarketing.objects.select_for_update()
            .filter(pk=medio.pk)
            .values_list("socio_id", flat=True)
            .get()
        )
        if guardado is not None and guardado != socio.pk:
            raise ErrorDominio("The socio of a medio cannot change.", campo="socio")
        cambios["socio"] = socio
    _validar_medio(cambios)
    for campo, valor in cambios.items():
        setattr(medio, campo, valor)
    return _guardar(medio, update_fields=cambios)


# --- Publicacion ----------------------------------------------------------------------------


def _validar_publicacion(datos: Mapping[str, Any], *, url_destino_obligatoria: bool) -> None:
    if "tipo" in datos:
        _validar_eleccion(datos["tipo"], TipoPublicacion.values, campo="tipo")
    if "url" in datos:
        validar_url_http(datos["url"], campo="url")
    if "url_destino" in datos:
        validar_url_http(
            datos["url_destino"], campo="url_destino", obligatoria=url_destino_obligatoria
        )


@transaction.atomic
def publicacion_crear(
    *,
    medio: MedioMarketing,
    marca: Marca,
    tipo: str,
    url_destino: str,
    titulo: str = "",
    url: str = "",
    publicada_en: datetime | None = None,
    id: uuid.UUID | None = None,
) -> Publicacion:
    """Register a publicacion of `medio` promoting `marca`; it gets a unique tracking `codigo`
    whose link (`/t/<codigo>`) redirects to `url_destino`: http(s), on one of the marca's
    domains, with no user:password part (PRODUCT.md §8; checked by `Publicacion.clean`)."""
    _validar_publicacion(
        {"tipo": tipo, "url": url, "url_destino": url_destino}, url_destino_obligatoria=True
    )
    if medio.socio_id is None:
        raise ErrorDominio("This medio has no socio; assign one first.", campo="medio")
    publicacion = Publicacion(
        medio=medio,
        marca=marca,
        tipo=tipo,
        titulo=titulo,
        url=url,
        url_destino=url_destino,
        publicada_en=publicada_en,
    )
    if id is not None:
        publicacion.id = id
    return _guardar(publicacion)


@transaction.atomic
def publicacion_actualizar(*, publicacion: Publicacion, datos: Mapping[str, Any]) -> Publicacion:
    """Change a publicacion's `tipo`, `titulo`, `url`, `url_destino` (on the marca's domains)
    or `publicada_en`. Its medio, marca and codigo are fixed: clicks already recorded point at
    them."""
    cambios = _solo_editables(datos, CAMPOS_PUBLICACION_EDITABLES)
    _validar_publicacion(cambios, url_destino_obligatoria=True)
    for campo, valor in cambios.items():
        setattr(publicacion, campo, valor)
    guardada = _guardar(publicacion, update_fields=cambios)
    # The tracking link caches the destination by codigo: a new url_destino applies at once.
    codigo = guardada.codigo
    transaction.on_commit(lambda: publicacion_cache_invalidar(codigo=codigo))
    return guardada


# --- Credentials ----------------------------------------------------------------------------


def _usuario_api(*, username: str, email: str = "") -> User:
    """The dedicated API login called `username`, created (without a password) if missing."""
    modelo = get_user_model()
    usuario, creado = modelo.objects.get_or_create(
        username=username, defaults={"email": email, "is_staff": False, "is_superuser": False}
    )
    if creado:
        usuario.set_unusable_password()
        usuario.save(update_fields=["password"])
    return usuario


def _token_rotar(*, usuario: User, por: Any = None) -> Credenciales:
    """Issue a new key for the user (shown once: only its hash is stored); the previous key
    stops working at once."""
    return Credenciales(
        usuario=usuario.get_username(), token=token_emitir(usuario=usuario, por=por)
    )


@transaction.atomic
def socio_credenciales_rotar(*, socio: Socio, por: Any = None) -> Credenciales:
    """Create (or rotate) the API token of the socio's login.

    A socio without a login gets one (`socio-<id>`, no password: it authenticates by token).
    The previous token, if any, is deleted and dropped from the token cache.
    """
    socio = Socio.objects.select_for_update().get(pk=socio.pk)
    usuario = socio.usuario
    if usuario is None:
        usuario = _usuario_api(username=f"socio-{socio.id.hex}", email=socio.email)
        if Socio.objects.filter(usuario=usuario).exclude(pk=socio.pk).exists():
            raise Conflicto(
                f'The login "{usuario.get_username()}" is linked to another socio.',
                campo="usuario",
            )
        socio.usuario = usuario
        socio.save(update_fields=["usuario", "actualizado_en"])
    return _token_rotar(usuario=usuario, por=por)


@transaction.atomic
def marca_credenciales_rotar(*, marca: Marca, por: Any = None) -> Credenciales:
    """Create (or rotate) the token of the brand's dedicated API login (`marca-<id>`).

    The login is created if missing and added to `marca.usuarios`, so it may send the brand's
    events. Other logins of the brand (people) keep their own tokens.
    """
    marca = Marca.objects.select_for_update().get(pk=marca.pk)
    usuario = _usuario_api(username=f"marca-{marca.id.hex}")
    marca.usuarios.add(usuario)
    return _token_rotar(usuario=usuario, por=por)
