"""Sending the e-mail outbox through Django's e-mail backend, never twice, never lost.

One attempt:
1. claim: in a short transaction, lock the due `pendiente` rows with `FOR UPDATE SKIP LOCKED`
   (a concurrent sender skips them instead of waiting) and push their `proximo_intento_en` past
   the send timeout with a conditional UPDATE (`estado = pendiente AND proximo_intento_en <=
   now`) that also counts the attempt. The new `proximo_intento_en` is the claim's lease: no
   other sender can take the row until it expires (SQLite has no row locks; the conditional
   UPDATE alone decides there);
2. send the message (outside any transaction: SMTP may be slow); its `Message-ID` is derived
   from the row id, so the rare resend after a crash between steps 2 and 3 is recognisable;
3. success → `enviado` (only if the lease is still ours); failure → the error and the next
   attempt (exponential backoff with jitter, capped), and after `CORREO_MAX_INTENTOS` attempts
   `fallido` (dead letter) until staff retry it from the admin.

Bodies that carry a one-time password link are blanked once sent. With e-mail not configured
in production (`CORREO_ACTIVO` false) nothing is claimed: rows wait as `pendiente`.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import random
import uuid
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from comision_recompensa.models import (
    TIPOS_CORREO_CON_ENLACE_SECRETO,
    CorreoSaliente,
    EstadoCorreo,
)

logger = logging.getLogger(__name__)

MARGEN_LEASE_SEGUNDOS = 60.0
BORRADO = "[This message contained a one-time link; its text is not kept after sending.]"


class ResultadoEnvio(enum.StrEnum):
    ENVIADO = "enviado"
    REINTENTO = "reintento"
    FALLIDO = "fallido"
    OMITIDO = "omitido"  # not due, not pendiente, claimed by another sender, or e-mail off


def retraso_reintento(intento: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt `intento` (1-based): base·2^(n−1), capped, minus up
    to 10 % jitter so that many failing e-mails do not retry in step."""
    base = float(settings.CORREO_BACKOFF_BASE_SEGUNDOS)
    maximo = float(settings.CORREO_BACKOFF_MAX_SEGUNDOS)
    retraso = min(base * (2 ** min(max(intento, 1) - 1, 40)), maximo)
    return max(retraso * (1 - 0.1 * (rng or random).random()), 0.0)


def _reclamar(filtro: Q, *, limite: int) -> list[tuple[uuid.UUID, dt.datetime]]:
    """Claim up to `limite` due `pendiente` rows matching `filtro`: [(id, lease)]."""
    ahora = timezone.now()
    lease = ahora + dt.timedelta(seconds=float(settings.EMAIL_TIMEOUT) + MARGEN_LEASE_SEGUNDOS)
    debidos = Q(estado=EstadoCorreo.PENDIENTE, proximo_intento_en__lte=ahora) & filtro
    with transaction.atomic():
        ids = list(
            CorreoSaliente.objects.select_for_update(skip_locked=True)
            .filter(debidos)
            .order_by("proximo_intento_en", "id")
            .values_list("id", flat=True)[:limite]
        )
        if not ids:
            return []
        # The conditional UPDATE is the claim: a row another sender changed first no longer
        # matches `debidos`, and only the rows carrying our lease are ours.
        CorreoSaliente.objects.filter(debidos, pk__in=ids).update(
            proximo_intento_en=lease, intentos=F("intentos") + 1, actualizado_en=ahora
        )
        reclamados = [
            (correo_id, lease)
            for correo_id in CorreoSaliente.objects.filter(
                pk__in=ids, estado=EstadoCorreo.PENDIENTE, proximo_intento_en=lease
            ).values_list("id", flat=True)
        ]
    return reclamados


def mensaje_de(correo: CorreoSaliente) -> EmailMultiAlternatives:
    """The message of an outbox row (plain text with an HTML alternative)."""
    cabeceras = {"Message-ID": f"<{correo.pk}@alpes-partners>", **(correo.cabeceras or {})}
    mensaje = EmailMultiAlternatives(
        subject=correo.asunto,
        body=correo.cuerpo_texto,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[correo.destinatario],
        headers=cabeceras,
    )
    if correo.cuerpo_html:
        mensaje.attach_alternative(correo.cuerpo_html, "text/html")
    return mensaje


def _enviar_reclamado(correo_id: uuid.UUID, lease: dt.datetime) -> ResultadoEnvio:
    correo = CorreoSaliente.objects.get(pk=correo_id)
    try:
        mensaje_de(correo).send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any backend failure is retried
        return _registrar_fallo(correo, lease, f"{type(exc).__name__}: {exc}"[:500])
    ahora = timezone.now()
    cambios: dict[str, Any] = {
        "estado": EstadoCorreo.ENVIADO,
        "enviado_en": ahora,
        "ultimo_error": "",
        "actualizado_en": ahora,
    }
    if correo.tipo in TIPOS_CORREO_CON_ENLACE_SECRETO:
        cambios.update(cuerpo_texto=BORRADO, cuerpo_html="")
    CorreoSaliente.objects.filter(
        pk=correo_id, estado=EstadoCorreo.PENDIENTE, proximo_intento_en=lease
    ).update(**cambios)
    logger.info("E-mail %s (%s) sent, attempt %s", correo_id, correo.tipo, correo.intentos)
    return ResultadoEnvio.ENVIADO


def _registrar_fallo(correo: CorreoSaliente, lease: dt.datetime, error: str) -> ResultadoEnvio:
    ahora = timezone.now()
    nuestro = CorreoSaliente.objects.filter(
        pk=correo.pk, estado=EstadoCorreo.PENDIENTE, proximo_intento_en=lease
    )
    if correo.intentos >= int(settings.CORREO_MAX_INTENTOS):
        nuestro.update(estado=EstadoCorreo.FALLIDO, ultimo_error=error, actualizado_en=ahora)
        logger.warning(
            "E-mail %s dead-lettered after %s attempts: %s", correo.pk, correo.intentos, error
        )
        return ResultadoEnvio.FALLIDO
    espera = retraso_reintento(correo.intentos)
    nuestro.update(
        ultimo_error=error,
        proximo_intento_en=ahora + dt.timedelta(seconds=espera),
        actualizado_en=ahora,
    )
    logger.info(
        "E-mail %s attempt %s failed (%s); next in %.0fs", correo.pk, correo.intentos, error, espera
    )
    return ResultadoEnvio.REINTENTO


def correo_enviar(*, correo_id: uuid.UUID) -> ResultadoEnvio:
    """One attempt to send outbox row `correo_id` if it is `pendiente` and due. Never raises
    for a backend failure: it is recorded on the row."""
    if not settings.CORREO_ACTIVO:
        return ResultadoEnvio.OMITIDO
    reclamados = _reclamar(Q(pk=correo_id), limite=1)
    if not reclamados:
        return ResultadoEnvio.OMITIDO
    return _enviar_reclamado(*reclamados[0])


def correos_enviar_pendientes(*, limite: int = 100) -> dict[str, int]:
    """The sweep: claim up to `limite` due rows and send them. Safe beside the fast path and
    other sweeps (each row is claimed by one sender). Returns the count per outcome."""
    conteo: Counter[str] = Counter()
    if not settings.CORREO_ACTIVO:
        return dict(conteo)
    for correo_id, lease in _reclamar(Q(), limite=limite):
        conteo[_enviar_reclamado(correo_id, lease).value] += 1
    return dict(conteo)
