"""Keyset pagination for the portal's lists: newest first by (`creado_en`, `id`), a page of
rows plus one to know whether older ones exist, and an opaque cursor for the next page. No
COUNT and no OFFSET, so a page costs the same on the first page and the thousandth, over
indexes that start with the partner and the date."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

TAMANO_PAGINA = 25


@dataclass(frozen=True)
class Pagina:
    filas: list[Any]
    siguiente: str | None  # cursor of the next (older) page
    primera: bool


def cursor_de(fila: Any) -> str:
    texto = f"{fila.creado_en.isoformat()}|{fila.pk}"
    return base64.urlsafe_b64encode(texto.encode()).decode().rstrip("=")


def cursor_leer(cursor: str | None) -> tuple[dt.datetime, uuid.UUID] | None:
    """The (creado_en, id) a cursor points after; None for a missing or malformed one (the
    first page: a tampered cursor shows nothing it should not, only the partner's own rows)."""
    if not cursor or len(cursor) > 200:
        return None
    try:
        texto = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        momento, _, pk = texto.partition("|")
        fecha = dt.datetime.fromisoformat(momento)
        if fecha.tzinfo is None:
            return None
        return fecha, uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


def paginar(qs: QuerySet[Any], *, cursor: str | None, tamano: int = TAMANO_PAGINA) -> Pagina:
    """One page of `qs` (already scoped and filtered), newest first."""
    desde = cursor_leer(cursor)
    if desde is not None:
        momento, pk = desde
        qs = qs.filter(Q(creado_en__lt=momento) | Q(creado_en=momento, pk__lt=pk))
    filas = list(qs.order_by("-creado_en", "-pk")[: tamano + 1])
    hay_mas = len(filas) > tamano
    filas = filas[:tamano]
    return Pagina(
        filas=filas,
        siguiente=cursor_de(filas[-1]) if hay_mas and filas else None,
        primera=desde is None,
    )
