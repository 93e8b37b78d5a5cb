"""Reads of contract versions and acceptances (PRODUCT.md §9), scoped by who is asking.

The version in force of an agreement on a day is the published version with the highest
number whose `vigente_desde` has come; later published versions are `programado` (they may be
accepted ahead of their date); earlier ones are `sustituido`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from alpespartners import alcance as acceso
from alpespartners.alcance import Alcance
from comision_recompensa.models import AceptacionContrato, Contrato


def texto_hash(texto: str) -> str:
    """SHA-256 (hex) of a contract text, as accepted: the UTF-8 bytes exactly as stored."""
    return hashlib.sha256(texto.encode("utf-8")).hexdigest()


def hoy() -> dt.date:
    """Today (UTC), the day contract dates are compared with."""
    return timezone.now().date()


def contratos_visibles(*, alcance: Alcance) -> QuerySet[Contrato]:
    """Staff: every version, drafts included. A brand user: published versions of its marcas'
    agreements; a partner: published versions of its own."""
    qs = Contrato.objects.select_related("asociacion", "asociacion__marca", "asociacion__socio")
    if not alcance.es_staff:
        qs = qs.filter(publicado_en__isnull=False)
    return acceso.filtrar(qs, acceso.q_contratos(alcance))


def contratos_vigentes(
    *, asociacion_ids: Iterable[uuid.UUID], fecha: dt.date | None = None
) -> dict[uuid.UUID, Contrato]:
    """The version in force on `fecha` (default today) of each agreement that has one."""
    dia = fecha or hoy()
    vigentes: dict[uuid.UUID, Contrato] = {}
    filas = (
        Contrato.objects.filter(
            asociacion_id__in=list(asociacion_ids),
            publicado_en__isnull=False,
            vigente_desde__lte=dia,
        )
        .select_related("asociacion", "asociacion__marca")
        .order_by("asociacion_id", "-version")
    )
    for contrato in filas:
        vigentes.setdefault(contrato.asociacion_id, contrato)
    return vigentes


def contrato_vigente(*, asociacion_id: uuid.UUID, fecha: dt.date | None = None) -> Contrato | None:
    """The version in force of one agreement (None: it has no published contract yet)."""
    return contratos_vigentes(asociacion_ids=[asociacion_id], fecha=fecha).get(asociacion_id)


def contrato_estado(contrato: Contrato, vigente: Contrato | None, fecha: dt.date) -> str:
    """`borrador`, `vigente`, `programado` (published, its date not come yet) or `sustituido`."""
    if contrato.publicado_en is None:
        return "borrador"
    if vigente is not None and contrato.pk == vigente.pk:
        return "vigente"
    if contrato.vigente_desde > fecha:
        return "programado"
    if vigente is None or contrato.version > vigente.version:  # pragma: no cover - defensive
        return "programado"
    return "sustituido"


def aceptaciones_de(
    *, contrato_ids: Iterable[uuid.UUID], socio_id: uuid.UUID | None = None
) -> dict[uuid.UUID, AceptacionContrato]:
    """Acceptances of those versions by their agreement's partner (one per version at most),
    by contract id; `socio_id` narrows to one partner's."""
    filtro = Q(contrato_id__in=list(contrato_ids), socio_id=F("contrato__asociacion__socio_id"))
    if socio_id is not None:
        filtro &= Q(socio_id=socio_id)
    return {a.contrato_id: a for a in AceptacionContrato.objects.filter(filtro)}
