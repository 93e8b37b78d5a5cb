"""Outbox delivery of Pagos to the payments component (PRODUCT.md §4, §9).

One attempt (`pago_entregar`):
1. claim the Pago in one transaction: lock its row (`estado = pendiente`, due), run its
   compliance controls (`pagos.cumplimiento`: a failure holds it as `retenido` and nothing is
   sent, unless staff released it), freeze the payout details sent with it (the first time),
   push `proximo_intento_en` past the request timeout (a lease) and count the attempt, so two
   workers or sweeps never send the same Pago at the same time;
2. POST it to `PAGOS_URL` with `Idempotency-Key: <pago id>` (a resend after a crash between the
   POST and step 3 is recognised by the component), signed with `alpespartners.firmas`
   (`X-Alpes-Firma: t=…,sha256=…`, like the callbacks);
3. 2xx → `enviado` (+ enviado_en, `pago_enviado`); anything else → the error and the next
   attempt time (exponential backoff with jitter, capped) are written on the row; after
   `PAGOS_MAX_INTENTOS` attempts the Pago is `fallido` (dead letter, `pago_fallido`) until
   staff retry it.

With no `PAGOS_URL` configured nothing is claimed: Pagos wait as `pendiente`.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alpespartners import firmas
from alpespartners.senales import enviar_en_transaccion
from comision_recompensa import signals
from comision_recompensa.models import EstadoPago, Pago
from comision_recompensa.pagos.cumplimiento import pago_controlar
from comision_recompensa.pagos.selectors import pago_items, pagos_por_enviar
from comision_recompensa.perfiles.selectors import perfil_datos, perfil_pago_de

logger = logging.getLogger(__name__)

# Extra time on top of the request timeout before a claimed, unanswered attempt may be retried
# (covers a worker that died in the middle of the POST).
MARGEN_LEASE_SEGUNDOS = 30.0


class ResultadoEntrega(enum.StrEnum):
    ENVIADO = "enviado"  # the component accepted the Pago
    REINTENTO = "reintento"  # failed; another attempt is scheduled
    FALLIDO = "fallido"  # failed for the last time: dead letter
    OMITIDO = "omitido"  # not due, not pendiente, taken by someone else, or no PAGOS_URL
    RETENIDO = "retenido"  # a compliance control failed in the claim: held, nothing sent


def retraso_reintento(
    intento: int,
    *,
    base: float,
    maximo: float,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number `intento` (1-based): base·2^(n−1), capped at
    `maximo`, minus up to `jitter` (a fraction) so that many failing Pagos do not retry in step."""
    exponente = min(max(intento, 1) - 1, 62)
    retraso = min(base * (2**exponente), maximo)
    if jitter:
        retraso *= 1 - jitter * (rng or random).random()
    return max(retraso, 0.0)


def cuerpo_pago(pago: Pago) -> dict[str, Any]:
    """The JSON document sent for a Pago. Amounts are decimal strings (exact). `beneficiario`
    holds the payout details frozen at the first attempt: the component needs them to pay."""
    return {
        "pago_id": str(pago.id),
        "socio_id": str(pago.socio_id),
        "marca_id": str(pago.marca_id) if pago.marca_id else None,
        "monto": str(pago.monto),
        "moneda": pago.moneda,
        "beneficiario": pago.beneficiario,
        "items": [
            {"tipo": i["tipo"], "id": str(i["id"]), "monto": str(i["monto"])}
            for i in pago_items(pago=pago)
        ],
    }


def _describir_error(exc: Exception, timeout: float) -> str:
    """A short error for the row and the admin: the kind of failure, never the URL (it may
    carry credentials) nor any header."""
    if isinstance(exc, requests.Timeout):
        return f"timeout: no answer within {timeout:g}s"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed: the payments component is unreachable"
    return f"request error: {type(exc).__name__}"


def _reclamar(pago_id: uuid.UUID, *, forzar: bool, timeout: float) -> Pago | ResultadoEntrega:
    """Step 1 (one transaction): the claimed Pago, or why there is nothing to send."""
    ahora = timezone.now()
    with transaction.atomic():
        qs = Pago.objects.select_for_update(skip_locked=True).filter(
            id=pago_id, estado=EstadoPago.PENDIENTE
        )
        if not forzar:
            qs = qs.filter(proximo_intento_en__lte=ahora)
        pago = qs.first()
        if pago is None:
            return ResultadoEntrega.OMITIDO
        fallidos = pago_controlar(pago=pago, origen="sistema:entrega")
        if pago.estado == EstadoPago.RETENIDO:
            logger.info("Pago %s held before delivery: %s", pago.id, ", ".join(fallidos))
            return ResultadoEntrega.RETENIDO
        if not pago.beneficiario:
            pago.beneficiario = perfil_datos(perfil_pago_de(socio_id=pago.socio_id))
        lease = ahora + dt.timedelta(seconds=timeout + MARGEN_LEASE_SEGUNDOS)
        # Conditional: without row locks (SQLite) a concurrent claim may have won.
        reclamo = Pago.objects.filter(id=pago.id, estado=EstadoPago.PENDIENTE)
        if not forzar:
            reclamo = reclamo.filter(proximo_intento_en__lte=ahora)
        if (
            reclamo.update(
                proximo_intento_en=lease,
                intentos=F("intentos") + 1,
                beneficiario=pago.beneficiario,
                actualizado_en=ahora,
            )
            != 1
        ):
            return ResultadoEntrega.OMITIDO
    pago.refresh_from_db()
    return pago


def pago_entregar(*, pago_id: uuid.UUID, forzar: bool = False) -> ResultadoEntrega:
    """Make one delivery attempt of Pago `pago_id` if it is `pendiente` and due (`forzar`: due
    or not, e.g. staff's "deliver now") and its controls pass (or staff released it). Never
    raises for HTTP failures: they are recorded on the row with the next attempt time, or
    dead-letter the Pago after `PAGOS_MAX_INTENTOS`."""
    url: str = settings.PAGOS_URL
    if not url:
        return ResultadoEntrega.OMITIDO
    timeout = float(settings.PAGOS_TIMEOUT_SEGUNDOS)
    reclamado = _reclamar(pago_id, forzar=forzar, timeout=timeout)
    if isinstance(reclamado, ResultadoEntrega):
        return reclamado
    pago = reclamado
    cuerpo = json.dumps(cuerpo_pago(pago), separators=(",", ":")).encode()
    cabeceras = {
        "Content-Type": "application/json",
        "Idempotency-Key": str(pago.id),
        firmas.CABECERA: firmas.firmar(cuerpo, settings.PAGOS_SECRETO),
    }
    error: str
    try:
        respuesta = requests.post(url, data=cuerpo, headers=cabeceras, timeout=timeout)
    except requests.RequestException as exc:
        error = _describir_error(exc, timeout)
    else:
        if 200 <= respuesta.status_code < 300:
            _marcar_enviado(pago)
            return ResultadoEntrega.ENVIADO
        error = f"HTTP {respuesta.status_code} from the payments component"
    return _registrar_fallo(pago, error)


def _marcar_enviado(pago: Pago) -> None:
    momento = timezone.now()
    with transaction.atomic():
        cambiadas = Pago.objects.filter(id=pago.id, estado=EstadoPago.PENDIENTE).update(
            estado=EstadoPago.ENVIADO, enviado_en=momento, actualizado_en=momento
        )
        if cambiadas:
            enviar_en_transaccion(
                signals.pago_enviado, sender=Pago, pago_id=pago.id, intentos=pago.intentos
            )
    logger.info("Pago %s delivered (attempt %s)", pago.id, pago.intentos)


def _registrar_fallo(pago: Pago, error: str) -> ResultadoEntrega:
    momento = timezone.now()
    maximo = int(settings.PAGOS_MAX_INTENTOS)
    intentos = pago.intentos  # already counted by the claim
    if intentos >= maximo:
        with transaction.atomic():
            cambiadas = Pago.objects.filter(id=pago.id, estado=EstadoPago.PENDIENTE).update(
                estado=EstadoPago.FALLIDO, ultimo_error=error, actualizado_en=momento
            )
            if cambiadas:
                enviar_en_transaccion(
                    signals.pago_fallido,
                    sender=Pago,
                    pago_id=pago.id,
                    error=error,
                    origen="entrega",
                )
        if cambiadas:
            logger.warning("Pago %s dead-lettered after %s attempts: %s", pago.id, intentos, error)
        return ResultadoEntrega.FALLIDO if cambiadas else ResultadoEntrega.OMITIDO
    espera = retraso_reintento(
        intentos,
        base=float(settings.PAGOS_BACKOFF_BASE_SEGUNDOS),
        maximo=float(settings.PAGOS_BACKOFF_MAX_SEGUNDOS),
    )
    Pago.objects.filter(id=pago.id, estado=EstadoPago.PENDIENTE).update(
        ultimo_error=error,
        proximo_intento_en=momento + dt.timedelta(seconds=espera),
        actualizado_en=momento,
    )
    logger.info("Pago %s attempt %s failed (%s); next in %.1fs", pago.id, intentos, error, espera)
    return ResultadoEntrega.REINTENTO


@dataclass
class ConteoEntrega:
    """What one sweep did, per outcome."""

    por_resultado: dict[str, int] = field(default_factory=dict)

    def contar(self, resultado: ResultadoEntrega) -> None:
        self.por_resultado[resultado.value] = self.por_resultado.get(resultado.value, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.por_resultado.values())

    def __str__(self) -> str:
        partes = ", ".join(f"{k}: {v}" for k, v in sorted(self.por_resultado.items()))
        return f"{self.total} Pagos attempted" + (f" ({partes})" if partes else "")


def pagos_entregar_pendientes(*, limite: int = 100) -> ConteoEntrega:
    """The safety-net sweep: one delivery attempt for each due `pendiente` Pago (up to
    `limite`, oldest due first). Safe to run beside the fast-path task and other sweeps."""
    conteo = ConteoEntrega()
    if not settings.PAGOS_URL:
        return conteo
    for pago_id in pagos_por_enviar(limite=limite):
        conteo.contar(pago_entregar(pago_id=pago_id))
    return conteo
