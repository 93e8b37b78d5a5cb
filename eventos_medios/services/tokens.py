"""API keys (PRODUCT.md §6, §8): issued and rotated here, stored only as a SHA-256.

`token_emitir` is the one way a key comes to exist: the credentials endpoints
(`POST /api/v1/socios|marcas/{id}/credenciales/`), the admin's "rotate credentials" action,
`manage.py drf_create_token <user>` and the demo loader all call it. Each call issues a new key,
returns it (the only time it is ever visible), replaces the user's previous key — which stops
working at once, in every process (its cache entry is dropped now and again after commit) —
and sends `credencial_emitida` inside the transaction, so an audit receiver records it
atomically with the change.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from alpespartners.api.authentication import invalidar_hash_cacheado
from eventos_medios.models import TokenApi
from eventos_medios.signals import credencial_emitida

__all__ = ["PREFIJO_CLAVE", "token_emitir"]

PREFIJO_CLAVE = "ap_"
_LARGO_PREFIJO_VISIBLE = 10  # "ap_" + 7 characters: enough to tell keys apart, useless to guess


def _olvidar_despues(hash_anterior: str | None) -> None:
    if not hash_anterior:
        return
    # Now, so this process forgets it, and after commit, in case a concurrent request re-cached
    # the old key from the database before the change was visible.
    invalidar_hash_cacheado(hash_anterior)
    transaction.on_commit(lambda: invalidar_hash_cacheado(hash_anterior))


@transaction.atomic
def token_emitir(*, usuario: Any, por: Any = None) -> str:
    """Issue a new API key for `usuario` and return it (shown once; only its hash is kept).

    The user's previous key, if any, stops working at once. `por` is who asked (a staff user;
    None for commands and the system), passed on to `credencial_emitida`.
    """
    clave = PREFIJO_CLAVE + secrets.token_urlsafe(30)
    anterior = (
        TokenApi.objects.select_for_update()
        .filter(usuario_id=usuario.pk)
        .values_list("hash", flat=True)
        .first()
    )
    token, _ = TokenApi.objects.update_or_create(
        usuario_id=usuario.pk,
        defaults={
            "hash": TokenApi.hash_de(clave),
            "prefijo": clave[:_LARGO_PREFIJO_VISIBLE],
            "creado_en": timezone.now(),
        },
    )
    _olvidar_despues(anterior)
    credencial_emitida.send(
        sender=token_emitir,
        usuario_id=usuario.pk,
        prefijo=token.prefijo,
        rotada=anterior is not None,
        por=por,
    )
    return clave
