"""Event ingestion (PRODUCT.md §2): one event or a batch, validated lean, written once.

Hot path by design: validation is hand-written over plain dicts (no serializer or model
instance per item), references are resolved with one query per kind for the whole batch, and
rows are written by the table's owner, `eventos_medios.almacen` (COPY or one multi-row
`INSERT … ON CONFLICT DO NOTHING RETURNING id`).

Idempotency lives in the database:
- the primary key `id` (client-supplied UUID or generated) and
- the partial unique constraint on (marca, referencia_externa) for ventas.
Rows that the INSERT skipped are re-read: same id with the same `huella` (sha256 of the
canonical accepted fields) → the stored event (200); same id with another body → 409; a venta
whose reference is taken by another id → 409 naming the stored event (`evento_id`). Concurrent
identical requests are settled by the constraints, never by a read-then-write race.

Trust rules (PRODUCT.md §8), at no extra query: a `codigo_referido` must be that of a partner
in the event's marca's programme (`eventos_medios.programa`, the query that resolves the codes
anyway; one message whether the code is unknown or foreign); every visitante_id ingested is the
brand's word (`origen_visitante = marca`), and an event carrying a click_id as well binds that
click to its visitor (`almacen.eventos_insertar`).

After commit, `eventos_registrados` is sent with the ids of the rows newly inserted.

Public API (keyword-only):
    evento_registrar(*, datos, alcance, legado=False) -> tuple[dict, bool]
    eventos_registrar_lote(*, eventos, alcance, legado=False) -> list[dict]
    ALCANCE_INTERNO  # staff-like scope for internal callers (legacy endpoints, commands)
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from alpespartners.alcance import Alcance
from alpespartners.api.json_seguro import a_json_plano
from alpespartners.dinero import DineroInvalido, dinero_parsear
from alpespartners.errors import Conflicto, ErrorValidacion
from alpespartners.senales import enviar_al_confirmar
from eventos_medios import almacen, programa
from eventos_medios.models import (
    CODIGOS_MONEDA,
    EstadoAtribucion,
    Evento,
    Marca,
    OrigenVisitante,
    Publicacion,
    TipoEvento,
)
from eventos_medios.signals import eventos_registrados

T = TypeVar("T")

ALCANCE_INTERNO = Alcance(es_staff=True, marca_ids=frozenset(), socio_id=None)
"""Staff-like scope for trusted internal callers (legacy endpoints, management commands)."""

MARGEN_FUTURO = timedelta(minutes=5)
_TIPOS = frozenset(TipoEvento.values)
_MONEDAS = frozenset(CODIGOS_MONEDA)
_VALOR_MAXIMO = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_DOS_DECIMALES = Decimal("0.01")
_MAX_VISITANTE = 128
_MAX_CODIGO_REFERIDO = 32
_MAX_REFERENCIA = 200
_ZONA_NAIVE = re.compile(r"[zZ]|[+-]\d\d(:?\d\d)?$")
MENSAJE_CODIGO_REFERIDO = "Not the codigo_referido of a partner in this marca's programme."


class ConflictoLote(ErrorValidacion):
    """Some batch items conflict with stored events: 409, errors keyed by index."""

    status_code = 409

    def __init__(self, errores: dict[str, Any], conflictos: list[dict[str, Any]]) -> None:
        super().__init__(errores, mensaje="Some events conflict with stored events.")
        self.codigo = "conflict"
        self.extra = {"conflictos": conflictos}


# --- Representation -------------------------------------------------------------------------
def _iso(valor: datetime | None) -> str | None:
    if valor is None:
        return None
    if timezone.is_naive(valor):
        valor = timezone.make_aware(valor, UTC)
    texto = valor.astimezone(UTC).isoformat()
    return texto[:-6] + "Z" if texto.endswith("+00:00") else texto


def _uuid_txt(valor: Any) -> str | None:
    return None if valor is None else str(valor)


def evento_representar(fila: dict[str, Any]) -> dict[str, Any]:
    """The API representation of an event row (`almacen.CAMPOS_PUBLICOS`, named as in
    `almacen.CAMPOS_API`); the same shape as `EventoSerializer`, built without DRF fields so the
    hot path stays cheap."""
    valor = fila["valor"]
    metadata = fila["metadata"]
    if isinstance(metadata, str):  # raw SQL on SQLite returns the JSON text
        metadata = orjson.loads(metadata)
    return {
        "id": str(fila["id"]),
        "tipo": fila["tipo"],
        "ocurrido_en": _iso(fila["ocurrido_en"]),
        "recibido_en": _iso(fila["recibido_en"]),
        "marca": _uuid_txt(fila["marca_id"]),
        "publicacion": _uuid_txt(fila["publicacion_id"]),
        "socio": _uuid_txt(fila["socio_id"]),
        "click_id": _uuid_txt(fila["click_id"]),
        "visitante_id": fila["visitante_id"],
        "codigo_referido": fila["codigo_referido"],
        "valor": None if valor is None else str(Decimal(valor).quantize(_DOS_DECIMALES)),
        "moneda": fila["moneda"],
        "referencia_externa": fila["referencia_externa"],
        "metadata": metadata if metadata is not None else {},
        "user_agent": fila["user_agent"],
        "estado_atribucion": fila["estado_atribucion"],
        "motivo_descarte": fila["motivo_descarte"],
        "atribuido_en": _iso(fila["atribuido_en"]),
        "origen_visitante": fila["origen_visitante"],
        "motivo_atribucion": fila["motivo_atribucion"],
    }


# --- Lean validation of one item (no database) ----------------------------------------------
class _Errores(dict[str, list[str]]):
    def add(self, campo: str, mensaje: str) -> None:
        self.setdefault(campo, []).append(mensaje)


def _texto(datos: dict[str, Any], campo: str, largo: int, errores: _Errores) -> str:
    valor = datos.get(campo)
    if valor is None:
        return ""
    if not isinstance(valor, str):
        errores.add(campo, "Must be a string.")
        return ""
    if len(valor) > largo:
        errores.add(campo, f"Ensure this field has no more than {largo} characters.")
        return ""
    if "\x00" in valor:
        errores.add(campo, "Null characters are not allowed.")
        return ""
    try:
        valor.encode("utf-8")
    except UnicodeEncodeError:
        errores.add(campo, "Must be valid Unicode text.")
        return ""
    return valor.strip()


def _uuid(datos: dict[str, Any], campo: str, errores: _Errores) -> uuid.UUID | None:
    valor = datos.get(campo)
    if valor is None or valor == "":
        return None
    if isinstance(valor, uuid.UUID):
        return valor
    if isinstance(valor, str) and len(valor) <= 64:
        try:
            return uuid.UUID(valor)
        except ValueError:
            pass
    errores.add(campo, "Must be a valid UUID.")
    return None


def _fecha(valor: Any, campo: str, errores: _Errores) -> datetime | None:
    if isinstance(valor, datetime):
        fecha = valor
    elif isinstance(valor, str) and 0 < len(valor) <= 40:
        try:
            fecha = datetime.fromisoformat(valor)
        except ValueError:
            errores.add(campo, "Must be an ISO 8601 date-time (e.g. 2026-01-31T12:00:00Z).")
            return None
    else:
        errores.add(campo, "Must be an ISO 8601 date-time (e.g. 2026-01-31T12:00:00Z).")
        return None
    if fecha.tzinfo is None:
        fecha = fecha.replace(tzinfo=UTC)
    try:
        return fecha.astimezone(UTC)
    except (OverflowError, ValueError):
        errores.add(campo, "Date-time out of range.")
        return None


def _valor(datos: dict[str, Any], errores: _Errores) -> Decimal | None:
    """The money rules of PRODUCT.md §8 (`alpespartners.dinero`): plain ASCII digits, an
    optional point and at most two decimals, as a string or a number without exponent."""
    bruto = datos.get("valor")
    if bruto is None or bruto == "":
        return None
    try:
        return dinero_parsear(bruto, maximo=_VALOR_MAXIMO)
    except DineroInvalido as exc:
        errores.add("valor", str(exc))
        return None


def _metadata(datos: dict[str, Any], errores: _Errores) -> tuple[dict[str, Any], bytes]:
    bruto = datos.get("metadata")
    if bruto is None:
        return {}, b"{}"
    if not isinstance(bruto, dict):
        errores.add("metadata", "Must be a JSON object.")
        return {}, b"{}"
    try:
        serializado = orjson.dumps(bruto, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        try:  # numbers parsed with their text kept (json_seguro): stored as plain numbers
            serializado = a_json_plano(bruto, opciones=orjson.OPT_SORT_KEYS)
            bruto = orjson.loads(serializado)
        except (TypeError, orjson.JSONEncodeError):
            errores.add("metadata", "Contains values that cannot be stored as JSON.")
            return {}, b"{}"
    if len(serializado) > settings.MAX_METADATA_BYTES:
        errores.add(
            "metadata", f"Must be at most {settings.MAX_METADATA_BYTES} bytes once serialized."
        )
        return {}, b"{}"
    if b"\\u0000" in serializado:
        errores.add("metadata", "Null characters are not allowed.")
        return {}, b"{}"
    return bruto, serializado


def _ocurrido_en(
    datos: dict[str, Any], *, ahora: datetime, legado: bool, errores: _Errores
) -> datetime | None:
    """`ocurrido_en`: at most 5 minutes in the future (§2) and at most
    EVENTOS_ANTIGUEDAD_MAXIMA_DIAS in the past (§8; the seed's legacy endpoints are exempt)."""
    bruto = datos.get("ocurrido_en")
    if bruto is None or bruto == "":
        return None
    ocurrido_en = _fecha(bruto, "ocurrido_en", errores)
    if ocurrido_en is None:
        return None
    if ocurrido_en > ahora + MARGEN_FUTURO:
        errores.add("ocurrido_en", "Must not be more than 5 minutes in the future.")
        return None
    dias = settings.EVENTOS_ANTIGUEDAD_MAXIMA_DIAS
    if not legado and ocurrido_en < ahora - timedelta(days=dias):
        errores.add("ocurrido_en", f"Must not be more than {dias} days in the past.")
        return None
    return ocurrido_en


def _marca_del_alcance(
    marca_id: uuid.UUID | None, alcance: Alcance, legado: bool, errores: _Errores
) -> uuid.UUID | None:
    if alcance.es_staff:
        if marca_id is None and not legado:
            errores.add("marca", "This field is required.")
        return marca_id
    if marca_id is None:
        if len(alcance.marca_ids) == 1:
            return next(iter(alcance.marca_ids))
        errores.add("marca", "This field is required (your user sends for several marcas).")
        return None
    if marca_id not in alcance.marca_ids:
        # Same message whether it exists or not: never reveal other brands.
        errores.add("marca", "Unknown marca, or not one you may send events for.")
        return None
    return marca_id


def _normalizar(
    datos: Any, *, alcance: Alcance, ahora: datetime, legado: bool
) -> tuple[dict[str, Any], _Errores]:
    """Validate the fields that need no database; return the clean item and its errors."""
    errores = _Errores()
    if not isinstance(datos, dict):
        errores.add("non_field_errors", "Each event must be a JSON object.")
        return {}, errores

    tipo = datos.get("tipo")
    if tipo is None or tipo == "":
        errores.add("tipo", "This field is required.")
    elif not isinstance(tipo, str) or tipo not in _TIPOS:
        errores.add("tipo", f"Must be one of: {', '.join(TipoEvento.values)}.")
        tipo = None

    ocurrido_en = _ocurrido_en(datos, ahora=ahora, legado=legado, errores=errores)
    evento_id = _uuid(datos, "id", errores)
    marca_id = _marca_del_alcance(_uuid(datos, "marca", errores), alcance, legado, errores)
    publicacion_id = _uuid(datos, "publicacion", errores)
    click_id = _uuid(datos, "click_id", errores)
    visitante_id = _texto(datos, "visitante_id", _MAX_VISITANTE, errores)
    codigo_referido = _texto(datos, "codigo_referido", _MAX_CODIGO_REFERIDO, errores)
    referencia = _texto(datos, "referencia_externa", _MAX_REFERENCIA, errores)
    moneda = _texto(datos, "moneda", 3, errores).upper()
    if moneda and moneda not in _MONEDAS:
        errores.add(
            "moneda",
            "Must be an active ISO 4217 currency code (e.g. EUR, USD, COP); testing, "
            "precious-metal and fund codes are not accepted.",
        )
        moneda = ""
    valor = _valor(datos, errores)
    if valor is not None and not moneda and "moneda" not in errores:
        errores.add("moneda", "Required when valor is given.")
    if tipo == TipoEvento.VENTA and not referencia and "referencia_externa" not in errores:
        errores.add("referencia_externa", "Required for a venta (it makes the sale unique).")
    metadata, metadata_json = _metadata(datos, errores)

    limpio = {
        "id": evento_id,
        "tipo": tipo,
        "ocurrido_en": ocurrido_en,
        "marca_id": marca_id,
        "publicacion_id": publicacion_id,
        "click_id": click_id,
        "visitante_id": visitante_id,
        "codigo_referido": codigo_referido,
        "valor": valor,
        "moneda": moneda,
        "referencia_externa": referencia,
        "metadata": metadata,
        "_metadata_json": metadata_json,
    }
    return limpio, errores


def _huella(item: dict[str, Any], ocurrido_dado: bool) -> str:
    """sha256 of the canonical JSON of the fields the client sent (normalised values; never
    server-set ones such as a defaulted ocurrido_en, recibido_en or socio)."""
    canon: dict[str, Any] = {"tipo": item["tipo"]}
    if ocurrido_dado:
        canon["ocurrido_en"] = _iso(item["ocurrido_en"])
    for campo in ("marca_id", "publicacion_id", "click_id"):
        if item[campo] is not None:
            canon[campo] = str(item[campo])
    for campo in ("visitante_id", "codigo_referido", "moneda", "referencia_externa"):
        if item[campo]:
            canon[campo] = item[campo]
    if item["valor"] is not None:
        canon["valor"] = str(item["valor"])
    if item["metadata"]:
        canon["metadata"] = item["metadata"]
    return hashlib.sha256(orjson.dumps(canon, option=orjson.OPT_SORT_KEYS)).hexdigest()


# --- Reference checks, set-based ------------------------------------------------------------
# Marcas known to exist, per process: id → time.monotonic() until which that is trusted. Only
# the single-event path uses it (a batch pays one query for all its items anyway). A marca
# deleted meanwhile (only possible while it has no events nor publicaciones: PROTECT) makes the
# INSERT fail its foreign key; `evento_registrar` then forgets this cache and validates again.
_TTL_MARCA_CONOCIDA_SEGUNDOS = 60.0
_MAX_MARCAS_CONOCIDAS = 10_000
_marcas_conocidas: dict[uuid.UUID, float] = {}


def _marcas_existentes(marca_ids: set[uuid.UUID], *, cacheable: bool) -> set[uuid.UUID]:
    ahora = time.monotonic()
    conocidas = (
        {m for m in marca_ids if _marcas_conocidas.get(m, 0.0) > ahora} if cacheable else set()
    )
    faltan = marca_ids - conocidas
    if faltan:
        encontradas = set(Marca.objects.filter(id__in=faltan).values_list("id", flat=True))
        if len(_marcas_conocidas) >= _MAX_MARCAS_CONOCIDAS:
            _marcas_conocidas.clear()
        for m in encontradas:
            _marcas_conocidas[m] = ahora + _TTL_MARCA_CONOCIDA_SEGUNDOS
        conocidas |= encontradas
    return conocidas


def marcas_conocidas_olvidar() -> None:
    """Forget which marcas are known to exist (tests; after deleting a marca)."""
    _marcas_conocidas.clear()


@dataclass
class _Referencias:
    """What the items of one request reference, loaded with one query per kind."""

    marcas: set[uuid.UUID]
    publicaciones: dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None]]
    # (codigo_referido, marca) → socio: only codes of partners in that marca's programme.
    socios_por_codigo: dict[tuple[str, uuid.UUID], uuid.UUID]
    clicks: dict[uuid.UUID, uuid.UUID | None]
    # Clicks sent in the same batch may be followed by later items of the batch.
    clicks_del_lote: dict[uuid.UUID, uuid.UUID | None]


def _cargar_referencias(
    validos: Sequence[dict[str, Any]], *, alcance: Alcance, un_solo_item: bool
) -> _Referencias:
    pub_ids = {it["publicacion_id"] for it in validos if it["publicacion_id"]}
    codigos = {it["codigo_referido"] for it in validos if it["codigo_referido"]}
    click_ids = {it["click_id"] for it in validos if it["click_id"]}
    marca_ids = {it["marca_id"] for it in validos if it["marca_id"]}
    refs = _Referencias(
        marcas=set(marca_ids),
        publicaciones={},
        socios_por_codigo={},
        clicks={},
        clicks_del_lote={
            it["id"]: it["marca_id"] for it in validos if it["id"] and it["tipo"] == "click"
        },
    )
    if pub_ids:
        refs.publicaciones = {
            pid: (mid, sid)
            for pid, mid, sid in Publicacion.objects.filter(id__in=pub_ids).values_list(
                "id", "marca_id", "medio__socio_id"
            )
        }
    if codigos:
        # The marca each code is checked against: the item's, or (a legacy item without one)
        # its publicacion's. One query for the batch, whether the codes exist or not.
        marcas_codigo = {
            it["marca_id"] or refs.publicaciones.get(it["publicacion_id"], (None, None))[0]
            for it in validos
            if it["codigo_referido"]
        }
        refs.socios_por_codigo = programa.socios_por_codigo(
            codigos=codigos, marca_ids={m for m in marcas_codigo if m is not None}
        )
    if click_ids:
        refs.clicks = dict(
            Evento.objects.filter(id__in=click_ids, tipo=TipoEvento.CLICK).values_list(
                "id", "marca_id"
            )
        )
    if alcance.es_staff and marca_ids:
        refs.marcas = _marcas_existentes(marca_ids, cacheable=un_solo_item)
    return refs


def _socio_referido(
    it: dict[str, Any], refs: _Referencias, err: _Errores, *, legado: bool
) -> uuid.UUID | None:
    """The partner the item names through its publicacion and/or codigo_referido (they must
    agree); a legacy item without marca takes the publicacion's."""
    socio_id = None
    if it["publicacion_id"] is not None:
        pub = refs.publicaciones.get(it["publicacion_id"])
        if pub is None:
            err.add("publicacion", "Unknown publicacion.")
        else:
            pub_marca, socio_id = pub
            if legado and it["marca_id"] is None:
                it["marca_id"] = pub_marca
            elif pub_marca != it["marca_id"]:
                err.add("publicacion", "The publicacion does not belong to this marca.")
    if it["codigo_referido"]:
        socio_codigo = (
            refs.socios_por_codigo.get((it["codigo_referido"], it["marca_id"]))
            if it["marca_id"] is not None
            else None
        )
        if socio_codigo is None:
            # One message whether the code does not exist or its partner is outside this
            # marca's programme: the answer reveals nothing about other programmes (§8).
            err.add("codigo_referido", MENSAJE_CODIGO_REFERIDO)
        elif socio_id is not None and socio_codigo != socio_id:
            err.add("codigo_referido", "Belongs to another socio than the publicacion.")
        else:
            socio_id = socio_codigo
    return socio_id


def _comprobar_click(it: dict[str, Any], refs: _Referencias, err: _Errores) -> None:
    if it["click_id"] is None:
        return
    if it["click_id"] in refs.clicks:
        click_marca = refs.clicks[it["click_id"]]
    elif it["click_id"] in refs.clicks_del_lote and it["click_id"] != it["id"]:
        click_marca = refs.clicks_del_lote[it["click_id"]]
    else:
        click_marca = None
        err.add("click_id", "Unknown click event.")
    if click_marca is not None and click_marca != it["marca_id"]:
        err.add("click_id", "The click belongs to another marca.")


def _resolver_referencias(
    items: Sequence[dict[str, Any]],
    errores: dict[int, _Errores],
    *,
    alcance: Alcance,
    legado: bool,
) -> None:
    """Check marca/publicacion/codigo_referido/click_id with one query per kind for all items,
    fill `socio_id` (denormalised), and record errors per index."""
    validos = [(i, it) for i, it in enumerate(items) if it]
    refs = _cargar_referencias(
        [it for _, it in validos], alcance=alcance, un_solo_item=len(items) == 1
    )
    for i, it in validos:
        err = errores.setdefault(i, _Errores())
        if it["marca_id"] is not None and it["marca_id"] not in refs.marcas:
            err.add("marca", "Unknown marca, or not one you may send events for.")
        it["socio_id"] = _socio_referido(it, refs, err, legado=legado)
        _comprobar_click(it, refs, err)


# --- Writing (through the table's owner, eventos_medios.almacen) ---------------------------
def _resolver_omitidos(
    items: Sequence[dict[str, Any]], insertados: set[uuid.UUID]
) -> tuple[dict[int, dict[str, Any]], dict[int, tuple[str, str, uuid.UUID]]]:
    """For items the INSERT skipped: the stored row when it is the same event, or the
    conflict (campo, mensaje, stored id) otherwise."""
    omitidos = [(i, it) for i, it in enumerate(items) if it["id"] not in insertados]
    existentes: dict[int, dict[str, Any]] = {}
    conflictos: dict[int, tuple[str, str, uuid.UUID]] = {}
    if not omitidos:
        return existentes, conflictos
    por_id = {
        fila["id"]: fila
        for fila in Evento.objects.filter(id__in=[it["id"] for _, it in omitidos]).values(
            *almacen.CAMPOS_PUBLICOS, "huella"
        )
    }
    pendientes_venta: list[tuple[int, dict[str, Any]]] = []
    for i, it in omitidos:
        fila = por_id.get(it["id"])
        if fila is None:
            pendientes_venta.append((i, it))
        elif fila["huella"] == it["huella"]:
            existentes[i] = fila
        else:
            conflictos[i] = (
                "id",
                "An event with this id exists with a different body.",
                fila["id"],
            )
    if pendientes_venta:
        filtro = Q(pk__in=[])
        for _, it in pendientes_venta:
            filtro |= Q(marca_id=it["marca_id"], referencia_externa=it["referencia_externa"])
        ventas = {
            (m, r): pk
            for pk, m, r in Evento.objects.filter(filtro, tipo=TipoEvento.VENTA).values_list(
                "id", "marca_id", "referencia_externa"
            )
        }
        for i, it in pendientes_venta:
            guardado = ventas.get((it["marca_id"], it["referencia_externa"]))
            if guardado is None:  # pragma: no cover - only if a row vanished meanwhile
                raise RuntimeError("insert skipped without a conflicting row")
            conflictos[i] = (
                "referencia_externa",
                f"A venta with this referencia_externa is already stored as event {guardado}.",
                guardado,
            )
    return existentes, conflictos


def _preparar(
    lista: Sequence[Any], *, alcance: Alcance, legado: bool
) -> tuple[list[dict[str, Any]], dict[int, _Errores]]:
    ahora = timezone.now()
    items: list[dict[str, Any]] = []
    errores: dict[int, _Errores] = {}
    for i, datos in enumerate(lista):
        limpio, err = _normalizar(datos, alcance=alcance, ahora=ahora, legado=legado)
        if err:
            errores[i] = err
            items.append({})
        else:
            items.append(limpio)
    _resolver_referencias(items, errores, alcance=alcance, legado=legado)
    vistos_id: dict[uuid.UUID, int] = {}
    vistas_ventas: dict[tuple[Any, str], int] = {}
    for i, it in enumerate(items):
        if not it:
            continue
        ocurrido_dado = it["ocurrido_en"] is not None
        if not ocurrido_dado:
            it["ocurrido_en"] = ahora
        it["huella"] = _huella(it, ocurrido_dado)
        if it["id"] is None:
            it["id"] = uuid.uuid4()
        elif it["id"] in vistos_id:
            errores.setdefault(i, _Errores()).add(
                "id", f"Repeated in this batch (index {vistos_id[it['id']]})."
            )
        else:
            vistos_id[it["id"]] = i
        if it["tipo"] == TipoEvento.VENTA:
            clave = (it["marca_id"], it["referencia_externa"])
            if clave in vistas_ventas:
                errores.setdefault(i, _Errores()).add(
                    "referencia_externa", f"Repeated in this batch (index {vistas_ventas[clave]})."
                )
            else:
                vistas_ventas[clave] = i
    return items, {i: e for i, e in errores.items() if e}


def _anunciar(ids: Iterable[uuid.UUID], emisor: Any) -> None:
    ids = list(ids)
    if ids:
        enviar_al_confirmar(eventos_registrados, sender=emisor, evento_ids=ids)


# --- Services -------------------------------------------------------------------------------
def evento_registrar(
    *, datos: dict[str, Any] | Any, alcance: Alcance, legado: bool = False
) -> tuple[dict[str, Any], bool]:
    """Validate and store one event; idempotent by `id` and by venta referencia_externa.

    `datos` is the JSON body: tipo, ocurrido_en?, marca?, publicacion?, codigo_referido?,
    click_id?, visitante_id?, valor?, moneda?, referencia_externa?, metadata?, id?.
    `alcance` decides which marcas the caller may send for (`ALCANCE_INTERNO` for trusted
    internal callers). `legado=True` (seed endpoints) lets an event have no marca; the marca is
    then taken from the publicacion when it has one.

    Returns `(representation, created)`: created=False means the same event was already
    stored (same id and same body). Raises ErrorValidacion (400, fields named), Conflicto (409,
    `evento_id` in `extra`).
    """
    items, errores = _preparar([datos], alcance=alcance, legado=legado)
    if errores:
        raise ErrorValidacion(dict(errores[0]))
    item = items[0]
    recibido_en = timezone.now()
    # One INSERT statement is atomic by itself: no BEGIN/COMMIT round trips on the hot path.
    try:
        insertados = almacen.sentencia_optimista(
            lambda: almacen.eventos_insertar(items, recibido_en)
        )
    except IntegrityError:
        # A reference vanished after it was checked (e.g. a cached marca was deleted): check
        # again against the database; a 400 naming the field if so, else the error stands.
        marcas_conocidas_olvidar()
        if not connection.get_autocommit():
            raise  # inside a caller's transaction, which is now unusable
        _, errores = _preparar([datos], alcance=alcance, legado=legado)
        if errores:
            raise ErrorValidacion(dict(errores[0])) from None
        raise
    if item["id"] in insertados:
        _anunciar([item["id"]], evento_registrar)
        fila = {**item, "recibido_en": recibido_en, "user_agent": "", "atribuido_en": None}
        fila.update(estado_atribucion=EstadoAtribucion.PENDIENTE.value, motivo_descarte="")
        fila.update(
            origen_visitante=OrigenVisitante.MARCA.value if item["visitante_id"] else "",
            motivo_atribucion="",
        )
        return evento_representar(fila), True
    existentes, conflictos = _resolver_omitidos(items, insertados)
    if 0 in conflictos:
        campo, mensaje, guardado = conflictos[0]
        raise Conflicto(mensaje, campo=campo, extra={"evento_id": str(guardado)})
    return evento_representar(existentes[0]), False


def eventos_registrar_lote(
    *, eventos: Any, alcance: Alcance, legado: bool = False
) -> list[dict[str, Any]]:
    """Validate a batch all-or-nothing and store it with bulk INSERTs, idempotently per item.

    `eventos` is the list of event bodies (≤ MAX_EVENTOS_POR_LOTE). Any invalid item → 400
    with errors keyed by index (`{"eventos": {"3": {"valor": [...]}}}`), nothing written. Any
    item conflicting with a stored event (same id, other body; or a taken venta reference) →
    409 with the conflicting indexes, nothing written. Otherwise returns one result per item,
    in order: `{"id": "<uuid>", "estado": "creado" | "existente"}`.
    """
    maximo = settings.MAX_EVENTOS_POR_LOTE
    if not isinstance(eventos, list):
        raise ErrorValidacion({"eventos": ["Must be a list of events."]})
    if not eventos:
        raise ErrorValidacion({"eventos": ["Send at least one event."]})
    if len(eventos) > maximo:
        raise ErrorValidacion({"eventos": [f"At most {maximo} events per batch."]})
    items, errores = _preparar(eventos, alcance=alcance, legado=legado)
    if errores:
        raise ErrorValidacion({"eventos": {str(i): dict(e) for i, e in sorted(errores.items())}})
    recibido_en = timezone.now()
    with transaction.atomic():
        insertados = almacen.eventos_insertar(items, recibido_en)
        conflictos: dict[int, tuple[str, str, uuid.UUID]] = {}
        if len(insertados) < len(items):
            _, conflictos = _resolver_omitidos(items, insertados)
        if conflictos:
            transaction.set_rollback(True)
        else:
            _anunciar([it["id"] for it in items if it["id"] in insertados], eventos_registrar_lote)
    if conflictos:
        raise ConflictoLote(
            {"eventos": {str(i): {c[0]: [c[1]]} for i, c in sorted(conflictos.items())}},
            [{"indice": i, "evento_id": str(c[2])} for i, c in sorted(conflictos.items())],
        )
    return [
        {"id": str(it["id"]), "estado": "creado" if it["id"] in insertados else "existente"}
        for it in items
    ]
