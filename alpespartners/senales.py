"""The two ways of sending a domain signal (PRODUCT.md §9, "Transactions"), one helper each.

- `enviar_en_transaccion`: now, inside the caller's transaction, for receivers whose writes
  must be atomic with the change they record (audit rows, outbox rows, review holds). A
  receiver that raises makes the sender raise, so the change rolls back with it.
- `enviar_al_confirmar`: once the transaction commits (at once in autocommit), robust, for
  receivers that queue Celery tasks or do cache work. Every receiver runs even if another
  fails; a failing receiver is logged with its traceback and never reaches the caller, so a
  broken cache or broker never turns a change that is already stored (a click, a credit)
  into an error. Nothing is sent if the transaction rolls back.

Every domain signal of both apps is sent through one of the two; each app's `signals.py` says
which one for each signal. Receivers are connected in their app's `AppConfig.ready()`.

A signal sent inside the transaction may also have receivers that only queue Celery tasks or
touch a cache: wrap those with `receptor_al_confirmar`, which defers the receiver to the
commit and isolates its failure exactly as `enviar_al_confirmar` does (and runs nothing if the
transaction rolls back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)


def enviar_en_transaccion(senal: Signal, *, sender: Any, **kwargs: Any) -> None:
    """Send `senal` now, inside the current transaction; a receiver's error propagates (and
    rolls the transaction back). Raises RuntimeError outside a transaction: the receivers'
    writes would not be atomic with the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enviar_en_transaccion must be called inside transaction.atomic()")
    senal.send(sender=sender, **kwargs)


def enviar_al_confirmar(senal: Signal, *, sender: Any, **kwargs: Any) -> None:
    """Send `senal` robustly after the current transaction commits (now in autocommit)."""
    transaction.on_commit(partial(_enviar_robusto, senal, sender, kwargs))


def _enviar_robusto(senal: Signal, sender: Any, kwargs: dict[str, Any]) -> None:
    for receptor, resultado in senal.send_robust(sender=sender, **kwargs):
        if isinstance(resultado, Exception):
            logger.error(
                "Receiver %r of a signal sent by %r failed; the change stands",
                receptor,
                sender,
                exc_info=(type(resultado), resultado, resultado.__traceback__),
            )


def receptor_al_confirmar(receptor: Callable[..., Any]) -> Callable[..., None]:
    """Decorate a receiver of a signal sent inside a transaction so that it runs once that
    transaction commits, robustly (its error is logged, never raised). Connect the returned
    function with `weak=False` or keep it at module level (signals hold weak references)."""

    @wraps(receptor)
    def diferido(sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal", None)
        transaction.on_commit(partial(_ejecutar_robusto, receptor, sender, kwargs))

    return diferido


def _ejecutar_robusto(receptor: Callable[..., Any], sender: Any, kwargs: dict[str, Any]) -> None:
    try:
        receptor(sender=sender, **kwargs)
    except Exception:
        logger.exception("Receiver %r (run after commit) failed; the change stands", receptor)
