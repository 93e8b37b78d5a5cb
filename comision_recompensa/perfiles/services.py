"""Writes of payout profiles, and staff's deliberate reveal of a reference (PRODUCT.md §9).

The partner edits its own profile (API); staff edit any (API, admin). The reference (IBAN or
e-mail) is stored as given (normalised) and shown masked everywhere; `perfil_pago_revelar` is
the one way to read it back, staff only, and it sends `perfil_pago_revelado` inside its
transaction so the audit log records who looked.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from alpespartners.errors import ErrorValidacion, NoEncontrado, Prohibido
from alpespartners.senales import enviar_en_transaccion
from comision_recompensa import signals
from comision_recompensa.models import PerfilPago
from comision_recompensa.perfiles.selectors import perfil_datos
from comision_recompensa.perfiles.validacion import (
    CAMPOS_PERFIL,
    perfil_enmascarado,
    perfil_validar,
)
from eventos_medios.models import Socio

logger = logging.getLogger(__name__)


def perfil_pago_guardar(
    *,
    socio_id: uuid.UUID,
    datos: dict[str, Any],
    parcial: bool,
    por: int | None,
    origen: str,
) -> PerfilPago:
    """Create or change the partner's payout profile.

    `parcial` (PATCH): only the fields present in `datos` change; otherwise (PUT) every field
    is replaced and a missing one becomes empty. The merged profile is validated as a whole
    (an IBAN for `transferencia`, an e-mail for `paypal`, an ISO 3166 country), so changing
    `metodo` alone fails naming `referencia` when the stored one does not fit. Raises
    `ErrorValidacion` (fields named) and `NoEncontrado` (unknown socio); nothing is written on
    error. Sends `perfil_pago_cambiado` (socio_id, por, antes, despues — masked) inside the
    transaction when something changed.
    """
    desconocidos = sorted(set(datos) - set(CAMPOS_PERFIL))
    if desconocidos:
        raise ErrorValidacion({c: ["is not a field of the payout profile."] for c in desconocidos})
    with transaction.atomic():
        if not Socio.objects.filter(pk=socio_id).exists():
            raise NoEncontrado("Socio not found.", campo="socio")
        perfil, _ = PerfilPago.objects.select_for_update().get_or_create(socio_id=socio_id)
        antes = perfil_datos(perfil)
        propuesto = {**antes, **datos} if parcial else dict(datos)
        limpio, errores = perfil_validar(propuesto)
        if errores:
            raise ErrorValidacion(errores, mensaje="Invalid payout profile.")
        if limpio == antes:
            return perfil
        for campo, valor in limpio.items():
            setattr(perfil, campo, valor)
        perfil.save()
        enviar_en_transaccion(
            signals.perfil_pago_cambiado,
            sender=PerfilPago,
            socio_id=socio_id,
            por=por,
            antes=perfil_enmascarado(antes),
            despues=perfil_enmascarado(limpio),
            origen=origen,
        )
    logger.info("Payout profile of socio %s changed by %s (%s)", socio_id, por, origen)
    return perfil


def perfil_pago_revelar(
    *, socio_id: uuid.UUID, por: int | None, es_staff: bool, motivo: str, origen: str
) -> dict[str, str]:
    """Staff: the partner's profile with the reference in clear. Raises `Prohibido` for anyone
    else and `NoEncontrado` when the partner has no reference. Sends `perfil_pago_revelado`
    (socio_id, por, motivo, origen) inside the transaction: if the audit cannot record it, the
    reference is not shown."""
    if not es_staff:
        raise Prohibido("Only staff may reveal a payout reference.", codigo="solo_staff")
    with transaction.atomic():
        perfil = PerfilPago.objects.filter(socio_id=socio_id).first()
        if perfil is None or not perfil.referencia:
            raise NoEncontrado("This partner has no payout reference.", campo="referencia")
        enviar_en_transaccion(
            signals.perfil_pago_revelado,
            sender=PerfilPago,
            socio_id=socio_id,
            por=por,
            motivo=(motivo or "").strip()[:300],
            origen=origen,
        )
    logger.warning("Payout reference of socio %s revealed to user %s (%s)", socio_id, por, origen)
    return perfil_datos(perfil)
