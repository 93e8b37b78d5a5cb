"""Token authentication (`Authorization: Token <key>`) with a short-lived cache of ids and
scopes.

Keys are stored only as their SHA-256 (`eventos_medios.models.TokenApi`); a request's key is
hashed and looked up by that hash. The ingestion hot path must not pay database round trips
per request just to learn who is calling, so one cache entry per key hash holds a small JSON
document — the user's id and flags (`is_active`, `is_staff`, `is_superuser`), the key's id and
prefix, and the caller's `Alcance` (marca ids, socio id and whether that socio is active) — and
a request with a cached key costs
one Redis GET and no SQL. The cache never holds a pickled object (whoever can write to Redis
must not be able to run code in the web workers) nor anything secret: no key, no password
hash, no e-mail. `request.user` is a real `User` built from those ids with every other field
deferred: reading one (say `username`) loads it from the database then.

Freshness (what can make an entry stale, and what drops it):
- the key is rotated or deleted → `invalidar_hash_cacheado` (the issuing service) and the
  `TokenApi` post_delete receiver below drop it at once;
- the user is saved or deleted (deactivated, staff flag changed) → dropped (post_save /
  post_delete of the user model);
- `Marca.usuarios` changes, or a `Socio`'s `usuario` is set, changed or removed → the users
  concerned are dropped (m2m_changed, pre_save/post_save/post_delete of Socio);
- anything that bypasses model signals (`QuerySet.update()`, raw SQL, another process editing
  the database directly) is bounded by the TTL, `_TTL_SEGUNDOS` (30 s).

A deactivated partner's key authenticates read-only (PRODUCT.md §8): any other method than
GET/HEAD/OPTIONS is a 403 saying so, whatever the endpoint (`Alcance.solo_lectura`).

The receivers are connected by `eventos_medios`' AppConfig.ready() (`conectar_receptores`).
Without Redis (embedded mode) the same entries live in the local-memory cache; with Redis
down the database is read on every request (never a failure because of the cache).
"""

from __future__ import annotations

import contextlib
import uuid
from functools import lru_cache
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.base import ModelState
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import SAFE_METHODS

from alpespartners.api.access import Alcance
from alpespartners.api.ratelimit import cache_disponible, cache_fallo, redis_crudo

_TTL_SEGUNDOS = 30
# "tok3": entries are JSON documents of ids (older prefixes held pickles; never read them).
_PREFIJO = "tok3:"
_CAMPOS_USUARIO = ("id", "is_active", "is_staff", "is_superuser")


def _clave(hash_clave: str) -> str:
    return _PREFIJO + hash_clave[:40]


def invalidar_hash_cacheado(hash_clave: str) -> None:
    """Forget a cached key, given its stored hash (call when a key is rotated or deleted)."""
    with contextlib.suppress(Exception):  # a cache outage must not break rotation
        r = redis_crudo()
        if r is not None:
            r.delete(cache.make_key(_clave(hash_clave)))
        else:
            cache.delete(_clave(hash_clave))


def invalidar_usuario_cacheado(user_id: Any) -> None:
    """Forget the cached key of a user (its flags or its Alcance changed)."""
    if user_id is None:
        return
    from eventos_medios.models import TokenApi

    with contextlib.suppress(Exception):
        for hash_clave in TokenApi.objects.filter(usuario_id=user_id).values_list(
            "hash", flat=True
        ):
            invalidar_hash_cacheado(hash_clave)


def _leer(clave: str) -> dict[str, Any] | None:
    """The cached document, or None (miss, unreadable entry, or cache unavailable)."""
    try:
        r = redis_crudo()
        if r is not None:
            crudo = r.get(cache.make_key(clave))
        else:
            crudo = cache.get(clave) if cache_disponible() else None
    except Exception as exc:  # noqa: BLE001 - Redis down: read the database
        cache_fallo(exc, donde="token cache")
        return None
    if crudo is None:
        return None
    try:
        documento = orjson.loads(crudo)
    except orjson.JSONDecodeError:
        return None  # not ours (or an old format): read the database
    return documento if isinstance(documento, dict) else None


def _guardar(clave: str, documento: dict[str, Any]) -> None:
    crudo = orjson.dumps(documento)
    try:
        r = redis_crudo()
        if r is not None:
            r.set(cache.make_key(clave), crudo, ex=_TTL_SEGUNDOS)
        elif cache_disponible():
            cache.set(clave, crudo, _TTL_SEGUNDOS)
    except Exception as exc:  # noqa: BLE001
        cache_fallo(exc, donde="token cache")


def _documento_de_la_base(hash_clave: str) -> dict[str, Any]:
    """Ids and scope of the key's owner, read from the database (three small queries)."""
    from eventos_medios.models import Marca, Socio, TokenApi

    fila = (
        TokenApi.objects.filter(hash=hash_clave)
        .values("id", "prefijo", "usuario_id", *(f"usuario__{c}" for c in _CAMPOS_USUARIO[1:]))
        .first()
    )
    if fila is None:
        raise AuthenticationFailed("Invalid token.")
    if not fila["usuario__is_active"]:
        raise AuthenticationFailed("User inactive or deleted.")
    uid = fila["usuario_id"]
    socio = Socio.objects.filter(usuario_id=uid).values_list("id", "activo").first()
    marcas = Marca.objects.filter(usuarios__id=uid).values_list("id", flat=True)
    return {
        "token": fila["id"],
        "prefijo": fila["prefijo"],
        "usuario": {
            "id": uid,
            "is_active": True,
            "is_staff": fila["usuario__is_staff"],
            "is_superuser": fila["usuario__is_superuser"],
        },
        "marcas": sorted(str(m) for m in marcas),
        "socio": str(socio[0]) if socio is not None else None,
        "socio_activo": bool(socio[1]) if socio is not None else True,
    }


def _instancia_diferida(modelo: Any, valores: dict[str, Any]) -> Any:
    """A row of `modelo` as loaded from the database with only `valores` (attnames); every
    other field is deferred, so reading it loads it then (Django's DeferredAttribute). What
    `Model.from_db` builds, without running `__init__` over every field on the hot path."""
    instancia = modelo.__new__(modelo)
    instancia._state = ModelState()
    instancia._state.adding = False
    instancia._state.db = "default"
    instancia.__dict__.update(valores)
    return instancia


@lru_cache(maxsize=4096)
def _alcance(
    es_staff: bool, marcas: tuple[str, ...], socio: str | None, socio_activo: bool
) -> Alcance:
    # Immutable, so one instance per distinct scope is shared by every request.
    return Alcance(
        es_staff=es_staff,
        marca_ids=frozenset(uuid.UUID(m) for m in marcas),
        socio_id=uuid.UUID(socio) if socio else None,
        socio_activo=socio_activo,
    )


def _usuario_y_token(documento: dict[str, Any]) -> tuple[Any, Any]:
    """A `User` with only the cached fields loaded (the rest deferred: loaded on access), its
    Alcance attached, and the `TokenApi` the request authenticated with (id and prefix)."""
    from eventos_medios.models import TokenApi

    datos = documento["usuario"]
    usuario = _instancia_diferida(get_user_model(), {c: datos[c] for c in _CAMPOS_USUARIO})
    usuario._alcance_cache = _alcance(
        bool(datos["is_staff"]),
        tuple(documento["marcas"]),
        documento["socio"],
        bool(documento["socio_activo"]),
    )
    token = _instancia_diferida(
        TokenApi,
        {"id": documento["token"], "usuario_id": datos["id"], "prefijo": documento["prefijo"]},
    )
    return usuario, token


class CachedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: the key's hash resolved through the cache first. A
    deactivated partner's key only reads (403 on any write, with the reason)."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        resultado = super().authenticate(request)
        if resultado is not None and request.method not in SAFE_METHODS:
            alcance = getattr(resultado[0], "_alcance_cache", None)
            if alcance is not None and alcance.solo_lectura:
                raise PermissionDenied(
                    "This partner is deactivated: its key may only read its own data."
                )
        return resultado

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from eventos_medios.models import TokenApi

        hash_clave = TokenApi.hash_de(key)
        clave = _clave(hash_clave)
        documento = _leer(clave)
        if documento is None:
            documento = _documento_de_la_base(hash_clave)
            _guardar(clave, documento)
        try:
            return _usuario_y_token(documento)
        except (KeyError, TypeError, ValueError, IndexError):
            # An entry that is not what we write: distrust it and read the database.
            documento = _documento_de_la_base(hash_clave)
            _guardar(clave, documento)
            return _usuario_y_token(documento)


# --- Invalidation receivers (connected by EventosMediosConfig.ready()) ----------------------
def _al_cambiar_usuario(sender: Any, instance: Any, **kwargs: Any) -> None:
    invalidar_usuario_cacheado(instance.pk)


def _al_borrar_token(sender: Any, instance: Any, **kwargs: Any) -> None:
    invalidar_hash_cacheado(instance.hash)


def _al_cambiar_usuarios_marca(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if reverse:  # user.marcas.add/remove/clear(...)
        if action in {"post_add", "post_remove", "post_clear"}:
            invalidar_usuario_cacheado(instance.pk)
        return
    if action == "pre_clear":  # marca.usuarios.clear(): remember who is being removed
        for pk in instance.usuarios.values_list("pk", flat=True):
            invalidar_usuario_cacheado(pk)
    elif action in {"post_add", "post_remove"}:
        for pk in pk_set or ():
            invalidar_usuario_cacheado(pk)


def _antes_de_guardar_socio(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk is not None and not instance._state.adding:
        anterior = sender.objects.filter(pk=instance.pk).values_list("usuario_id", flat=True)
        instance._usuario_anterior_id = anterior.first()


def _al_cambiar_socio(sender: Any, instance: Any, **kwargs: Any) -> None:
    invalidar_usuario_cacheado(getattr(instance, "usuario_id", None))
    anterior = instance.__dict__.pop("_usuario_anterior_id", None)
    if anterior != getattr(instance, "usuario_id", None):
        invalidar_usuario_cacheado(anterior)


def conectar_receptores() -> None:
    """Connect the cache-invalidation receivers (idempotent: dispatch_uid)."""
    from eventos_medios.models import Marca, Socio, TokenApi

    usuario = get_user_model()
    uid = "alpespartners.api.authentication."
    post_save.connect(_al_cambiar_usuario, sender=usuario, dispatch_uid=uid + "usuario_guardado")
    post_delete.connect(_al_cambiar_usuario, sender=usuario, dispatch_uid=uid + "usuario_borrado")
    post_delete.connect(_al_borrar_token, sender=TokenApi, dispatch_uid=uid + "token_borrado")
    m2m_changed.connect(
        _al_cambiar_usuarios_marca, sender=Marca.usuarios.through, dispatch_uid=uid + "marca"
    )
    pre_save.connect(_antes_de_guardar_socio, sender=Socio, dispatch_uid=uid + "socio_antes")
    post_save.connect(_al_cambiar_socio, sender=Socio, dispatch_uid=uid + "socio_guardado")
    post_delete.connect(_al_cambiar_socio, sender=Socio, dispatch_uid=uid + "socio_borrado")
