"""One-click unsubscribe links for the optional e-mails: a signed token naming the partner and
the kind of e-mail. It needs no login (the signature is the capability) and never expires, as
mail clients expect (RFC 8058); it can only turn an optional e-mail off."""

from __future__ import annotations

import uuid

from django.core import signing

from comision_recompensa.models import TIPOS_CORREO_OPCIONALES

_SAL = "comision_recompensa.correos.baja"


def baja_firmar(*, socio_id: uuid.UUID, tipo: str) -> str:
    """The token of the unsubscribe link of `tipo` e-mails for `socio_id`."""
    return signing.dumps({"s": str(socio_id), "t": tipo}, salt=_SAL, compress=True)


def baja_leer(token: str) -> tuple[uuid.UUID, str] | None:
    """(socio_id, tipo) of a valid token of an optional e-mail type, else None."""
    try:
        datos = signing.loads(token, salt=_SAL)
        socio_id, tipo = uuid.UUID(str(datos["s"])), str(datos["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (socio_id, tipo) if tipo in TIPOS_CORREO_OPCIONALES else None
