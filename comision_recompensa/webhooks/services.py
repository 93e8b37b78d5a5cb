"""Writes of the webhook subdomain: endpoints (create, change, delete, rotate the secret, ping),
the outbox (`entregas_registrar`: delivery rows numbered per endpoint in the caller's
transaction) and replays.

Queueing the deliveries is not done here: `entregas_webhook_creadas` is sent after commit and
the receiver in `receivers.py` queues them (services never import tasks).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from alpespartners.errors import Conflicto, ErrorDominio
from alpespartners.senales import enviar_al_confirmar
from comision_recompensa import signals
from comision_recompensa.models import (
    ClaseEndpoint,
    EndpointWebhook,
    EntregaWebhook,
    EstadoEntrega,
)
from comision_recompensa.webhooks import postbacks, red
from comision_recompensa.webhooks.tipos import PING, eventos_validar
from eventos_medios.models import Marca, Socio

PREFIJO_SECRETO = "whsec_"
EVENTOS_POSTBACK = ["comision.creada", "recompensa.creada"]


class _SinCambio:
    def __repr__(self) -> str:
        return "SIN_CAMBIO"


SIN_CAMBIO: Any = _SinCambio()


def secreto_nuevo() -> str:
    return PREFIJO_SECRETO + secrets.token_urlsafe(32)


def _url_limpia(clase: str, url: Any) -> str:
    try:
        if clase == ClaseEndpoint.POSTBACK:
            return postbacks.plantilla_validar(url)
        return red.url_validar(url)
    except red.UrlNoPermitida as exc:
        raise ErrorDominio(str(exc), campo="url", codigo="url_no_permitida") from None


def _eventos_limpios(clase: str, eventos: Any) -> list[str]:
    if clase == ClaseEndpoint.POSTBACK:
        if eventos not in (None, [], EVENTOS_POSTBACK):
            raise ErrorDominio(
                "A postback is sent when the partner is credited; it takes no event list.",
                campo="eventos",
            )
        return list(EVENTOS_POSTBACK)
    return eventos_validar(eventos)


def endpoint_validar(
    *, marca: Marca | None, socio: Socio | None, clase: str, url: Any, eventos: Any
) -> tuple[str, list[str]]:
    """Check an endpoint's owner, class, URL (https, public addresses after DNS) and event list
    without writing anything; returns (url, eventos) cleaned. Raises `ErrorDominio` naming the
    field (also used by the admin form)."""
    if (marca is None) == (socio is None):
        raise ErrorDominio("An endpoint belongs to one marca or one socio.", campo="marca")
    if clase not in ClaseEndpoint.values:
        raise ErrorDominio(f"Must be one of: {', '.join(ClaseEndpoint.values)}.", campo="clase")
    if clase == ClaseEndpoint.POSTBACK and socio is None:
        raise ErrorDominio("Postbacks are a partner's (socio) endpoints.", campo="clase")
    eventos_ok = _eventos_limpios(clase, eventos)
    return _url_limpia(clase, url), eventos_ok


def endpoint_crear(
    *,
    marca: Marca | None = None,
    socio: Socio | None = None,
    url: Any,
    eventos: Any = None,
    clase: str = ClaseEndpoint.WEBHOOK,
    activo: bool = True,
    descripcion: str = "",
) -> EndpointWebhook:
    """Register an endpoint for a brand (its programme's events) or a partner (its own), with a
    new secret (on the returned object; shown once by the caller). See `endpoint_validar`; at
    most `WEBHOOKS_MAX_ENDPOINTS_POR_DUENO` per owner."""
    url_ok, eventos_ok = endpoint_validar(
        marca=marca, socio=socio, clase=clase, url=url, eventos=eventos
    )
    maximo = int(settings.WEBHOOKS_MAX_ENDPOINTS_POR_DUENO)
    with transaction.atomic():
        dueno = Marca.objects.filter(pk=marca.pk) if marca else Socio.objects.filter(pk=socio.pk)  # type: ignore[union-attr]
        dueno.select_for_update().exists()  # serialise the count below per owner
        existentes = EndpointWebhook.objects.filter(marca=marca, socio=socio).count()
        if existentes >= maximo:
            raise ErrorDominio(f"At most {maximo} endpoints per owner.", campo="url")
        return EndpointWebhook.objects.create(
            marca=marca,
            socio=socio,
            clase=clase,
            url=url_ok,
            eventos=eventos_ok,
            activo=bool(activo),
            descripcion=(descripcion or "")[:200],
            secreto=secreto_nuevo(),
        )


def endpoint_actualizar(
    *,
    endpoint: EndpointWebhook,
    url: Any = SIN_CAMBIO,
    eventos: Any = SIN_CAMBIO,
    activo: Any = SIN_CAMBIO,
    descripcion: Any = SIN_CAMBIO,
) -> EndpointWebhook:
    """Change an endpoint's URL, subscriptions, active flag or description (only those given).
    The owner, the class, the secret and the counter never change here."""
    cambios: dict[str, Any] = {}
    if url is not SIN_CAMBIO:
        cambios["url"] = _url_limpia(endpoint.clase, url)
    if eventos is not SIN_CAMBIO:
        cambios["eventos"] = _eventos_limpios(endpoint.clase, eventos)
    if activo is not SIN_CAMBIO:
        cambios["activo"] = bool(activo)
    if descripcion is not SIN_CAMBIO:
        cambios["descripcion"] = str(descripcion or "")[:200]
    if cambios:
        cambios["actualizado_en"] = timezone.now()
        EndpointWebhook.objects.filter(pk=endpoint.pk).update(**cambios)
        endpoint.refresh_from_db()
    return endpoint


def endpoint_eliminar(*, endpoint: EndpointWebhook) -> None:
    """Delete an endpoint and its delivery log (nothing more is sent to it)."""
    EndpointWebhook.objects.filter(pk=endpoint.pk).delete()


def endpoint_rotar_secreto(*, endpoint: EndpointWebhook) -> EndpointWebhook:
    """A new secret (on the returned object; shown once). The current one keeps signing beside
    it for `WEBHOOKS_ROTACION_SEGUNDOS` (24 h): both signatures are sent meanwhile. Rotating
    again within that window drops the oldest secret at once."""
    ahora = timezone.now()
    vigencia = dt.timedelta(seconds=float(settings.WEBHOOKS_ROTACION_SEGUNDOS))
    with transaction.atomic():
        actual = EndpointWebhook.objects.select_for_update().get(pk=endpoint.pk)
        actual.secreto_anterior = actual.secreto
        actual.secreto_anterior_expira_en = ahora + vigencia
        actual.secreto = secreto_nuevo()
        actual.actualizado_en = ahora
        actual.save(
            update_fields=[
                "secreto",
                "secreto_anterior",
                "secreto_anterior_expira_en",
                "actualizado_en",
            ]
        )
    return actual


def secretos_vigentes(endpoint: EndpointWebhook, *, ahora: dt.datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, then the previous one while its
    rotation window lasts."""
    ahora = ahora or timezone.now()
    vigentes = [endpoint.secreto]
    expira = endpoint.secreto_anterior_expira_en
    if endpoint.secreto_anterior and expira is not None and expira > ahora:
        vigentes.append(endpoint.secreto_anterior)
    return vigentes


# --- The outbox ------------------------------------------------------------------------------
@dataclass(frozen=True)
class NuevaEntrega:
    """A delivery to write: the endpoint, the type and its datos (plus, for postbacks, the
    expanded URL and the credit it is about)."""

    endpoint_id: uuid.UUID
    tipo: str
    datos: dict[str, Any]
    url: str = ""
    credito_clase: str = ""
    credito_id: uuid.UUID | None = None
    estado: str = EstadoEntrega.PENDIENTE


def _tomar_secuencias(endpoint_id: uuid.UUID, cantidad: int) -> int | None:
    """Take `cantidad` numbers from the endpoint's counter row; returns the last one (None when
    the endpoint is gone). The row stays locked until the transaction ends: concurrent writers
    for the same endpoint wait here, so numbers follow commit order and a rollback frees them."""
    tabla = EndpointWebhook._meta.db_table
    valor = endpoint_id if connection.features.has_native_uuid_field else endpoint_id.hex
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {tabla} SET secuencia_actual = secuencia_actual + %s "
            "WHERE id = %s RETURNING secuencia_actual",
            [cantidad, valor],
        )
        fila = cursor.fetchone()
    return int(fila[0]) if fila else None


def entregas_registrar(*, nuevas: Sequence[NuevaEntrega]) -> list[EntregaWebhook]:
    """Write deliveries (the outbox) in the current transaction, each numbered with its
    endpoint's next `secuencia`. Endpoints are locked in id order (no deadlock between two
    writers of the same endpoints). After commit `entregas_webhook_creadas` queues them."""
    por_endpoint: dict[uuid.UUID, list[NuevaEntrega]] = defaultdict(list)
    for nueva in nuevas:
        por_endpoint[nueva.endpoint_id].append(nueva)
    ahora = timezone.now()
    filas: list[EntregaWebhook] = []
    with transaction.atomic():
        for endpoint_id in sorted(por_endpoint, key=str):
            lote = por_endpoint[endpoint_id]
            ultima = _tomar_secuencias(endpoint_id, len(lote))
            if ultima is None:
                continue
            primera = ultima - len(lote) + 1
            filas.extend(
                EntregaWebhook(
                    endpoint_id=endpoint_id,
                    secuencia=primera + i,
                    tipo=n.tipo,
                    datos=n.datos,
                    url=n.url,
                    credito_clase=n.credito_clase,
                    credito_id=n.credito_id,
                    estado=n.estado,
                    creado_en=ahora,
                    ventana_desde=ahora,
                    proximo_intento_en=ahora,
                )
                for i, n in enumerate(lote)
            )
        EntregaWebhook.objects.bulk_create(filas)
        pendientes = [f.id for f in filas if f.estado == EstadoEntrega.PENDIENTE]
        if pendientes:
            enviar_al_confirmar(
                signals.entregas_webhook_creadas, sender=EntregaWebhook, entrega_ids=pendientes
            )
    return filas


def endpoint_probar(*, endpoint: EndpointWebhook) -> EntregaWebhook:
    """A test delivery (`ping`) through the outbox, numbered like any other. 409 when the
    endpoint is inactive (nothing is sent to it)."""
    if not endpoint.activo:
        raise Conflicto("The endpoint is inactive: activate it to test it.", codigo="inactivo")
    datos = {"endpoint_id": str(endpoint.pk), "mensaje": "Test delivery from Alpes Partners."}
    return entregas_registrar(
        nuevas=[NuevaEntrega(endpoint_id=endpoint.pk, tipo=PING, datos=datos)]
    )[0]


# --- Replays ---------------------------------------------------------------------------------
_REENVIABLES = (EstadoEntrega.PENDIENTE, EstadoEntrega.ENTREGADA, EstadoEntrega.FALLIDA)


def _reabrir(filtro: Q) -> list[uuid.UUID]:
    """Put the matching deliveries back in the outbox: due now, a fresh retry window, the same
    id (`Idempotency-Key`) and secuencia. Held or cancelled postbacks are not replayed."""
    ahora = timezone.now()
    with transaction.atomic():
        qs = EntregaWebhook.objects.filter(filtro, estado__in=_REENVIABLES)
        ids = list(qs.values_list("id", flat=True))
        EntregaWebhook.objects.filter(id__in=ids).update(
            estado=EstadoEntrega.PENDIENTE,
            proximo_intento_en=ahora,
            ventana_desde=ahora,
            reenvios=F("reenvios") + 1,
        )
        if ids:
            enviar_al_confirmar(
                signals.entregas_webhook_creadas, sender=EntregaWebhook, entrega_ids=ids
            )
    return ids


def entrega_reenviar(*, entrega: EntregaWebhook) -> EntregaWebhook:
    """Replay one delivery (a new attempt of the same delivery: receivers dedupe by its key).
    409 for a postback that is held for review or was cancelled."""
    if entrega.estado not in _REENVIABLES:
        raise Conflicto(f"A {entrega.estado} delivery cannot be replayed.", codigo="no_reenviable")
    _reabrir(Q(pk=entrega.pk))
    entrega.refresh_from_db()
    return entrega


def entregas_reenviar(
    *,
    endpoint: EndpointWebhook,
    desde_secuencia: int | None = None,
    hasta_secuencia: int | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> int:
    """Replay a range of an endpoint's deliveries, by secuencia and/or creation time (each
    bound inclusive, at least one given). At most `WEBHOOKS_REENVIO_MAX` per call (400
    naming the range otherwise). Returns how many were put back in the outbox."""
    if all(v is None for v in (desde_secuencia, hasta_secuencia, desde, hasta)):
        raise ErrorDominio(
            "Give desde_secuencia/hasta_secuencia or desde/hasta.", campo="desde_secuencia"
        )
    if (
        desde_secuencia is not None
        and hasta_secuencia is not None
        and hasta_secuencia < desde_secuencia
    ):
        raise ErrorDominio("Must be ≥ desde_secuencia.", campo="hasta_secuencia")
    if desde is not None and hasta is not None and hasta < desde:
        raise ErrorDominio("Must be on or after desde.", campo="hasta")
    filtro = Q(endpoint=endpoint)
    for campo, valor in (
        ("secuencia__gte", desde_secuencia),
        ("secuencia__lte", hasta_secuencia),
        ("creado_en__gte", desde),
        ("creado_en__lte", hasta),
    ):
        if valor is not None:
            filtro &= Q(**{campo: valor})
    maximo = int(settings.WEBHOOKS_REENVIO_MAX)
    cuantas = EntregaWebhook.objects.filter(filtro, estado__in=_REENVIABLES).count()
    if cuantas > maximo:
        campo = "hasta_secuencia" if hasta_secuencia is not None else "hasta"
        raise ErrorDominio(
            f"{cuantas} deliveries in that range; at most {maximo} per replay: split it.",
            campo=campo,
        )
    return len(_reabrir(filtro))
