"""Subscriptions: receivers of the domain signals (SENALES contract) that write webhook
deliveries, and the receiver that queues them after commit.

The domain signals are sent inside the transaction of the change (`enviar_en_transaccion`), so
the delivery rows commit or roll back with it; a signal still sent after commit
(`enviar_al_confirmar`) gets its deliveries written right after, in their own transaction.
Receivers take ids and read the rows themselves; adding a type here edits no sender.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from comision_recompensa import signals
from comision_recompensa.models import Comision
from comision_recompensa.webhooks import publicar
from comision_recompensa.webhooks.tasks import webhooks_barrer, webhooks_entregar

logger = logging.getLogger(__name__)


def _clase(sender: Any, kwargs: dict[str, Any]) -> str:
    clase = kwargs.get("clase")
    if clase in ("comision", "recompensa"):
        return str(clase)
    return "comision" if sender is Comision else "recompensa"


def al_crear_creditos(sender: Any, clase: str, credito_ids: list[Any], **kwargs: Any) -> None:
    publicar.creditos_creados_publicar(
        clase=_clase(sender, {"clase": clase}), credito_ids=credito_ids
    )


def al_aprobar(sender: Any, credito_id: Any, **kwargs: Any) -> None:
    clase = _clase(sender, kwargs)
    publicar.creditos_publicar(clase=clase, credito_ids=[credito_id], tipo=f"{clase}.aprobada")


def al_revertir(sender: Any, credito_id: Any, **kwargs: Any) -> None:
    clase = _clase(sender, kwargs)
    publicar.creditos_publicar(clase=clase, credito_ids=[credito_id], tipo=f"{clase}.revertida")


def al_entrar_en_revision(sender: Any, credito_id: Any, regla: Any = "", **kwargs: Any) -> None:
    publicar.postbacks_retener(credito_id=credito_id)
    publicar.creditos_publicar(
        clase=_clase(sender, kwargs),
        credito_ids=[credito_id],
        tipo="credito.en_revision",
        extra={"regla": str(regla or "")[:60] or None},
    )


def al_descartar_revision(sender: Any, credito_id: Any, **kwargs: Any) -> None:
    publicar.creditos_publicar(
        clase=_clase(sender, kwargs), credito_ids=[credito_id], tipo="credito.revision_descartada"
    )
    publicar.postbacks_liberar(credito_id=credito_id)


def al_confirmar_revision(sender: Any, credito_id: Any, **kwargs: Any) -> None:
    publicar.postbacks_cancelar(credito_id=credito_id)


def al_reembolsar(
    sender: Any,
    credito_id: Any,
    reembolso_id: Any = None,
    monto_anterior: Any = None,
    monto_nuevo: Any = None,
    parcial: Any = None,
    **kwargs: Any,
) -> None:
    extra = {
        "reembolso_id": str(reembolso_id) if reembolso_id is not None else None,
        "monto_anterior": str(monto_anterior) if monto_anterior is not None else None,
        "monto_nuevo": str(monto_nuevo) if monto_nuevo is not None else None,
        "parcial": bool(parcial),
    }
    publicar.creditos_publicar(
        clase=_clase(sender, kwargs),
        credito_ids=[credito_id],
        tipo="credito.reembolsado",
        extra=extra,
    )


def _pago(tipo: str) -> Any:
    def receptor(sender: Any, pago_id: Any, **kwargs: Any) -> None:
        extra = None
        if tipo == "pago.retenido":
            fallidos = kwargs.get("controles_fallidos") or []
            extra = {"controles_fallidos": [str(c)[:60] for c in list(fallidos)[:20]]}
        publicar.pago_publicar(pago_id=pago_id, tipo=tipo, extra=extra)

    receptor.__name__ = f"al_{tipo.replace('.', '_')}"
    return receptor


def al_aceptar_contrato(
    sender: Any, contrato_id: Any, aceptacion_id: Any, socio_id: Any, **kwargs: Any
) -> None:
    publicar.contrato_publicar(
        contrato_id=contrato_id, aceptacion_id=aceptacion_id, socio_id=socio_id
    )


def encolar_entregas(sender: Any, entrega_ids: list[Any], **kwargs: Any) -> None:
    """Deliveries are in the outbox (committed): queue one task each, or a sweep for a large
    batch. A broker outage is logged; the sweep sends them when due. Never raises."""
    try:
        if len(entrega_ids) > int(settings.WEBHOOKS_ENCOLAR_MAX):
            webhooks_barrer.delay()
            return
        for entrega_id in entrega_ids:
            webhooks_entregar.delay(str(entrega_id))
    except Exception:  # noqa: BLE001 - the sweep is the safety net
        logger.warning(
            "could not queue %d webhook deliveries; the sweep will send them", len(entrega_ids)
        )


_PAGOS = {
    signals.pago_retenido: "pago.retenido",
    signals.pago_liberado: "pago.liberado",
    signals.pago_enviado: "pago.enviado",
    signals.pago_confirmado: "pago.pagado",
    signals.pago_fallido: "pago.fallido",
}
# Kept at module level: signals hold weak references to their receivers.
_RECEPTORES_PAGO = {senal: _pago(tipo) for senal, tipo in _PAGOS.items()}


def conectar() -> None:
    """Connect this subdomain's receivers (from `AppConfig.ready()`)."""
    pares = [
        (signals.creditos_creados, al_crear_creditos),
        (signals.comision_aprobada, al_aprobar),
        (signals.recompensa_aprobada, al_aprobar),
        (signals.comision_revertida, al_revertir),
        (signals.recompensa_revertida, al_revertir),
        (signals.credito_en_revision, al_entrar_en_revision),
        (signals.credito_revision_descartada, al_descartar_revision),
        (signals.credito_revision_confirmada, al_confirmar_revision),
        (signals.credito_reembolsado, al_reembolsar),
        (signals.contrato_aceptado, al_aceptar_contrato),
        (signals.entregas_webhook_creadas, encolar_entregas),
        *_RECEPTORES_PAGO.items(),
    ]
    for senal, receptor in pares:
        senal.connect(receptor, dispatch_uid=f"webhooks.{receptor.__name__}.{id(senal)}")
