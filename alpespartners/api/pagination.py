"""Pagination: the standard {"count", "next", "previous", "results"} envelope everywhere, and a
cursor envelope ({"next", "previous", "results"}) for eventos, which must not COUNT(*) a table of
millions on every page."""

from __future__ import annotations

import binascii
import datetime as dt
from base64 import b64decode
from typing import Any
from urllib import parse

from django.core.exceptions import ValidationError as ErrorDeModelo
from django.db.models import Model
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import (
    Cursor,
    CursorPagination,
    PageNumberPagination,
    _positive_int,
)


class PaginacionEstandar(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class PaginacionCursorEventos(CursorPagination):
    """A tampered cursor (not base64, not ours, a position that is not a date-time) is a 400
    naming `cursor`, never a 500 (PRODUCT.md §8): DRF only checks the encoding (a 404), and
    hands the position to the database as it came."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-ocurrido_en", "-id")
    _modelo: type[Model] | None = None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        self._modelo = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Any) -> Cursor | None:
        codificado = request.query_params.get(self.cursor_query_param)
        if codificado is None:
            return None
        cursor = self._cursor_de(codificado)
        if cursor.position is None or self._modelo is None:
            return cursor
        campo: Any = self._modelo._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            posicion = campo.to_python(cursor.position)
            if isinstance(posicion, dt.datetime):
                if posicion.tzinfo is None:
                    posicion = posicion.replace(tzinfo=dt.UTC)
                # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
                posicion = posicion.astimezone(dt.UTC)
        except (ErrorDeModelo, OverflowError, ValueError, TypeError):
            raise _cursor_invalido() from None
        if posicion is None:
            raise _cursor_invalido()
        # DRF's stubs type the position as int; it is the ordering field's value as text.
        texto: Any = posicion.isoformat() if isinstance(posicion, dt.datetime) else str(posicion)
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=texto)

    def _cursor_de(self, codificado: str) -> Cursor:
        """Decode strictly what `encode_cursor` writes: valid base64 of a query string with
        only `o` (offset), `r` (0/1) and `p` (position), each once. DRF's own decoding skips
        stray characters and unknown keys, so garbage would pass as "the first page"."""
        try:
            texto = b64decode(codificado.encode("ascii"), validate=True).decode("ascii")
            campos = parse.parse_qs(texto, keep_blank_values=True, strict_parsing=True)
            if set(campos) - {"o", "r", "p"} or any(len(v) != 1 for v in campos.values()):
                raise ValueError("unknown or repeated cursor fields")
            reverso = campos.get("r", ["0"])[0]
            if reverso not in ("0", "1"):
                raise ValueError("r must be 0 or 1")
            desplazamiento = _positive_int(campos.get("o", ["0"])[0], cutoff=self.offset_cutoff)
        except (TypeError, ValueError, binascii.Error):
            raise _cursor_invalido() from None
        posicion: Any = campos.get("p", [None])[0]
        return Cursor(offset=desplazamiento, reverse=reverso == "1", position=posicion)


def _cursor_invalido() -> ValidationError:
    return ValidationError(
        {"cursor": ["Invalid cursor: use the `next` and `previous` links exactly as given."]}
    )
