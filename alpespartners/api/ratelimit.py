"""Fixed-window rate limits through the Django cache (Redis in production).

Limits are settings written `"<count>/<s|m|h>"` (`RATE_LIMIT_TRACKING`, `RATE_LIMIT_INGESTA`);
`"0"` (or an empty value, or a zero count) turns one off. One counter per (scope, identity,
window) lives in the cache and expires with its window.

The limiter **fails open**: if the cache cannot be reached the request is allowed (never a 500,
never a hang). After a cache failure the process skips the cache for a couple of seconds (a tiny
circuit breaker), so a hung Redis costs one socket timeout per process, not one per request.
The same breaker is used by other hot-path cache reads (`cache_disponible`/`cache_fallo`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

_SEGUNDOS_POR_UNIDAD = {"s": 1, "m": 60, "h": 3600}
_PAUSA_TRAS_FALLO_SEGUNDOS = 2.0
_LOG_CADA_SEGUNDOS = 10.0


@dataclass(frozen=True)
class Limite:
    """`cantidad` requests per `ventana` seconds."""

    cantidad: int
    ventana: int


@lru_cache(maxsize=32)
def parse_limite(texto: str | None) -> Limite | None:
    """Parse `"<n>/<s|m|h>"`; `"0"`, `""`, `None` or a zero count mean "no limit".

    Raises ImproperlyConfigured on anything else, so a typo in the environment is loud.
    """
    valor = (texto or "").strip().lower()
    if valor in {"", "0", "off", "none"}:
        return None
    cantidad_txt, _, unidad = valor.partition("/")
    unidad = unidad.strip()
    # Accept the long forms too: "10/min", "100/hour", "5/second".
    unidad = {"sec": "s", "second": "s", "min": "m", "minute": "m", "hour": "h"}.get(unidad, unidad)
    if unidad not in _SEGUNDOS_POR_UNIDAD or not cantidad_txt.strip().isdigit():
        raise ImproperlyConfigured(
            f"Invalid rate limit {texto!r}: expected '<count>/<s|m|h>' or '0' to turn it off."
        )
    cantidad = int(cantidad_txt)
    if cantidad == 0:
        return None
    return Limite(cantidad=cantidad, ventana=_SEGUNDOS_POR_UNIDAD[unidad])


# --- Circuit breaker for the cache ----------------------------------------------------------
_estado_lock = threading.Lock()
_cache_caida_hasta = 0.0
_ultimo_log = 0.0


def cache_disponible() -> bool:
    """False for a short while after a cache failure in this process."""
    return time.monotonic() >= _cache_caida_hasta


def cache_fallo(exc: BaseException, *, donde: str) -> None:
    """Record a cache failure: skip the cache for a moment, log at most every few seconds."""
    global _cache_caida_hasta, _ultimo_log
    ahora = time.monotonic()
    with _estado_lock:
        _cache_caida_hasta = ahora + _PAUSA_TRAS_FALLO_SEGUNDOS
        registrar = ahora - _ultimo_log >= _LOG_CADA_SEGUNDOS
        if registrar:
            _ultimo_log = ahora
    if registrar:
        logger.warning(
            "cache unavailable (%s): %s; continuing without it", donde, type(exc).__name__
        )


def cache_reiniciar_cortacircuitos() -> None:
    """Forget past cache failures (tests, or after an operator fixed Redis)."""
    global _cache_caida_hasta
    with _estado_lock:
        _cache_caida_hasta = 0.0


# --- Raw Redis access for hot paths ---------------------------------------------------------
def redis_crudo() -> Any:
    """The raw redis-py client behind the default cache when it is Redis (None otherwise, or
    while the circuit breaker is open).

    Django's RedisCache builds a new `redis.Redis` object (and its table of ~200 response
    callbacks) on every call; the hot paths reuse one per cache backend instance instead and
    pipeline their commands into a single round trip. Callers build keys with
    `cache.make_key(...)` so the cache's KEY_PREFIX applies to raw keys as well.
    """
    if not cache_disponible():
        return None
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    interno = backend._cache
    cliente = getattr(interno, "_apc_cliente", None)
    if cliente is None:
        cliente = interno.get_client(write=True)
        interno._apc_cliente = cliente  # type: ignore[attr-defined]
    return cliente


# --- The limiter ----------------------------------------------------------------------------
def limite_clave(*, ambito: str, identidad: str, limite: Limite, ahora: float) -> str:
    return f"rl:{ambito}:{identidad}:{limite.ventana}:{int(ahora // limite.ventana)}"


def limite_espera(*, cuenta: int, limite: Limite, ahora: float) -> int | None:
    """None if `cuenta` is within the limit, else the seconds until the window ends."""
    if cuenta <= limite.cantidad:
        return None
    fin_ventana = (int(ahora // limite.ventana) + 1) * limite.ventana
    return max(1, math.ceil(fin_ventana - ahora))


def _incrementar(clave: str, ventana: int) -> int:
    """Atomically add one to the window's counter and return it (creating it with a TTL)."""
    cliente_redis = redis_crudo()
    if cliente_redis is not None:
        # One round trip: create the counter with its expiry if missing, then increment it.
        # make_key applies the cache's KEY_PREFIX (REDIS_PREFIJO) to the raw key too.
        clave_redis = cache.make_key(clave)
        pipe = cliente_redis.pipeline(transaction=False)
        pipe.set(clave_redis, 0, ex=ventana + 1, nx=True)
        pipe.incr(clave_redis)
        _, valor = pipe.execute()
        return int(valor)
    cache.add(clave, 0, timeout=ventana + 1)
    try:
        return int(cache.incr(clave))
    except ValueError:  # expired between add and incr
        cache.add(clave, 1, timeout=ventana + 1)
        return 1


def limite_consumir(*, ambito: str, identidad: str, limite: Limite | None) -> int | None:
    """Count one request of `identidad` against `limite`.

    Returns None when allowed, or the number of seconds to wait (Retry-After) when the limit
    is exceeded. Any cache error allows the request (fail open).
    """
    if limite is None or not cache_disponible():
        return None
    ahora = time.time()
    clave = limite_clave(ambito=ambito, identidad=identidad, limite=limite, ahora=ahora)
    try:
        cuenta = _incrementar(clave, limite.ventana)
    except Exception as exc:  # noqa: BLE001 - fail open on any cache error
        cache_fallo(exc, donde="rate limit")
        return None
    return limite_espera(cuenta=cuenta, limite=limite, ahora=ahora)


def limite_tracking() -> Limite | None:
    return parse_limite(getattr(settings, "RATE_LIMIT_TRACKING", "0"))


def limite_ingesta() -> Limite | None:
    return parse_limite(getattr(settings, "RATE_LIMIT_INGESTA", "0"))


class LimiteIngesta(BaseThrottle):
    """DRF throttle for event ingestion: per authenticated user (its token), else per IP.

    A batch counts as one request. 429 with Retry-After comes from the API exception handler.
    """

    def __init__(self) -> None:
        self._espera: int | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        usuario = getattr(request, "user", None)
        if usuario is not None and usuario.is_authenticated:
            identidad = f"u{usuario.pk}"
        else:
            identidad = f"ip{self.get_ident(request)}"
        self._espera = limite_consumir(
            ambito="ingesta", identidad=identidad, limite=limite_ingesta()
        )
        return self._espera is None

    def wait(self) -> float | None:
        # Whole seconds: DRF's "Expected available in N seconds" and the handler's Retry-After
        # both show exactly this number.
        return None if self._espera is None else float(self._espera)
