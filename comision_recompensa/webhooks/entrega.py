"""Delivery of the webhook outbox (PRODUCT.md §10).

One attempt (`entrega_enviar`), healthchecks-style:
1. claim the row with a conditional UPDATE (`estado = pendiente AND proximo_intento_en <= now`
   and the endpoint active) that pushes `proximo_intento_en` past the request timeouts (a
   lease) and counts the attempt: exactly one worker or sweep sends it at a time;
2. send it: webhooks POST `{id, tipo, creado_en, secuencia, datos}` signed with every valid
   secret (`X-Alpes-Firma: t=…,sha256=<current>[,sha256=<previous>]`), with `X-Alpes-Entrega`
   and `Idempotency-Key` (the delivery id, the same on every attempt and replay); postbacks
   GET their expanded URL. The URL is checked again and the connection pinned to the checked
   address (`red.enviar`);
3. 2xx → `entregada`; anything else → the error, status, latency and first KB of the answer
   are written on the row with the next attempt (exponential backoff with jitter, capped) or,
   once the retry window (24 h from creation or the last replay) is over, `fallida` (dead
   letter).

Deliveries are independent: a failing one never holds back the next (the receiver orders by
`secuencia` and sees a gap until the replay or retry arrives). The sweep
(`entregas_enviar_pendientes`) claims due rows in batches with `SELECT … FOR UPDATE SKIP
LOCKED`, so several sweeps and the per-delivery tasks never send the same row together.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alpespartners.firmas import firmar
from comision_recompensa.models import (
    ClaseEndpoint,
    EntregaWebhook,
    EstadoEntrega,
)
from comision_recompensa.webhooks import red
from comision_recompensa.webhooks.datos import CLASES_CREDITO
from comision_recompensa.webhooks.services import secretos_vigentes

logger = logging.getLogger(__name__)

MARGEN_LEASE_SEGUNDOS = 30.0
CABECERA_FIRMA = "X-Alpes-Firma"
CABECERA_ENTREGA = "X-Alpes-Entrega"


class Resultado(enum.StrEnum):
    ENTREGADA = "entregada"
    REINTENTO = "reintento"  # failed; another attempt is scheduled
    FALLIDA = "fallida"  # failed for the last time: dead letter
    RETENIDA = "retenida"  # a postback whose credit is under review
    CANCELADA = "cancelada"  # a postback whose credit was reversed
    OMITIDA = "omitida"  # not due, not pendiente, inactive endpoint, or claimed by another


@dataclass(frozen=True)
class Intento:
    resultado: Resultado
    espera: float | None = None  # seconds until the next attempt (REINTENTO)


def retraso_reintento(intento: int, *, rng: random.Random | None = None) -> float:
    """Seconds after failed attempt `intento` (1-based): base·2^(n−1) capped, minus up to 20 %
    jitter so that deliveries failing together do not retry in step."""
    base = float(settings.WEBHOOKS_BACKOFF_BASE_SEGUNDOS)
    maximo = float(settings.WEBHOOKS_BACKOFF_MAX_SEGUNDOS)
    retraso = min(base * (2 ** min(max(intento, 1) - 1, 40)), maximo)
    return max(retraso * (1 - 0.2 * (rng or random).random()), 0.0)


def _timeouts() -> tuple[float, float]:
    return (
        float(settings.WEBHOOKS_TIMEOUT_CONEXION_SEGUNDOS),
        float(settings.WEBHOOKS_TIMEOUT_LECTURA_SEGUNDOS),
    )


def _lease(ahora: dt.datetime) -> dt.datetime:
    conexion, lectura = _timeouts()
    return ahora + dt.timedelta(seconds=conexion + lectura + MARGEN_LEASE_SEGUNDOS)


def cuerpo_entrega(entrega: EntregaWebhook) -> bytes:
    """The JSON body of a webhook delivery: the same bytes on every attempt and replay."""
    documento = {
        "id": str(entrega.id),
        "tipo": entrega.tipo,
        "creado_en": entrega.creado_en.isoformat().replace("+00:00", "Z"),
        "secuencia": entrega.secuencia,
        "datos": entrega.datos,
    }
    return json.dumps(documento, separators=(",", ":"), ensure_ascii=False).encode()


def firma_cabecera(cuerpo: bytes, secretos: list[str], t: int | None = None) -> str:
    """`t=<unix>,sha256=<hex>[,sha256=<hex>…]`: one signature per secret, same `t`."""
    momento = int(time.time()) if t is None else t
    partes = [firmar(cuerpo, s, momento) for s in secretos]
    extra = [p.split(",", 1)[1] for p in partes[1:]]  # the `sha256=…` of the older secrets
    return ",".join([partes[0], *extra]) if extra else partes[0]


def _peticion(entrega: EntregaWebhook) -> tuple[str, str, bytes | None, dict[str, str]]:
    endpoint = entrega.endpoint
    cabeceras = {CABECERA_ENTREGA: str(entrega.id), "Idempotency-Key": str(entrega.id)}
    if endpoint.clase == ClaseEndpoint.POSTBACK:
        return "GET", entrega.url, None, cabeceras
    cuerpo = cuerpo_entrega(entrega)
    cabeceras["Content-Type"] = "application/json"
    cabeceras[CABECERA_FIRMA] = firma_cabecera(cuerpo, secretos_vigentes(endpoint))
    return "POST", endpoint.url, cuerpo, cabeceras


def _reclamar(entrega_id: uuid.UUID, *, forzar: bool) -> bool:
    """The conditional UPDATE that makes this process the one sending the delivery. Its
    conditions are on the delivery's own columns (no join: PostgreSQL re-checks those after a
    concurrent claim commits, so exactly one claimer wins)."""
    ahora = timezone.now()
    activo = (
        EntregaWebhook.objects.filter(id=entrega_id)
        .values_list("endpoint__activo", flat=True)
        .first()
    )
    if not activo:
        return False  # unknown, or its endpoint is inactive: nothing is sent
    qs = EntregaWebhook.objects.filter(id=entrega_id, estado=EstadoEntrega.PENDIENTE)
    if not forzar:
        qs = qs.filter(proximo_intento_en__lte=ahora)
    cambiadas = qs.update(
        proximo_intento_en=_lease(ahora), intentos=F("intentos") + 1, ultimo_intento_en=ahora
    )
    return cambiadas == 1


def entrega_enviar(*, entrega_id: uuid.UUID, forzar: bool = False) -> Intento:
    """One attempt of delivery `entrega_id` if it is `pendiente` and due (`forzar`: due or
    not). Never raises for network failures: they are recorded on the row."""
    if not _reclamar(entrega_id, forzar=forzar):
        return Intento(Resultado.OMITIDA)
    return _intentar(entrega_id)


def _estado_postback(entrega: EntregaWebhook) -> str | None:
    """A postback re-checks its credit: under review it waits, reversed it is cancelled."""
    if entrega.endpoint.clase != ClaseEndpoint.POSTBACK or entrega.credito_id is None:
        return None
    modelo = CLASES_CREDITO.get(entrega.credito_clase)
    if modelo is None:
        return None
    estado = modelo.objects.filter(pk=entrega.credito_id).values_list("estado", flat=True).first()
    if estado == "en_revision":
        return EstadoEntrega.RETENIDA
    if estado in (None, "revertida"):
        return EstadoEntrega.CANCELADA
    return None


def _intentar(entrega_id: uuid.UUID) -> Intento:
    """Send a delivery this process has claimed, and record the outcome."""
    entrega = EntregaWebhook.objects.select_related("endpoint").get(id=entrega_id)
    espera_revision = _estado_postback(entrega)
    if espera_revision is not None:
        EntregaWebhook.objects.filter(id=entrega.id, estado=EstadoEntrega.PENDIENTE).update(
            estado=espera_revision, intentos=F("intentos") - 1
        )
        return Intento(Resultado(espera_revision))
    metodo, url, cuerpo, cabeceras = _peticion(entrega)
    conexion, lectura = _timeouts()
    respuesta = red.enviar(
        metodo,
        url,
        cuerpo=cuerpo,
        cabeceras=cabeceras,
        timeout_conexion=conexion,
        timeout_lectura=lectura,
    )
    return _registrar(entrega, respuesta)


def _registrar(entrega: EntregaWebhook, respuesta: red.Respuesta) -> Intento:
    ahora = timezone.now()
    comun = {
        "ultimo_estado_http": respuesta.estado_http,
        "latencia_ms": respuesta.latencia_ms,
        "respuesta": respuesta.fragmento[: red.LARGO_RESPUESTA],
        "ultimo_error": respuesta.error[:500],
    }
    mia = EntregaWebhook.objects.filter(
        id=entrega.id, estado=EstadoEntrega.PENDIENTE, intentos=entrega.intentos
    )
    if respuesta.exito:
        mia.update(estado=EstadoEntrega.ENTREGADA, entregada_en=ahora, **comun)
        return Intento(Resultado.ENTREGADA)
    ventana = dt.timedelta(seconds=float(settings.WEBHOOKS_VENTANA_REINTENTOS_SEGUNDOS))
    espera = retraso_reintento(entrega.intentos)
    siguiente = ahora + dt.timedelta(seconds=espera)
    if siguiente >= entrega.ventana_desde + ventana:
        if mia.update(estado=EstadoEntrega.FALLIDA, **comun):
            logger.warning(
                "Webhook delivery %s dead-lettered after %s attempts: %s",
                entrega.id,
                entrega.intentos,
                respuesta.error,
            )
        return Intento(Resultado.FALLIDA)
    mia.update(proximo_intento_en=siguiente, **comun)
    logger.info(
        "Webhook delivery %s attempt %s failed (%s); next in %.1fs",
        entrega.id,
        entrega.intentos,
        respuesta.error,
        espera,
    )
    return Intento(Resultado.REINTENTO, espera)


def _reclamar_lote(limite: int) -> list[uuid.UUID]:
    """Claim up to `limite` due deliveries (`FOR UPDATE SKIP LOCKED`, then their lease and
    attempt in the same short transaction)."""
    ahora = timezone.now()
    with transaction.atomic():
        ids = list(
            EntregaWebhook.objects.filter(
                estado=EstadoEntrega.PENDIENTE,
                proximo_intento_en__lte=ahora,
                endpoint__activo=True,
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("proximo_intento_en")
            .values_list("id", flat=True)[:limite]
        )
        if ids:
            EntregaWebhook.objects.filter(id__in=ids, estado=EstadoEntrega.PENDIENTE).update(
                proximo_intento_en=_lease(ahora),
                intentos=F("intentos") + 1,
                ultimo_intento_en=ahora,
            )
    return ids


@dataclass
class Conteo:
    """What one sweep did, per outcome."""

    por_resultado: dict[str, int] = field(default_factory=dict)

    def contar(self, resultado: Resultado) -> None:
        self.por_resultado[resultado.value] = self.por_resultado.get(resultado.value, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.por_resultado.values())

    def __str__(self) -> str:
        partes = ", ".join(f"{k}: {v}" for k, v in sorted(self.por_resultado.items()))
        return f"{self.total} webhook deliveries attempted" + (f" ({partes})" if partes else "")


def entregas_enviar_pendientes(*, limite: int = 200, lote: int = 20) -> Conteo:
    """The safety net: one attempt of every due delivery (up to `limite`), claimed `lote` at a
    time. Safe beside the per-delivery tasks and other sweeps."""
    conteo = Conteo()
    while conteo.total < limite:
        ids = _reclamar_lote(min(lote, limite - conteo.total))
        if not ids:
            break
        for entrega_id in ids:
            conteo.contar(_intentar(entrega_id).resultado)
    return conteo
