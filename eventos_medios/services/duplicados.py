"""The duplicate-click rule (PRODUCT.md §8, "Counted clicks"): a click counts once per
(socio, marca, IP hash) per hour, across all of that partner's codes; a repeat within the hour
of a counted click is stored `descartado`/`duplicado`.

One interface, `ReglaDuplicados`, with two backends that answer the same cases
(`eventos_medios/tests/test_duplicados.py` runs one set of cases against both):

- `DuplicadosRedis`: the first counted click takes a claim, ``SET <key> 1 NX EX 3600``; the
  tracking hot path takes the very same claim (same key, `clave_redis`) inside its one Redis
  script, so a click still costs one Redis round trip (`services.tracking`);
- `DuplicadosBaseDeDatos`: a look-up of a counted click of the same key in the last hour, for
  when Redis is not configured (the embedded mode) or unavailable. Its claim is the stored
  click itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.cache import cache

from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento

VENTANA = dt.timedelta(hours=1)
SEGUNDOS_VENTANA = int(VENTANA.total_seconds())
PREFIJO_REDIS = "clk:"


@dataclass(frozen=True, slots=True)
class ClaveClick:
    """Who a click counts for: the partner and brand of its publicacion, and the visitor's IP
    hash. (A legacy publicacion may lack either; None is a value of the key like any other.)"""

    socio_id: uuid.UUID | None
    marca_id: uuid.UUID | None
    ip_hash: str

    def sufijo(self) -> str:
        return f"{self.socio_id or ''}:{self.marca_id or ''}:{self.ip_hash}"


def clave_redis(clave: ClaveClick) -> str:
    """The Redis key of a claim (with the cache's key prefix): `prefijo_redis() + sufijo`."""
    return cache.make_key(PREFIJO_REDIS + clave.sufijo())


def prefijo_redis() -> str:
    """What precedes the key's suffix (the tracking script appends `socio:marca:ip_hash`)."""
    return cache.make_key(PREFIJO_REDIS)


class ReglaDuplicados(Protocol):
    def reclamar(self, clave: ClaveClick, *, ahora: dt.datetime) -> bool:
        """True when a click of `clave` at `ahora` counts: no counted click of the same key in
        the hour before. Counting it takes the hour that follows."""
        ...

    def liberar(self, clave: ClaveClick) -> None:
        """Give back a claim whose click could not be stored, so that a retry counts."""
        ...


class DuplicadosRedis:
    """Claims as Redis keys that expire after the window (server time: `ahora` is unused)."""

    def __init__(self, cliente: Any) -> None:
        self.cliente = cliente

    def reclamar(self, clave: ClaveClick, *, ahora: dt.datetime) -> bool:
        return bool(self.cliente.set(clave_redis(clave), 1, nx=True, ex=SEGUNDOS_VENTANA))

    def liberar(self, clave: ClaveClick) -> None:
        with contextlib.suppress(Exception):  # best effort: the key expires anyway
            self.cliente.delete(clave_redis(clave))


class DuplicadosBaseDeDatos:
    """The stored clicks are the claims: a counted (not discarded) click of the same key in
    the last hour makes this one a duplicate. Two simultaneous first clicks may both count
    (no lock): this backend is the fallback of an outage, not the hot path."""

    def reclamar(self, clave: ClaveClick, *, ahora: dt.datetime) -> bool:
        # socio or marca None matches IS NULL (legacy publicaciones): a value like any other.
        mismo: dict[str, Any] = {"socio_id": clave.socio_id, "marca_id": clave.marca_id}
        return not (
            Evento.objects.filter(
                **mismo,
                ip_hash=clave.ip_hash,
                tipo=TipoEvento.CLICK,
                ocurrido_en__gte=ahora - VENTANA,
            )
            .exclude(estado_atribucion=EstadoAtribucion.DESCARTADO)
            .exists()
        )

    def liberar(self, clave: ClaveClick) -> None:
        """Nothing to give back: a click that was not stored claims nothing."""
