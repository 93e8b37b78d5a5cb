"""Where a webhook may go, and how it gets there (PRODUCT.md §10, SSRF protection).

A URL is checked twice: when it is registered (`url_validar`: its form, then its DNS answers)
and at every delivery (`enviar`): the host is resolved again, every address must be public,
and the request connects to the checked address itself (the TLS SNI, the certificate check
and the Host header keep the host name), so a DNS answer that changes between registration and
delivery (rebinding) never reaches an internal address. Redirects are not followed.

Refused: schemes other than https (http only with `WEBHOOKS_PERMITIR_PRIVADAS`), a user:password
part, IP literals in any form but canonical dotted decimal or bracketed IPv6 (decimal, octal,
hex, shortened forms), and addresses that are not globally routable: loopback, private,
link-local, CGNAT (100.64/10), multicast, reserved, unspecified (0.0.0.0, ::), IPv6 ULA and
link-local, IPv4-mapped/6to4/NAT64 forms of those, and cloud metadata addresses.
`WEBHOOKS_PERMITIR_PRIVADAS` (development and tests only) allows loopback and private
addresses; link-local, metadata, multicast and unspecified ones stay refused.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import urllib3
from django.conf import settings
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

LARGO_MAXIMO_URL = 2048
LARGO_RESPUESTA = 1024
USER_AGENT = "AlpesPartners-Webhooks/1.0"

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services, including those inside ranges that look public.
METADATOS = frozenset(
    ipaddress.ip_address(ip)
    for ip in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16",
               "fd00:ec2::254")
)  # fmt: skip
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_ETIQUETA_NUMERICA = re.compile(r"0x[0-9a-f]*|[0-9]+")
_PROHIBIDOS_EN_URL = re.compile(r"[\x00-\x20\x7f\\]")


class UrlNoPermitida(ValueError):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Destino:
    """A checked URL: scheme, host name (or literal), port and the path with its query."""

    esquema: str
    host: str
    puerto: int
    ruta: str

    @property
    def cabecera_host(self) -> str:
        nombre = f"[{self.host}]" if ":" in self.host else self.host
        por_defecto = 443 if self.esquema == "https" else 80
        return nombre if self.puerto == por_defecto else f"{nombre}:{self.puerto}"


def permitir_privadas() -> bool:
    return bool(getattr(settings, "WEBHOOKS_PERMITIR_PRIVADAS", False))


def _embebidas(ip: IP) -> list[IP]:
    """IPv4 addresses carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    dentro: list[IP] = []
    if ip.ipv4_mapped is not None:
        dentro.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        dentro.append(ip.sixtofour)
    if ip.teredo is not None:
        dentro.extend(ip.teredo)
    if ip in _NAT64 or ip in _LOCAL_NAT64:
        dentro.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return dentro


def ip_permitida(ip: IP, *, privadas: bool = False) -> bool:
    """Whether a delivery may connect to `ip` (`privadas`: the development setting)."""
    if any(not ip_permitida(e, privadas=privadas) for e in _embebidas(ip)):
        return False
    if ip in METADATOS or ip.is_multicast or ip.is_unspecified or ip.is_link_local:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return False
    if privadas and (ip.is_loopback or ip.is_private):
        return True
    return ip.is_global and not (ip.is_private or ip.is_reserved or ip.is_loopback)


def _literal(host: str) -> IP | None:
    """The IP a host literal names; UrlNoPermitida for non-canonical numeric forms."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    etiquetas = host.split(".")
    if all(_ETIQUETA_NUMERICA.fullmatch(e) for e in etiquetas):
        raise UrlNoPermitida(
            "IP addresses must be written in dotted decimal (or [IPv6]); decimal, octal, "
            "hex and shortened forms are refused."
        )
    return None


def _partes(url: Any, privadas: bool) -> SplitResult:
    if not isinstance(url, str) or not url:
        raise UrlNoPermitida("A URL is required.")
    if len(url) > LARGO_MAXIMO_URL:
        raise UrlNoPermitida(f"At most {LARGO_MAXIMO_URL} characters.")
    if _PROHIBIDOS_EN_URL.search(url) or not url.isascii():
        raise UrlNoPermitida("No spaces, control characters, backslashes or non-ASCII text.")
    partes = urlsplit(url)
    esquemas = ("https", "http") if privadas else ("https",)
    if partes.scheme.lower() not in esquemas:
        raise UrlNoPermitida("Must be an https:// URL.")
    if "@" in partes.netloc or partes.username or partes.password:
        raise UrlNoPermitida("A user:password part is not allowed.")
    if partes.fragment:
        raise UrlNoPermitida("A #fragment is not allowed.")
    if not partes.hostname:
        raise UrlNoPermitida("The URL has no host.")
    return partes


def destino_de(url: Any, *, privadas: bool | None = None) -> Destino:
    """Check the form of `url` (no DNS) and split it. Raises UrlNoPermitida."""
    privadas = permitir_privadas() if privadas is None else privadas
    partes = _partes(url, privadas)
    host = (partes.hostname or "").rstrip(".")
    try:
        puerto = partes.port
    except ValueError:
        raise UrlNoPermitida("The port is not a number from 1 to 65535.") from None
    if puerto == 0 or not host:
        raise UrlNoPermitida("The URL has no valid host and port.")
    literal = _literal(host)
    if literal is not None and not ip_permitida(literal, privadas=privadas):
        raise UrlNoPermitida("The address is not public (loopback, private, link-local, …).")
    esquema = partes.scheme.lower()
    ruta = partes.path or "/"
    if partes.query:
        ruta += "?" + partes.query
    return Destino(esquema, host, puerto or (443 if esquema == "https" else 80), ruta)


def resolver_host(host: str, puerto: int) -> list[str]:
    """The addresses DNS gives for `host` (tests replace this function, not the network)."""
    infos = socket.getaddrinfo(host, puerto, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def direcciones_comprobadas(destino: Destino, *, privadas: bool | None = None) -> list[str]:
    """Resolve the destination's host now and check every answer; all must be allowed (a name
    with one internal address among public ones is refused). Raises UrlNoPermitida."""
    privadas = permitir_privadas() if privadas is None else privadas
    try:
        literal = ipaddress.ip_address(destino.host)
    except ValueError:
        literal = None
    if literal is not None:
        direcciones = [str(literal)]
    else:
        try:
            direcciones = resolver_host(destino.host, destino.puerto)
        except (OSError, UnicodeError):
            raise UrlNoPermitida(f"The host {destino.host!r} does not resolve.") from None
    if not direcciones:
        raise UrlNoPermitida(f"The host {destino.host!r} does not resolve.")
    for direccion in direcciones:
        try:
            ip = ipaddress.ip_address(direccion.split("%", 1)[0])
        except ValueError:
            raise UrlNoPermitida("The host resolves to an unusable address.") from None
        if not ip_permitida(ip, privadas=privadas):
            raise UrlNoPermitida(
                f"The host {destino.host!r} resolves to a non-public address ({ip})."
            )
    return direcciones


def url_validar(url: Any) -> str:
    """Registration check of a webhook URL: its form, then its DNS answers. Returns the URL;
    raises UrlNoPermitida with the reason."""
    direcciones_comprobadas(destino_de(url))
    return str(url)


# --- Delivery ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Respuesta:
    """What one attempt got: an HTTP status (None when no answer), latency, the answer's first
    KB, and the error (empty on a 2xx)."""

    estado_http: int | None
    latencia_ms: int
    fragmento: str
    error: str

    @property
    def exito(self) -> bool:
        return self.estado_http is not None and 200 <= self.estado_http < 300


_MAX_POOLS = 64
_pools: OrderedDict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = OrderedDict()


def _pool(destino: Destino, ip: str) -> urllib3.HTTPConnectionPool:
    """A keep-alive pool to the checked address `ip`, per (scheme, ip, port, host name)."""
    clave = (destino.esquema, ip, destino.puerto, destino.host)
    pool = _pools.get(clave)
    if pool is not None:
        _pools.move_to_end(clave)
        return pool
    if destino.esquema == "https":
        pool = urllib3.HTTPSConnectionPool(
            ip,
            destino.puerto,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            server_hostname=destino.host,  # SNI
            assert_hostname=destino.host,  # the certificate must name the host, not the IP
        )
    else:
        pool = urllib3.HTTPConnectionPool(ip, destino.puerto, maxsize=1, retries=False)
    _pools[clave] = pool
    while len(_pools) > _MAX_POOLS:
        _, viejo = _pools.popitem(last=False)
        viejo.close()
    return pool


def _describir(exc: BaseException, timeout_lectura: float) -> str:
    if isinstance(exc, ReadTimeoutError):
        return f"timeout: no answer within {timeout_lectura:g}s"
    if isinstance(exc, NewConnectionError):  # (a subclass of ConnectTimeoutError)
        return "connection refused or unreachable"
    if isinstance(exc, ConnectTimeoutError):
        return "timeout: could not connect in time"
    if isinstance(exc, SSLError):
        return "TLS error: the certificate does not match the host or is not trusted"
    if isinstance(exc, ProtocolError):
        return "connection dropped before an answer"
    return f"request error: {type(exc).__name__}"


def _leer(respuesta: Any) -> str:
    """The answer's first KB; the connection is reused only when the rest is small."""
    fragmento = respuesta.read(LARGO_RESPUESTA, decode_content=False) or b""
    restante = respuesta.length_remaining
    if restante is not None and restante <= 65536:
        respuesta.drain_conn()
        respuesta.release_conn()
    else:
        respuesta.close()
    return bytes(fragmento).decode("utf-8", errors="replace")[:LARGO_RESPUESTA]


def enviar(
    metodo: str,
    url: str,
    *,
    cuerpo: bytes | None,
    cabeceras: dict[str, str],
    timeout_conexion: float,
    timeout_lectura: float,
) -> Respuesta:
    """One HTTP request to `url` after checking it again (form, DNS, every address), connected
    to the checked address. Never raises: a refused URL or a network failure is a Respuesta
    with the error. Redirects are answers like any other non-2xx (not followed)."""
    t0 = time.monotonic()
    try:
        destino = destino_de(url)
        ip = direcciones_comprobadas(destino)[0]
    except UrlNoPermitida as exc:
        return Respuesta(None, 0, "", f"refused: {exc}")
    todas = {**cabeceras, "Host": destino.cabecera_host, "User-Agent": USER_AGENT}
    timeout = urllib3.Timeout(connect=timeout_conexion, read=timeout_lectura)
    try:
        respuesta = _pool(destino, ip).urlopen(
            metodo,
            destino.ruta,
            body=cuerpo,
            headers=todas,
            redirect=False,
            retries=False,
            timeout=timeout,
            preload_content=False,
            assert_same_host=False,
        )
        fragmento = _leer(respuesta)
    except (HTTPError, OSError) as exc:
        latencia = int((time.monotonic() - t0) * 1000)
        return Respuesta(None, latencia, "", _describir(exc, timeout_lectura))
    latencia = int((time.monotonic() - t0) * 1000)
    estado = int(respuesta.status)
    error = ""
    if not 200 <= estado < 300:
        error = (
            f"redirect not followed (HTTP {estado})" if 300 <= estado < 400 else f"HTTP {estado}"
        )
    return Respuesta(estado, latencia, fragmento, error)
