"""Receivers that turn domain signals into outbox e-mails, and queue the fast-path send.

The e-mail receivers write their `CorreoSaliente` row in whatever transaction is current: inside
the change's transaction when the signal is sent with `enviar_en_transaccion` (atomic with it),
in their own when it is sent after commit. Each row has an idempotency key, so a signal received
twice writes one e-mail.

- `comision_aprobada` / `recompensa_aprobada` → "commission approved" (optional), at most one
  per partner and UTC day: the hold-period task approves credits in bulk, and a partner with a
  thousand sales must not get a thousand e-mails; the e-mail links to its approved credits.
- `pago_enviado` → "payout sent" (optional).
- `contrato_publicado` → "new contract version" (essential).
- `correo_encolado` (after commit) → `enviar_correo` task; a broker outage is logged, and the
  periodic sweep sends the row.
"""

from __future__ import annotations

import logging
from typing import Any

from django.urls import reverse
from django.utils import timezone

from comision_recompensa import signals
from comision_recompensa.correos.contenido import url_absoluta
from comision_recompensa.correos.services import correo_a_socio
from comision_recompensa.correos.tasks import enviar_correo
from comision_recompensa.models import AsociacionEstrategica, Comision, Pago, Recompensa, TipoCorreo

logger = logging.getLogger(__name__)


def encolar_envio(sender: Any, correo_id: Any, **kwargs: Any) -> None:
    """An e-mail is committed to the outbox: try to send it now. Never raises."""
    try:
        enviar_correo.delay(str(correo_id))
    except Exception:  # noqa: BLE001 - the sweep is the safety net
        logger.warning("could not queue e-mail %s; the sweep will send it", correo_id)


def correo_credito_aprobado(sender: Any, credito_id: Any, **kwargs: Any) -> None:
    """A commission or reward was approved: tell its partner (once per UTC day)."""
    recompensa = kwargs.get("signal") is signals.recompensa_aprobada
    modelo: type[Comision] | type[Recompensa] = Recompensa if recompensa else Comision
    credito = modelo.objects.select_related("evento__marca").filter(pk=credito_id).first()
    if credito is None:
        return
    clase = "recompensa" if recompensa else "comision"
    dia = timezone.now().date().isoformat()
    marca = credito.evento.marca
    correo_a_socio(
        tipo=TipoCorreo.CREDITO_APROBADO,
        socio_id=credito.socio_id,
        contexto={
            "clase": clase,
            "monto": credito.monto,
            "moneda": credito.moneda,
            "marca": marca.nombre if marca else "",
            "tipo_evento": credito.evento.tipo,
            "url_aprobados": url_absoluta(
                f"{reverse('portal:creditos')}?estado=aprobada&clase={clase}"
            ),
        },
        clave_idempotencia=f"credito_aprobado:{credito.socio_id}:{dia}",
    )


def correo_pago_enviado(sender: Any, pago_id: Any, **kwargs: Any) -> None:
    """A Pago was handed to the payments component: tell its partner."""
    pago = Pago.objects.filter(pk=pago_id).first()
    if pago is None:
        return
    correo_a_socio(
        tipo=TipoCorreo.PAGO_ENVIADO,
        socio_id=pago.socio_id,
        contexto={
            "monto": pago.monto,
            "moneda": pago.moneda,
            "url_pago": url_absoluta(reverse("portal:pago", kwargs={"pk": pago.pk})),
        },
        clave_idempotencia=f"pago_enviado:{pago.pk}",
    )


def correo_contrato_publicado(
    sender: Any, contrato_id: Any, asociacion_id: Any, version: Any = None, **kwargs: Any
) -> None:
    """A new contract version was published: the partner must read (and accept) it."""
    asociacion = (
        AsociacionEstrategica.objects.select_related("marca").filter(pk=asociacion_id).first()
    )
    if asociacion is None:
        return
    correo_a_socio(
        tipo=TipoCorreo.CONTRATO_PUBLICADO,
        socio_id=asociacion.socio_id,
        contexto={"marca": asociacion.marca.nombre, "version": version},
        clave_idempotencia=f"contrato_publicado:{contrato_id}",
    )


def conectar() -> None:
    """Connect this subdomain's receivers (from `AppConfig.ready()`)."""
    signals.correo_encolado.connect(encolar_envio, dispatch_uid="comision_recompensa.correos.envio")
    for senal in (signals.comision_aprobada, signals.recompensa_aprobada):
        senal.connect(
            correo_credito_aprobado,
            dispatch_uid=f"comision_recompensa.correos.credito.{id(senal)}",
        )
    signals.pago_enviado.connect(
        correo_pago_enviado, dispatch_uid="comision_recompensa.correos.pago_enviado"
    )
    signals.contrato_publicado.connect(
        correo_contrato_publicado, dispatch_uid="comision_recompensa.correos.contrato"
    )
