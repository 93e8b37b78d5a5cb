"""From a domain fact to outbox rows: who is subscribed, with which datos (PRODUCT.md §10).

Called by the signal receivers (`receivers.py`) inside the transaction of the change, so the
deliveries commit or roll back with it. A brand's endpoints receive the facts of its programme,
a partner's endpoints its own; nobody else.

Postbacks: when a partner is credited its postback endpoints get one GET each, expanded from
the template. A postback of a credit under review (`en_revision`) is written `retenida` (or
held when the review starts), released when the review is dismissed and cancelled when it is
confirmed; the delivery itself re-checks the credit before sending.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from alpespartners.senales import enviar_al_confirmar
from comision_recompensa import signals
from comision_recompensa.models import ClaseEndpoint, EntregaWebhook, EstadoEntrega
from comision_recompensa.webhooks import postbacks
from comision_recompensa.webhooks.datos import Hecho, contrato_hecho, creditos_hechos, pago_hecho
from comision_recompensa.webhooks.selectors import endpoints_suscritos
from comision_recompensa.webhooks.services import NuevaEntrega, entregas_registrar

EN_REVISION = "en_revision"
REVERTIDA = "revertida"


def _para(hechos: list[Hecho], tipo: str) -> list[NuevaEntrega]:
    """One delivery per (fact, endpoint of its brand or partner subscribed to `tipo`)."""
    endpoints = endpoints_suscritos(
        tipo=tipo,
        marca_ids=[h.marca_id for h in hechos],
        socio_ids=[h.socio_id for h in hechos],
    )
    nuevas = []
    for hecho in hechos:
        for endpoint in endpoints:
            propio = (hecho.marca_id is not None and endpoint.marca_id == hecho.marca_id) or (
                hecho.socio_id is not None and endpoint.socio_id == hecho.socio_id
            )
            if propio:
                nuevas.append(
                    NuevaEntrega(
                        endpoint_id=endpoint.pk,
                        tipo=tipo,
                        datos=hecho.datos,
                        credito_clase=hecho.credito_clase,
                        credito_id=hecho.credito_id,
                    )
                )
    return nuevas


def creditos_publicar(
    *, clase: str, credito_ids: Iterable[Any], tipo: str, extra: dict[str, Any] | None = None
) -> list[EntregaWebhook]:
    """Deliveries of `tipo` for each credit (datos + `extra`) to its brand and its partner."""
    hechos = creditos_hechos(clase=clase, credito_ids=credito_ids)
    if extra:
        hechos = [replace(h, datos={**h.datos, **extra}) for h in hechos]
    return entregas_registrar(nuevas=_para(hechos, tipo))


def creditos_creados_publicar(*, clase: str, credito_ids: Iterable[Any]) -> list[EntregaWebhook]:
    """`<clase>.creada` webhooks and the partners' postbacks of new credits."""
    hechos = creditos_hechos(clase=clase, credito_ids=credito_ids)
    tipo = f"{clase}.creada"
    nuevas = _para(hechos, tipo) + _postbacks(hechos, tipo)
    return entregas_registrar(nuevas=nuevas)


def _postbacks(hechos: list[Hecho], tipo: str) -> list[NuevaEntrega]:
    vivos = [h for h in hechos if h.datos["estado"] != REVERTIDA and h.postback is not None]
    endpoints = endpoints_suscritos(
        tipo=tipo, marca_ids=[], socio_ids=[h.socio_id for h in vivos], clase="postback"
    )
    subs = _subs_de_clicks({h.postback.get("click_id") for h in vivos if h.postback})
    nuevas = []
    for hecho in vivos:
        assert hecho.postback is not None
        valores = {**hecho.postback, **subs.get(str(hecho.postback.get("click_id")), {})}
        for endpoint in endpoints:
            if endpoint.socio_id != hecho.socio_id:
                continue
            retenida = hecho.datos["estado"] == EN_REVISION
            nuevas.append(
                NuevaEntrega(
                    endpoint_id=endpoint.pk,
                    tipo=tipo,
                    datos=hecho.datos,
                    url=postbacks.plantilla_expandir(endpoint.url, valores),
                    credito_clase=hecho.credito_clase,
                    credito_id=hecho.credito_id,
                    estado=EstadoEntrega.RETENIDA if retenida else EstadoEntrega.PENDIENTE,
                )
            )
    return nuevas


def _subs_de_clicks(click_ids: set[Any]) -> dict[str, dict[str, str]]:
    """`sub1`…`sub5` stored on each click (its metadata), by click id."""
    from eventos_medios.models import Evento

    ids = [c for c in click_ids if c]
    if not ids:
        return {}
    resultado: dict[str, dict[str, str]] = {}
    for click_id, metadata in Evento.objects.filter(pk__in=ids).values_list("id", "metadata"):
        metadata = metadata if isinstance(metadata, dict) else {}
        resultado[str(click_id)] = {
            f"sub{i}": str(metadata[f"sub{i}"])
            for i in range(1, 6)
            if isinstance(metadata.get(f"sub{i}"), str)
        }
    return resultado


def pago_publicar(
    *, pago_id: Any, tipo: str, extra: dict[str, Any] | None = None
) -> list[EntregaWebhook]:
    """Deliveries of `tipo` for a Pago to its partner (and its brand, for per-brand Pagos)."""
    hecho = pago_hecho(pago_id=pago_id)
    if hecho is None:
        return []
    if extra:
        hecho = replace(hecho, datos={**hecho.datos, **extra})
    return entregas_registrar(nuevas=_para([hecho], tipo))


def contrato_publicar(
    *, contrato_id: Any, aceptacion_id: Any, socio_id: Any
) -> list[EntregaWebhook]:
    """`contrato.aceptado` to the partner that accepted and the agreement's brand."""
    hecho = contrato_hecho(contrato_id=contrato_id, aceptacion_id=aceptacion_id, socio_id=socio_id)
    return entregas_registrar(nuevas=_para([hecho], "contrato.aceptado"))


# --- Postbacks and the review of their credit --------------------------------------------------
def _postbacks_de(credito_id: uuid.UUID | Any, estado: str) -> Any:
    return EntregaWebhook.objects.filter(
        credito_id=credito_id, estado=estado, endpoint__clase=ClaseEndpoint.POSTBACK
    )


def postbacks_retener(*, credito_id: Any) -> int:
    """The credit went into review: its unsent postbacks wait."""
    ids = list(_postbacks_de(credito_id, EstadoEntrega.PENDIENTE).values_list("id", flat=True))
    return EntregaWebhook.objects.filter(id__in=ids, estado=EstadoEntrega.PENDIENTE).update(
        estado=EstadoEntrega.RETENIDA
    )


def postbacks_liberar(*, credito_id: Any) -> int:
    """The review was dismissed: its held postbacks are due now (queued after commit)."""
    ahora = timezone.now()
    with transaction.atomic():
        ids = list(_postbacks_de(credito_id, EstadoEntrega.RETENIDA).values_list("id", flat=True))
        EntregaWebhook.objects.filter(id__in=ids).update(
            estado=EstadoEntrega.PENDIENTE, proximo_intento_en=ahora, ventana_desde=ahora
        )
        if ids:
            enviar_al_confirmar(
                signals.entregas_webhook_creadas, sender=EntregaWebhook, entrega_ids=ids
            )
    return len(ids)


def postbacks_cancelar(*, credito_id: Any) -> int:
    """The review was confirmed (fraud): its held postbacks are never sent."""
    ids = list(_postbacks_de(credito_id, EstadoEntrega.RETENIDA).values_list("id", flat=True))
    return EntregaWebhook.objects.filter(id__in=ids).update(estado=EstadoEntrega.CANCELADA)
