"""Helpers shared by the payout tests: approved credits, payable partners, signed callbacks."""

from __future__ import annotations

import json
from decimal import Decimal

from alpespartners import firmas
from comision_recompensa.models import Ajuste, EstadoCredito, MetodoPago, PerfilPago
from comision_recompensa.tests.factories import ComisionFactory, RecompensaFactory

# A valid IBAN (the ISO 13616 example for Spain) and what its mask looks like.
IBAN_PRUEBA = "ES9121000418450200051332"
IBAN_ENMASCARADO = "ES** **** **** **** **** 1332"


def _de_marca(marca, extra: dict) -> dict:
    """Factory arguments putting the credit's event in `marca`'s programme (each credit gets a
    brand of its own otherwise, hence a Pago of its own)."""
    return {"evento__publicacion__marca": marca, **extra} if marca is not None else extra


def comision_aprobada(socio, monto="10.00", moneda="EUR", marca=None, **extra):
    return ComisionFactory(
        socio=socio,
        monto=Decimal(monto),
        moneda=moneda,
        estado=EstadoCredito.APROBADA,
        **_de_marca(marca, extra),
    )


def recompensa_aprobada(socio, monto="10.00", moneda="EUR", marca=None, **extra):
    return RecompensaFactory(
        socio=socio,
        monto=Decimal(monto),
        moneda=moneda,
        estado=EstadoCredito.APROBADA,
        **_de_marca(marca, extra),
    )


def ajuste(socio, monto, moneda="EUR", motivo="clawback", marca=None):
    return Ajuste.objects.create(
        socio=socio, marca=marca, monto=Decimal(monto), moneda=moneda, motivo=motivo
    )


def perfil_completo(socio, **campos) -> PerfilPago:
    """A complete, valid payout profile: the `datos_pago` control passes."""
    datos = {
        "titular": socio.nombre or "Titular",
        "metodo": MetodoPago.TRANSFERENCIA,
        "referencia": IBAN_PRUEBA,
        "pais": "ES",
        "identificacion_fiscal": "12345678Z",
        **campos,
    }
    return PerfilPago.objects.update_or_create(socio=socio, defaults=datos)[0]


def cuerpo_firmado(datos: dict, secreto: str, t: int | None = None) -> tuple[bytes, str]:
    cuerpo = json.dumps(datos).encode()
    return cuerpo, firmas.firmar(cuerpo, secreto, t=t)


def confirmacion(pago, estado: str = "pagado", **extra) -> dict:
    """The body the payments component sends to confirm (or reject) `pago`."""
    return {
        "pago_id": str(pago.id),
        "estado": estado,
        "monto": str(pago.monto),
        "moneda": pago.moneda,
        **extra,
    }
