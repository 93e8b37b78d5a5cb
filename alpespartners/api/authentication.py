"""Token authentication with a short-lived cache of key → user, so the ingestion hot path does
not pay a database round trip per request. Rotating a token deletes the old key, and the cache
entry is dropped by `invalidar_token_cacheado`, so a rotated key stops working at once."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

_TTL_SEGUNDOS = 60
_PREFIJO = "tok:"


def invalidar_token_cacheado(key: str) -> None:
    """Forget a cached token (call when a token is rotated or deleted)."""
    with contextlib.suppress(Exception):  # a cache outage must not break rotation
        cache.delete(_PREFIJO + key)


class CachedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, resolved through the cache first."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        clave = _PREFIJO + key
        try:
            user_id = cache.get(clave)
        except Exception:  # noqa: BLE001 - Redis down: fall back to the database
            user_id = None
        if user_id is not None:
            User = get_user_model()
            try:
                user = User.objects.get(pk=user_id, is_active=True)
            except User.DoesNotExist:
                raise exceptions.AuthenticationFailed("Invalid token.") from None
            return user, Token(key=key, user=user)
        user, token = super().authenticate_credentials(key)
        with contextlib.suppress(Exception):
            cache.set(clave, user.pk, _TTL_SEGUNDOS)
        return user, token
