"""Token authentication with a short-lived cache of key → (user, Alcance).

The ingestion hot path must not pay database round trips per request just to learn who is
calling: one cache entry per token holds the user row and its `Alcance` (staff flag, marca ids,
socio id), so a request with a cached token costs one Redis GET and no SQL at all.

Freshness (what can make an entry stale, and what drops it):
- the token is rotated or deleted → `invalidar_token_cacheado` (rotation service) and the
  `Token` post_delete receiver below drop it at once;
- the user is saved or deleted (deactivated, staff flag changed) → dropped (post_save /
  post_delete of the user model);
- `Marca.usuarios` changes, or a `Socio`'s `usuario` is set, changed or removed → the users
  concerned are dropped (m2m_changed, pre_save/post_save/post_delete of Socio);
- anything that bypasses model signals (`QuerySet.update()`, raw SQL, another process editing
  the database directly) is bounded by the TTL, `_TTL_SEGUNDOS` (30 s).

Without Redis (embedded mode) the same entries live in the local-memory cache; with Redis
down the database is read on every request (never a failure because of the cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from alpespartners.api.access import Alcance, alcance_de
from alpespartners.api.ratelimit import cache_disponible, cache_fallo, redis_crudo

_TTL_SEGUNDOS = 30
_PREFIJO = "tok2:"


def _clave(key: str) -> str:
    # A digest, so that the cache never holds usable token keys in its key names.
    return _PREFIJO + hashlib.sha256(key.encode()).hexdigest()[:40]


def invalidar_token_cacheado(key: str) -> None:
    """Forget a cached token (call when a token is rotated or deleted)."""
    with contextlib.suppress(Exception):  # a cache outage must not break rotation
        r = redis_crudo()
        if r is not None:
            r.delete(cache.make_key(_clave(key)))
        else:
            cache.delete(_clave(key))


def invalidar_usuario_cacheado(user_id: Any) -> None:
    """Forget the cached tokens of a user (its flags or its Alcance changed)."""
    if user_id is None:
        return
    with contextlib.suppress(Exception):
        for key in Token.objects.filter(user_id=user_id).values_list("key", flat=True):
            invalidar_token_cacheado(key)


def _leer(clave: str) -> Any:
    """The cached `(user, alcance)` or None (miss, or cache unavailable)."""
    try:
        r = redis_crudo()
        if r is not None:
            crudo = r.get(cache.make_key(clave))
            return pickle.loads(crudo) if crudo is not None else None
        return cache.get(clave) if cache_disponible() else None
    except Exception as exc:  # noqa: BLE001 - Redis down: read the database
        cache_fallo(exc, donde="token cache")
        return None


def _guardar(clave: str, valor: tuple[Any, Alcance]) -> None:
    try:
        r = redis_crudo()
        if r is not None:
            r.set(
                cache.make_key(clave),
                pickle.dumps(valor, pickle.HIGHEST_PROTOCOL),
                ex=_TTL_SEGUNDOS,
            )
        elif cache_disponible():
            cache.set(clave, valor, _TTL_SEGUNDOS)
    except Exception as exc:  # noqa: BLE001
        cache_fallo(exc, donde="token cache")


class CachedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, resolved through the cache first (user and Alcance)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        clave = _clave(key)
        cacheado = _leer(clave)
        if cacheado is not None:
            user, alcance = cacheado
            user._alcance_cache = alcance
            return user, Token(key=key, user=user)
        user, token = super().authenticate_credentials(key)
        alcance = alcance_de(user)
        # The instance is pickled without the per-request attributes it may carry.
        user.__dict__.pop("_alcance_cache", None)
        _guardar(clave, (user, alcance))
        user._alcance_cache = alcance
        return user, token


# --- Invalidation receivers (connected by eventos_medios' AppConfig.ready()) ----------------
def _al_cambiar_usuario(sender: Any, instance: Any, **kwargs: Any) -> None:
    invalidar_usuario_cacheado(instance.pk)


def _al_borrar_token(sender: Any, instance: Token, **kwargs: Any) -> None:
    invalidar_token_cacheado(instance.key)


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
    """Connect the cache invalidation receivers (idempotent: dispatch_uid)."""
    from eventos_medios.models import Marca, Socio

    usuario = get_user_model()
    uid = "alpespartners.api.authentication."
    post_save.connect(_al_cambiar_usuario, sender=usuario, dispatch_uid=uid + "usuario_guardado")
    post_delete.connect(_al_cambiar_usuario, sender=usuario, dispatch_uid=uid + "usuario_borrado")
    post_delete.connect(_al_borrar_token, sender=Token, dispatch_uid=uid + "token_borrado")
    m2m_changed.connect(
        _al_cambiar_usuarios_marca, sender=Marca.usuarios.through, dispatch_uid=uid + "marca"
    )
    pre_save.connect(_antes_de_guardar_socio, sender=Socio, dispatch_uid=uid + "socio_antes")
    post_save.connect(_al_cambiar_socio, sender=Socio, dispatch_uid=uid + "socio_guardado")
    post_delete.connect(_al_cambiar_socio, sender=Socio, dispatch_uid=uid + "socio_borrado")
