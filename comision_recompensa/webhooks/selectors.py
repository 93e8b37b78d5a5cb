"""Reads of webhook endpoints and deliveries, scoped by `alpespartners.alcance`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from alpespartners import alcance as acceso
from comision_recompensa.models import (
    ClaseEndpoint,
    EndpointWebhook,
    EntregaWebhook,
    EstadoEntrega,
)
from comision_recompensa.webhooks.tipos import suscrito


def endpoints_visibles(*, alcance: acceso.Alcance) -> QuerySet[EndpointWebhook]:
    """Endpoints the caller may see and manage: staff all, a brand user its marcas', a partner
    its own."""
    return acceso.filtrar(EndpointWebhook.objects.all(), acceso.q_endpoints_webhook(alcance))


def entregas_de_endpoint(*, endpoint: EndpointWebhook) -> QuerySet[EntregaWebhook]:
    """The delivery log of one endpoint (newest first)."""
    return EntregaWebhook.objects.filter(endpoint=endpoint).order_by("-secuencia")


def endpoints_suscritos(
    *,
    tipo: str,
    marca_ids: Iterable[uuid.UUID | None],
    socio_ids: Iterable[uuid.UUID | None],
    clase: str = ClaseEndpoint.WEBHOOK,
) -> list[EndpointWebhook]:
    """Active endpoints of `clase` owned by one of the brands or partners and subscribed to
    `tipo` (postbacks are not subscribed by type)."""
    marcas = {m for m in marca_ids if m is not None}
    socios = {s for s in socio_ids if s is not None}
    if not marcas and not socios:
        return []
    filtro = Q(marca_id__in=marcas) | Q(socio_id__in=socios)
    candidatos = EndpointWebhook.objects.filter(filtro, activo=True, clase=clase).only(
        "id", "marca_id", "socio_id", "eventos", "url", "clase"
    )
    if clase == ClaseEndpoint.POSTBACK:
        return list(candidatos)
    return [e for e in candidatos if suscrito(e.eventos, tipo)]


def entregas_por_enviar(*, limite: int) -> list[uuid.UUID]:
    """Ids of due deliveries of active endpoints, oldest due first (no lock)."""
    return list(
        EntregaWebhook.objects.filter(
            estado=EstadoEntrega.PENDIENTE,
            proximo_intento_en__lte=timezone.now(),
            endpoint__activo=True,
        )
        .order_by("proximo_intento_en")
        .values_list("id", flat=True)[:limite]
    )


def entrega_resumen(*, entrega_ids: Iterable[Any]) -> dict[str, int]:
    """How many of `entrega_ids` are in each state (tests, benchmark, admin messages)."""
    cuenta: dict[str, int] = {}
    for estado in EntregaWebhook.objects.filter(id__in=list(entrega_ids)).values_list(
        "estado", flat=True
    ):
        cuenta[estado] = cuenta.get(estado, 0) + 1
    return cuenta
