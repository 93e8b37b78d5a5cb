"""Where a tracking link may send a visitor (PRODUCT.md §8, "Destinations").

A marca declares its `dominios` (host names; a subdomain of a listed name counts; when none
are listed, the host of `sitio_web` is the one). A publicacion's `url_destino` must be an
http(s) URL on one of them, with no user:password part. Pure functions, no database: the
catalogue services and model validation check a URL before it is stored, and the tracking
link checks it again when it caches a destination, so a row written before the rule (or behind
the application's back) never redirects anywhere else.

Host names are compared in their canonical ASCII form: lowercase, without a trailing dot, and
internationalised names as IDNA A-labels (`xn--…`) mapped the way browsers map them (UTS #46,
non-transitional). A look-alike (`brаnd.com` with a Cyrillic "а") therefore becomes a
different `xn--` name and matches nothing; `brand.com.evil.example` is not a subdomain of
`brand.com`. Anything a browser and Python's URL parser could read differently is refused
outright: backslashes, whitespace and control characters anywhere, a user-info part (`@`),
percent-encoded hosts, IP literals, upper-case schemes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import idna

MAX_DOMINIOS = 20
MAX_LARGO_DOMINIO = 253
_ETIQUETA = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ESQUEMAS = ("http://", "https://")
_PUERTO = re.compile(r"^[0-9]{1,5}$")

__all__ = [
    "MAX_DOMINIOS",
    "MAX_LARGO_DOMINIO",
    "DestinoInvalido",
    "dominios_efectivos",
    "dominios_normalizar",
    "host_normalizar",
    "url_destino_permitida",
    "url_destino_validar",
]


class DestinoInvalido(ValueError):
    """A host name, a list of dominios or a url_destino broke the rule; the message says why."""


def host_normalizar(host: str) -> str:
    """`host` in canonical ASCII form (lowercase, IDNA A-labels, no trailing dot).

    Raises DestinoInvalido unless it is a DNS host name of at least two labels, or `localhost`
    (development). IP addresses, other single labels (a bare `com` would let every .com
    through), empty labels and characters outside letters, digits and hyphens are refused."""
    if not host or len(host) > MAX_LARGO_DOMINIO + 1:
        raise DestinoInvalido("Not a valid host name.")
    if host.endswith("."):
        host = host[:-1]
    if host.isascii():
        ascii_host = host.lower()
    else:
        try:
            ascii_host = idna.encode(host, uts46=True, transitional=False, std3_rules=True).decode(
                "ascii"
            )
        except (idna.IDNAError, UnicodeError):
            raise DestinoInvalido("Not a valid internationalised host name.") from None
    etiquetas = ascii_host.split(".")
    if (
        len(ascii_host) > MAX_LARGO_DOMINIO
        or (len(etiquetas) < 2 and ascii_host != "localhost")
        or not all(_ETIQUETA.match(e) for e in etiquetas)
        or etiquetas[-1].isdigit()
    ):
        raise DestinoInvalido("Not a valid host name.")
    for etiqueta in etiquetas:
        if etiqueta.startswith("xn--"):
            try:
                idna.decode(etiqueta)
            except (idna.IDNAError, UnicodeError):
                raise DestinoInvalido("Not a valid internationalised host name.") from None
    return ascii_host


def dominios_normalizar(valor: Any) -> list[str]:
    """A marca's `dominios` as stored: a list of canonical host names, without repeats.

    Accepts host names only (no scheme, port, path or wildcard: subdomains are included
    anyway), at most `MAX_DOMINIOS` of at most 253 characters. Raises DestinoInvalido."""
    if not isinstance(valor, list | tuple):
        raise DestinoInvalido("Must be a list of host names.")
    if len(valor) > MAX_DOMINIOS:
        raise DestinoInvalido(f"At most {MAX_DOMINIOS} host names.")
    resultado: list[str] = []
    for item in valor:
        if not isinstance(item, str) or not item.strip():
            raise DestinoInvalido("Each entry must be a non-empty host name.")
        texto = item.strip()
        if len(texto) > MAX_LARGO_DOMINIO:
            raise DestinoInvalido(f"A host name has at most {MAX_LARGO_DOMINIO} characters.")
        if texto.startswith("*"):
            raise DestinoInvalido(
                f'"{texto}": list the domain itself; its subdomains are included.'
            )
        if any(c in texto for c in "/:@?#\\%[]") or _tiene_espacios(texto):
            raise DestinoInvalido(
                f'"{texto}" is not a host name: no scheme, port, path or spaces '
                '(e.g. "shop.example.com").'
            )
        try:
            host = host_normalizar(texto)
        except DestinoInvalido as exc:
            raise DestinoInvalido(f'"{texto}": {exc}') from None
        if host not in resultado:
            resultado.append(host)
    return resultado


def dominios_efectivos(dominios: Iterable[Any] | None, sitio_web: str) -> tuple[str, ...]:
    """The host names a marca's links may redirect to: its `dominios`, or else the host of its
    `sitio_web`, or none. Defensive about stored values (what is not a valid host is
    ignored): the tracking link calls it on rows it did not validate itself."""
    propios = []
    for d in dominios or ():
        if isinstance(d, str):
            try:
                propios.append(host_normalizar(d))
            except DestinoInvalido:
                continue
    if propios:
        return tuple(propios)
    if not sitio_web:
        return ()
    try:
        return (_host_de_url(sitio_web),)
    except DestinoInvalido:
        return ()


def _tiene_espacios(texto: str) -> bool:
    """Whitespace or control/format characters (which browsers strip or reinterpret)."""
    return any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in texto)


def _host_de_url(url: str) -> str:
    """The canonical host of an absolute http(s) URL, refusing anything a browser could read
    differently from Python's parser. Raises DestinoInvalido."""
    if not url.startswith(_ESQUEMAS):
        raise DestinoInvalido("Enter an absolute http:// or https:// URL.")
    if _tiene_espacios(url) or "\\" in url:
        raise DestinoInvalido("Must not contain spaces, control characters or backslashes.")
    try:
        autoridad = urlsplit(url).netloc
    except ValueError:
        raise DestinoInvalido("Enter a valid URL.") from None
    if "@" in autoridad:
        raise DestinoInvalido("Must not contain a user name or password.")
    if not autoridad or autoridad.startswith("["):
        raise DestinoInvalido("Must name a host (not an IP address).")
    host, separador, puerto = autoridad.rpartition(":") if ":" in autoridad else (autoridad, "", "")
    if separador and not (_PUERTO.match(puerto) and 0 < int(puerto) < 65536):
        raise DestinoInvalido("Not a valid port.")
    return host_normalizar(host)


def url_destino_validar(url: str, dominios: Sequence[str]) -> None:
    """Raise DestinoInvalido unless `url` is an http(s) URL on one of `dominios` (canonical
    host names, as `dominios_efectivos` gives them) or a subdomain of one."""
    host = _host_de_url(url)
    if not dominios:
        raise DestinoInvalido(
            "The marca declares no domains: set its dominios (or its sitio_web) first."
        )
    if not any(host == d or host.endswith("." + d) for d in dominios):
        raise DestinoInvalido(
            f'Must be on one of the marca\'s domains ({", ".join(dominios)}), not "{host}".'
        )


def url_destino_permitida(url: str, dominios: Sequence[str]) -> bool:
    """Whether the tracking link may redirect to `url` (see `url_destino_validar`)."""
    try:
        url_destino_validar(url, dominios)
    except DestinoInvalido:
        return False
    return True
