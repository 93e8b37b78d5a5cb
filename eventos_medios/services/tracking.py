"""The tracking link `GET /t/<codigo>` (PRODUCT.md §2): the flash-sale hot path.

Budget per click: ONE Redis round trip (one server-side script: rate-limit counter, cached
publicacion, the duplicate-rule claim), ONE committed INSERT (`almacen.evento_click_insertar`:
raw SQL, no model instantiation, no `SELECT 1` health check before it) and a redirect.
No Celery round trip before answering; `eventos_registrados` is sent on commit for counted
clicks. Without Redis (embedded mode, or Redis down) the same rules run through the local cache
and the database.

Rules:
- unknown code, a publicacion without `url_destino`, without a marca, or whose url_destino is
  not on its marca's domains (`eventos_medios.destinos`; rows written before that rule
  included) → 404, nothing stored. The check runs when the destination is cached, so it
  costs the hot path nothing;
- HEAD → stored `descartado`/`head` and redirected;
- a known bot user agent (or an empty one) → stored `descartado`/`bot` and redirected;
- the publicacion's socio or marca is deactivated → redirected (the visitor is not punished),
  stored `descartado`/`inactivo`, and it takes no duplicate-rule claim. The flag travels in the
  cached destination (no extra query or round trip);
- `apc_vid` is only a hint kept in the click's `metadata` (`{"apc_vid": …}`): the click has no
  visitante_id until the brand binds it (`almacen.eventos_insertar`), PRODUCT.md §8;
- a click counts once per (socio, marca, IP hash) per hour across all of that partner's codes;
  a repeat within the hour of a counted click is stored `descartado`/`duplicado`
  (`services.duplicados`: the Redis claim, or a database look-up when Redis is unavailable);
- only `sha256(IP_HASH_SALT + ip)` is stored, never the IP.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from alpespartners.api.ratelimit import (
    Limite,
    cache_disponible,
    cache_fallo,
    limite_clave,
    limite_consumir,
    limite_espera,
    redis_crudo,
)
from alpespartners.senales import enviar_al_confirmar
from eventos_medios import almacen, destinos
from eventos_medios.models import (
    EstadoAtribucion,
    MotivoDescarte,
    Publicacion,
)
from eventos_medios.services import duplicados
from eventos_medios.signals import eventos_registrados

# Known crawlers, link unfurlers, monitors and HTTP libraries. A human's browser never sends
# these; an empty user agent is treated as a bot as well.
PATRON_BOTS = re.compile(
    r"\bbot\b|bot/|bot;|bot\)|bot-|crawl|spider|slurp|googlebot|bingbot|yandex|baiduspider|duckduckbot|"
    r"facebookexternalhit|facebookcatalog|meta-externalagent|slackbot|slack-imgproxy|"
    r"twitterbot|linkedinbot|discordbot|telegrambot|whatsapp|skypeuripreview|embedly|"
    r"pinterest|redditbot|applebot|petalbot|semrush|ahrefs|mj12bot|dotbot|headlesschrome|"
    r"phantomjs|lighthouse|pingdom|uptimerobot|statuscake|site24x7|"
    r"curl/|wget/|python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|"
    r"java/|libwww-perl|apache-httpclient|node-fetch|axios/|postmanruntime|insomnia",
    re.IGNORECASE,
)

CODIGO_VALIDO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
VISITANTE_VALIDO = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
PARAMETRO_CLICK = "apc_click"
PARAMETRO_VISITANTE = "apc_vid"
# The partner's own labels on a link (`/t/<codigo>?sub1=…`), kept in the click's metadata for
# its postbacks: at most 100 characters each, printable ASCII only.
PARAMETROS_SUB = ("sub1", "sub2", "sub3", "sub4", "sub5")
_LARGO_SUB = 100
_SUB_VALIDO = re.compile(r"[\x21-\x7e ]+")
_TTL_PUBLICACION_SEGUNDOS = 30
_TTL_PUBLICACION_AUSENTE_SEGUNDOS = 5
# "pubdst:": values carry the activity flag (an older "pubcod:" value has none: never read it).
_PREFIJO_CACHE = "pubdst:"
_AUSENTE = "-"
_LARGO_USER_AGENT = 512


@dataclass(frozen=True)
class DestinoPublicacion:
    """What the hot path needs of a publicacion (cached by codigo). Only destinations on the
    marca's domains are ever built; `activo` is False when its socio or marca is deactivated."""

    publicacion_id: uuid.UUID
    marca_id: uuid.UUID | None
    socio_id: uuid.UUID | None
    url_destino: str
    activo: bool = True


@dataclass(frozen=True)
class ClickRegistrado:
    evento_id: uuid.UUID
    url_redireccion: str
    estado: str
    motivo_descarte: str


@dataclass(frozen=True)
class ResultadoClick:
    """`click` stored (redirect), or None: 404 unless `espera` says 429 + Retry-After."""

    click: ClickRegistrado | None
    espera: int | None = None


def subs_limpiar(consulta: Any) -> dict[str, str]:
    """`sub1`…`sub5` from the link's query (a Mapping), truncated and dropped unless printable
    ASCII: what the click keeps in its metadata for the partner's postbacks."""
    subs = {}
    for nombre in PARAMETROS_SUB:
        valor = str(consulta.get(nombre) or "")[:_LARGO_SUB]
        if valor and _SUB_VALIDO.fullmatch(valor):
            subs[nombre] = valor
    return subs


def ip_hash(ip: str) -> str:
    """The only form in which an IP is ever stored: sha256(IP_HASH_SALT + ip)."""
    return hashlib.sha256((settings.IP_HASH_SALT + ip).encode()).hexdigest()


def es_bot(user_agent: str) -> bool:
    return not user_agent.strip() or PATRON_BOTS.search(user_agent) is not None


def url_con_click(url_destino: str, evento_id: uuid.UUID) -> str:
    """`url_destino` with `apc_click=<id>` in its query string (any previous one replaced);
    scheme, host, path and fragment are kept exactly as stored."""
    partes = urlsplit(url_destino)
    if partes.query:
        pares = [
            (k, v)
            for k, v in parse_qsl(partes.query, keep_blank_values=True)
            if k != PARAMETRO_CLICK
        ]
        pares.append((PARAMETRO_CLICK, str(evento_id)))
        query = urlencode(pares)
    else:
        query = f"{PARAMETRO_CLICK}={evento_id}"
    return urlunsplit((partes.scheme, partes.netloc, partes.path, query, partes.fragment))


def _clave_publicacion(codigo: str) -> str:
    return _PREFIJO_CACHE + codigo


def _codificar(destino: DestinoPublicacion | None) -> str:
    if destino is None:
        return _AUSENTE
    return "|".join(
        (
            str(destino.publicacion_id),
            str(destino.marca_id or ""),
            str(destino.socio_id or ""),
            "1" if destino.activo else "0",
            destino.url_destino,
        )
    )


def _decodificar(valor: str) -> DestinoPublicacion | None:
    if valor == _AUSENTE:
        return None
    pid, mid, sid, activo, url = valor.split("|", 4)
    return DestinoPublicacion(
        publicacion_id=uuid.UUID(pid),
        marca_id=uuid.UUID(mid) if mid else None,
        socio_id=uuid.UUID(sid) if sid else None,
        url_destino=url,
        activo=activo == "1",
    )


def _ttl(destino: DestinoPublicacion | None) -> int:
    return _TTL_PUBLICACION_SEGUNDOS if destino else _TTL_PUBLICACION_AUSENTE_SEGUNDOS


_CODIGOS_POR_BORRADO = 500


def destinos_cache_invalidar(*, codigos: Iterable[str]) -> None:
    """Drop the cached destinations of these tracking codes (after a change to a publicacion's
    url_destino, to its marca's domains or activation, or to its socio's activation). Deleted
    in chunks of `_CODIGOS_POR_BORRADO` keys per command; best effort: the short TTL expires
    them anyway."""
    claves = [_clave_publicacion(c) for c in codigos]
    try:
        r = redis_crudo()
        for inicio in range(0, len(claves), _CODIGOS_POR_BORRADO):
            trozo = claves[inicio : inicio + _CODIGOS_POR_BORRADO]
            if r is not None:
                r.delete(*(cache.make_key(c) for c in trozo))
            else:
                cache.delete_many(trozo)
    except Exception as exc:  # noqa: BLE001 - the short TTL expires it anyway
        cache_fallo(exc, donde="publicacion cache")


def publicacion_cache_invalidar(*, codigo: str) -> None:
    """Drop the cached destination of a tracking code (call after changing url_destino)."""
    destinos_cache_invalidar(codigos=[codigo])


def _publicacion_de_la_base(codigo: str) -> DestinoPublicacion | None:
    """The destination of `codigo` from the database (one query, joining its marca and socio),
    or None when the link must not redirect: no url_destino, no marca, or a url_destino off
    the marca's domains."""
    fila = (
        Publicacion.objects.filter(codigo=codigo)
        .values_list(
            "id",
            "marca_id",
            "medio__socio_id",
            "url_destino",
            "marca__dominios",
            "marca__sitio_web",
            "marca__activo",
            "medio__socio__activo",
        )
        .first()
    )
    if fila is None:
        return None
    pid, marca_id, socio_id, url, dominios, sitio_web, marca_activa, socio_activo = fila
    if not url or marca_id is None:
        return None
    if not destinos.url_destino_permitida(url, destinos.dominios_efectivos(dominios, sitio_web)):
        return None
    return DestinoPublicacion(
        publicacion_id=pid,
        marca_id=marca_id,
        socio_id=socio_id,
        url_destino=url,
        activo=bool(marca_activa) and socio_activo is not False,
    )


def publicacion_destino(*, codigo: str) -> DestinoPublicacion | None:
    """The publicacion behind `codigo` with a redirect target, or None. Cached briefly (a
    changed url_destino applies within `_TTL_PUBLICACION_SEGUNDOS`, or at once after
    `publicacion_cache_invalidar`)."""
    if not CODIGO_VALIDO.match(codigo):
        return None
    clave = _clave_publicacion(codigo)
    try:
        r = redis_crudo()
        cacheado = (
            r.get(cache.make_key(clave))
            if r is not None
            else (cache.get(clave) if cache_disponible() else None)
        )
    except Exception as exc:  # noqa: BLE001 - Redis down: read the database
        cache_fallo(exc, donde="publicacion cache")
        r, cacheado = None, None
    if cacheado is not None:
        return _decodificar(cacheado.decode() if isinstance(cacheado, bytes) else cacheado)
    destino = _publicacion_de_la_base(codigo)
    _recordar(codigo, destino, r)
    return destino


def _recordar(codigo: str, destino: DestinoPublicacion | None, r: Any) -> None:
    try:
        if r is not None:
            r.set(cache.make_key(_clave_publicacion(codigo)), _codificar(destino), ex=_ttl(destino))
        elif cache_disponible():
            cache.set(_clave_publicacion(codigo), _codificar(destino), _ttl(destino))
    except Exception as exc:  # noqa: BLE001
        cache_fallo(exc, donde="publicacion cache")


@dataclass(frozen=True)
class _Consulta:
    """What one Redis round trip told us (None fields: not asked or not answered)."""

    espera: int | None = None
    destino_cacheado: str | None = None
    reclamado: bool | None = None


# Rate-limit counter, cached publicacion and duplicate claim as ONE command (a server-side
# script: one request to pack and one reply to parse, cheaper client-side than a pipeline of
# four). KEYS[1] is the rate-limit counter ('' when not limited), KEYS[2] the cached
# publicacion. The claim's key is built here from the cached value's marca and socio, as
# `duplicados.clave_redis` builds it (prefix ARGV[3], '' when not claiming; IP hash ARGV[4]):
# the publicacion is not known before this round trip, and a click counts per (socio, marca,
# IP hash). (A key built inside a script rules out Redis Cluster; this project uses one
# Redis.) No claim when the destination is unknown, inactive (its flag is not '1': the click
# is discarded) or the request is over its rate limit (ARGV[5], -1 when none). Returns
# {count or -1, cached value or nil, 1 if claimed now else 0}.
_LUA_CONSULTA = """
local cuenta = -1
if KEYS[1] ~= '' then
  redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
  cuenta = redis.call('INCR', KEYS[1])
end
local destino = redis.call('GET', KEYS[2])
local reclamado = 0
local permitido = KEYS[1] == '' or cuenta <= tonumber(ARGV[5])
if ARGV[3] ~= '' and destino and destino ~= '-' and permitido then
  local marca, socio, activo = string.match(destino, '^[^|]*|([^|]*)|([^|]*)|([^|]*)|')
  if activo == '1' then
    local clave = ARGV[3] .. (socio or '') .. ':' .. (marca or '') .. ':' .. ARGV[4]
    if redis.call('SET', clave, 1, 'EX', ARGV[2], 'NX') then
      reclamado = 1
    end
  end
end
return {cuenta, destino, reclamado}
"""
_scripts: dict[int, Any] = {}


def _script_consulta(r: Any) -> Any:
    """The registered script for client `r` (EVALSHA, falling back to EVAL after a restart)."""
    script = _scripts.get(id(r))
    if script is None:
        script = _scripts[id(r)] = r.register_script(_LUA_CONSULTA)
    return script


def _consultar_redis(
    r: Any, *, codigo: str, huella_ip: str, reclamar: bool, limite: Limite | None
) -> _Consulta:
    """Rate-limit counter, cached publicacion and duplicate claim in ONE round trip."""
    ahora = time.time()
    clave_rl = (
        cache.make_key(limite_clave(ambito="t", identidad=huella_ip, limite=limite, ahora=ahora))
        if limite is not None
        else ""
    )
    cuenta, cacheado, reclamado = _script_consulta(r)(
        keys=[clave_rl, cache.make_key(_clave_publicacion(codigo))],
        args=[
            limite.ventana + 1 if limite is not None else 0,
            duplicados.SEGUNDOS_VENTANA,
            duplicados.prefijo_redis() if reclamar else "",
            huella_ip,
            limite.cantidad if limite is not None else -1,
        ],
        client=r,
    )
    espera = None
    if limite is not None:
        espera = limite_espera(cuenta=int(cuenta), limite=limite, ahora=ahora)
    return _Consulta(
        espera=espera,
        destino_cacheado=cacheado.decode() if cacheado is not None else None,
        reclamado=bool(reclamado) if reclamar else None,
    )


@dataclass(frozen=True)
class _Decision:
    """Where the click goes and whether it counts (no destino: 404, or 429 with `espera`).
    `reclamo` is the claim this click took, to give back if it cannot be stored."""

    destino: DestinoPublicacion | None = None
    espera: int | None = None
    duplicado: bool = False
    reclamo: tuple[duplicados.ReglaDuplicados, duplicados.ClaveClick] | None = None


def _contar(
    regla: duplicados.ReglaDuplicados, clave: duplicados.ClaveClick, ahora: datetime
) -> tuple[bool, duplicados.ReglaDuplicados]:
    """Ask `regla` whether the click counts; the database answers if Redis fails meanwhile."""
    try:
        return regla.reclamar(clave, ahora=ahora), regla
    except Exception as exc:  # noqa: BLE001 - Redis down: the database decides
        cache_fallo(exc, donde="duplicate click rule")
        base = duplicados.DuplicadosBaseDeDatos()
        return base.reclamar(clave, ahora=ahora), base


def _decision(
    destino: DestinoPublicacion,
    huella_ip: str,
    *,
    contado: bool | None,
    regla: duplicados.ReglaDuplicados,
) -> _Decision:
    """`contado`: whether the click took its claim (None: not asked, it is already discarded).
    An inactive destination never claims: its click is discarded as `inactivo`."""
    if contado is None or not destino.activo:
        return _Decision(destino=destino)
    clave = duplicados.ClaveClick(destino.socio_id, destino.marca_id, huella_ip)
    return _Decision(
        destino=destino, duplicado=not contado, reclamo=(regla, clave) if contado else None
    )


def _decidir_con_redis(
    r: Any, *, codigo: str, huella_ip: str, reclamar: bool, limite: Limite | None, ahora: datetime
) -> _Decision:
    consulta = _consultar_redis(
        r, codigo=codigo, huella_ip=huella_ip, reclamar=reclamar, limite=limite
    )
    if consulta.espera is not None:
        return _Decision(espera=consulta.espera)
    if consulta.destino_cacheado == _AUSENTE:
        return _Decision()
    if consulta.destino_cacheado is not None:
        destino = _decodificar(consulta.destino_cacheado)
        if destino is None:  # pragma: no cover - only _AUSENTE decodes to None
            return _Decision()
        return _decision(
            destino, huella_ip, contado=consulta.reclamado, regla=duplicados.DuplicadosRedis(r)
        )
    # Not cached: the script could not know the partner; read it, cache it, then claim.
    destino = _publicacion_de_la_base(codigo)
    _recordar(codigo, destino, r)
    if destino is None:
        return _Decision()
    if not reclamar or not destino.activo:
        return _Decision(destino=destino)
    clave = duplicados.ClaveClick(destino.socio_id, destino.marca_id, huella_ip)
    contado, regla = _contar(duplicados.DuplicadosRedis(r), clave, ahora)
    return _decision(destino, huella_ip, contado=contado, regla=regla)


def _decidir_sin_redis(
    *, codigo: str, huella_ip: str, reclamar: bool, limite: Limite | None, ahora: datetime
) -> _Decision:
    """No Redis (embedded mode with the local-memory cache, or Redis down)."""
    espera = limite_consumir(ambito="t", identidad=huella_ip, limite=limite)
    if espera is not None:
        return _Decision(espera=espera)
    destino = publicacion_destino(codigo=codigo)
    if destino is None:
        return _Decision()
    if not reclamar or not destino.activo:
        return _Decision(destino=destino)
    clave = duplicados.ClaveClick(destino.socio_id, destino.marca_id, huella_ip)
    regla = duplicados.DuplicadosBaseDeDatos()
    return _decision(destino, huella_ip, contado=regla.reclamar(clave, ahora=ahora), regla=regla)


def _decidir(
    *, codigo: str, huella_ip: str, reclamar: bool, limite: Limite | None, ahora: datetime
) -> _Decision:
    """Rate limit, destination and the duplicate rule: through Redis in one round trip, or
    through the local cache and the database when Redis is not there."""
    r = redis_crudo()
    if r is not None:
        try:
            return _decidir_con_redis(
                r, codigo=codigo, huella_ip=huella_ip, reclamar=reclamar, limite=limite, ahora=ahora
            )
        except Exception as exc:  # noqa: BLE001 - Redis down: database fallbacks below
            cache_fallo(exc, donde="tracking")
    return _decidir_sin_redis(
        codigo=codigo, huella_ip=huella_ip, reclamar=reclamar, limite=limite, ahora=ahora
    )


def _guardar(decision: _Decision, destino: DestinoPublicacion, **click: Any) -> None:
    """Store the click (one committed INSERT); if that fails, give back the duplicate-rule claim
    it took, so that the visitor's retry counts."""
    try:
        almacen.evento_click_insertar(
            marca_id=destino.marca_id,
            publicacion_id=destino.publicacion_id,
            socio_id=destino.socio_id,
            **click,
        )
    except Exception:
        if decision.reclamo is not None:
            regla, clave = decision.reclamo
            regla.liberar(clave)
        raise


def _metadata(visitante_id: str, subs: Mapping[str, str] | None) -> str:
    """The click's metadata as JSON text: the `apc_vid` hint, when the link carried a
    well-formed one, and the partner's `sub1`…`sub5` labels; `{}` when neither."""
    datos: dict[str, str] = dict(subs or {})
    if visitante_id and VISITANTE_VALIDO.match(visitante_id):
        datos[PARAMETRO_VISITANTE] = visitante_id
    return orjson.dumps(datos).decode() if datos else "{}"


def _descarte_previo(*, es_head: bool, user_agent: str) -> str:
    """Why the click is discarded before any look-up (HEAD, bot), or ''."""
    if es_head:
        return MotivoDescarte.HEAD.value
    if es_bot(user_agent):
        return MotivoDescarte.BOT.value
    return ""


def click_registrar(
    *,
    codigo: str,
    ip: str,
    user_agent: str,
    es_head: bool = False,
    visitante_id: str = "",
    limite: Limite | None = None,
    subs: Mapping[str, str] | None = None,
) -> ResultadoClick:
    """Handle one hit on the tracking link `codigo`: rate limit, look up, classify, store.

    Returns `ResultadoClick` with either `espera` (rate limited: answer 429 + Retry-After,
    nothing stored), `click=None` (unknown code, or no destination on the marca's domains:
    404, nothing stored) or the stored click and its redirect URL. `visitante_id` (the link's
    `apc_vid`) is kept in the click's metadata only, never as its visitante_id. The INSERT
    runs in autocommit, so the click is durable before the caller answers;
    `eventos_registrados` is sent after commit for counted (non-discarded) clicks.
    """
    if not CODIGO_VALIDO.match(codigo):
        return ResultadoClick(click=None)
    ahora = timezone.now()
    huella_ip = ip_hash(ip)
    user_agent = user_agent[:_LARGO_USER_AGENT].replace("\x00", "")
    descarte = _descarte_previo(es_head=es_head, user_agent=user_agent)
    decision = _decidir(
        codigo=codigo, huella_ip=huella_ip, reclamar=not descarte, limite=limite, ahora=ahora
    )
    destino = decision.destino
    if destino is None:
        return ResultadoClick(click=None, espera=decision.espera)
    if not destino.activo and not descarte:
        descarte = MotivoDescarte.INACTIVO.value
    elif decision.duplicado:
        descarte = MotivoDescarte.DUPLICADO.value
    estado = EstadoAtribucion.DESCARTADO.value if descarte else EstadoAtribucion.PENDIENTE.value
    evento_id = uuid.uuid4()
    _guardar(
        decision,
        destino,
        evento_id=evento_id,
        momento=ahora,
        metadata_json=_metadata(visitante_id, subs),
        ip_hash=huella_ip,
        user_agent=user_agent,
        estado=estado,
        motivo_descarte=descarte,
    )
    if not descarte:
        enviar_al_confirmar(eventos_registrados, sender=click_registrar, evento_ids=[evento_id])
    url = url_con_click(destino.url_destino, evento_id)
    return ResultadoClick(
        click=ClickRegistrado(
            evento_id=evento_id, url_redireccion=url, estado=estado, motivo_descarte=descarte
        )
    )
