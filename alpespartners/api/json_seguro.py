"""JSON from untrusted clients: a bounded size, a bounded depth, and the text of odd numbers.

Every JSON body the service reads (the whole API through `ParserJSONSeguro`, event ingestion
through `json_cargar_rapido`, the payments callback and the seed's legacy endpoints) goes
through this module, so hostile input is a 4xx naming the problem, never a 5xx (PRODUCT.md §8):

- **Size**: more than `DATA_UPLOAD_MAX_MEMORY_SIZE` (1 MB) is a 413 (`RequestDataTooBig`).
- **Depth**: arrays and objects nested deeper than `PROFUNDIDAD_MAXIMA` (64) levels are a 400
  (`code: json_too_deep`). The depth is measured on the raw text before parsing, so a body
  nested 50,000 levels never reaches a recursive parser (the standard library's would raise
  RecursionError, a 500).
- **Non-standard constants** (`NaN`, `Infinity`) are a 400: they are not JSON.
- **Numbers keep their text when it matters.** Money is plain digits with at most two decimals
  (`alpespartners.dinero`); a parsed float cannot tell `1e3` from `1000.0`. A number whose
  text has an exponent, a sign or more than two decimals is therefore parsed as `NumeroJSON`
  (a float) or `EnteroJSON` (an int) carrying its original text in `texto_json`, which the
  money rules read; every other number is a plain float or int. Both behave as numbers
  everywhere else (`a_json_plano` turns them back into plain ones before storing).

The ingestion hot path parses with orjson (and measures depth with a few C-level byte
operations), and falls back to the standard library with the hooks above only when a money
field comes as a JSON number.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

__all__ = [
    "PROFUNDIDAD_MAXIMA",
    "EnteroJSON",
    "JSONDemasiadoProfundo",
    "JSONInvalido",
    "NumeroJSON",
    "ParserJSONSeguro",
    "a_json_plano",
    "cuerpo_leer",
    "json_cargar",
    "json_cargar_rapido",
    "profundidad_excede",
]

PROFUNDIDAD_MAXIMA = 64

# A JSON string, escapes included (unrolled loop: linear, no backtracking).
_CADENA = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Every byte that is not a bracket (or not a bracket nor a quote), for bytes.translate.
_NO_CORCHETES = bytes(b for b in range(256) if b not in b"[]{}")
_NO_CORCHETES_NI_COMILLAS = bytes(b for b in range(256) if b not in b'[]{}"')
# The shape of a number that a float or an int represents faithfully for money purposes.
_FORMA_SIMPLE = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)


class JSONInvalido(ParseError):
    """The body is not valid JSON (400)."""

    default_detail = "Malformed JSON."
    default_code = "parse_error"


class JSONDemasiadoProfundo(JSONInvalido):
    """Arrays or objects nested deeper than PROFUNDIDAD_MAXIMA levels (400)."""

    default_detail = f"JSON nested deeper than {PROFUNDIDAD_MAXIMA} levels is not accepted."
    default_code = "json_too_deep"


class NumeroJSON(float):
    """A JSON number parsed to float whose text (`texto_json`) a float cannot reproduce."""

    texto_json: str

    def __new__(cls, texto: str) -> NumeroJSON:
        numero = super().__new__(cls, texto)
        numero.texto_json = texto
        return numero


class EnteroJSON(int):
    """A JSON integer with a sign (`-0` is not `0` for money), with its text."""

    texto_json: str

    def __new__(cls, texto: str) -> EnteroJSON:
        numero = super().__new__(cls, texto)
        numero.texto_json = texto
        return numero


def _corchetes_estructurales(cuerpo: bytes) -> bytes:
    """The brackets of a JSON text that are structure, in order (those inside strings out).

    In C-level byte operations: keep only quotes and brackets. Without escaped quotes, quotes
    alternate open/close, so dropping every `""` pair leaves no quote at all exactly when no
    string holds a bracket (a bracket inside a string splits an odd run of quotes); then what
    is left is the structure. Otherwise the odd-numbered pieces between quotes are the
    strings' insides and are dropped. A body with escaped quotes falls back to a regular
    expression over the strings.
    """
    if b'\\"' in cuerpo:
        return _CADENA.sub(b"", cuerpo).translate(None, _NO_CORCHETES)
    reducido = cuerpo.translate(None, _NO_CORCHETES_NI_COMILLAS)
    sin_pares = reducido.replace(b'""', b"")
    if b'"' not in sin_pares:
        return sin_pares
    return b"".join(reducido.split(b'"')[::2])


def _anida_de_mas(corchetes: bytes, maximo: int) -> bool:
    """Exact: whether the bracket sequence opens more than `maximo` levels at some point."""
    nivel = 0
    for byte in corchetes:
        if byte in (91, 123):  # [ {
            nivel += 1
            if nivel > maximo:
                return True
        elif nivel:
            nivel -= 1
    return False


def profundidad_excede(cuerpo: bytes, maximo: int = PROFUNDIDAD_MAXIMA) -> bool:
    """True when arrays/objects in `cuerpo` nest deeper than `maximo` levels (strings ignored).

    Linear in the body. Peeling innermost pairs with `bytes.replace` removes one or two levels
    per pass, so a body that empties within `maximo // 2` passes is shallow enough; anything
    else (deep, or unbalanced: invalid anyway) is counted exactly.
    """
    corchetes = _corchetes_estructurales(cuerpo)
    if len(corchetes) <= 2 * maximo:
        return False
    resto = corchetes
    for _ in range(maximo // 2):
        siguiente = resto.replace(b"[]", b"").replace(b"{}", b"")
        if not siguiente:
            return False
        if siguiente == resto:
            break
        resto = siguiente
    return _anida_de_mas(corchetes, maximo)


def _flotante(texto: str) -> float:
    return float(texto) if _FORMA_SIMPLE.fullmatch(texto) else NumeroJSON(texto)


def _entero(texto: str) -> int:
    return int(texto) if texto[0] != "-" else EnteroJSON(texto)


def _constante(nombre: str) -> Any:
    raise ValueError(f"{nombre} is not valid JSON")


def _como_bytes(cuerpo: bytes | str) -> bytes:
    return cuerpo.encode("utf-8") if isinstance(cuerpo, str) else bytes(cuerpo)


def json_cargar(cuerpo: bytes | str) -> Any:
    """Parse an untrusted JSON body: JSONDemasiadoProfundo or JSONInvalido (400) on bad input.

    Numbers whose text a float or an int would lose come back as NumeroJSON / EnteroJSON."""
    crudo = _como_bytes(cuerpo)
    if profundidad_excede(crudo):
        raise JSONDemasiadoProfundo()
    try:
        return json.loads(
            crudo, parse_float=_flotante, parse_int=_entero, parse_constant=_constante
        )
    except (ValueError, RecursionError) as exc:
        raise JSONInvalido(f"JSON parse error - {exc}") from None


def _dinero_numerico(datos: Any, claves: tuple[str, ...]) -> bool:
    """Whether the body (an object, or an object holding lists of objects such as a batch's
    `eventos`) gives one of `claves` as a JSON number."""
    if not isinstance(datos, dict):
        return False
    objetos = [datos]
    for valor in datos.values():
        if isinstance(valor, list):
            objetos.extend(o for o in valor if isinstance(o, dict))
    return any(type(o.get(c)) in (int, float) for o in objetos for c in claves)


def json_cargar_rapido(cuerpo: bytes | str, *, claves_dinero: tuple[str, ...] = ()) -> Any:
    """`json_cargar` for the hot path: orjson. Only when a money field (`claves_dinero`) comes
    as a JSON number is the body parsed again keeping the numbers' text (money sent as a
    string, as the docs advise, never pays for that)."""
    crudo = _como_bytes(cuerpo)
    if profundidad_excede(crudo):
        raise JSONDemasiadoProfundo()
    try:
        datos = orjson.loads(crudo)
    except orjson.JSONDecodeError as exc:
        raise JSONInvalido(f"JSON parse error - {exc}") from None
    if claves_dinero and _dinero_numerico(datos, claves_dinero):
        return json_cargar(crudo)
    return datos


def _plano(valor: Any) -> Any:
    if isinstance(valor, NumeroJSON):
        return float(valor)
    if isinstance(valor, EnteroJSON):
        return int(valor)
    raise TypeError(f"Type is not JSON serializable: {type(valor).__name__}")


def a_json_plano(valor: Any, *, opciones: int = 0) -> bytes:
    """orjson.dumps that turns NumeroJSON / EnteroJSON back into plain numbers."""
    return orjson.dumps(valor, default=_plano, option=opciones)


def cuerpo_leer(stream: Any) -> bytes:
    """The raw body from a DRF parser stream, refusing more than DATA_UPLOAD_MAX_MEMORY_SIZE
    (DRF reads the stream itself and would bypass Django's cap)."""
    limite = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if stream is None:
        return b""
    cuerpo: bytes = stream.read(limite + 1) if limite is not None else stream.read()
    if limite is not None and len(cuerpo) > limite:
        raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
    return cuerpo


class ParserJSONSeguro(JSONParser):
    """DRF's JSON parser for the whole API: size-capped, depth-limited, exact numbers."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return json_cargar(cuerpo_leer(stream))
