"""Helpers shared by the payout tests: approved credits and a running payments simulator."""

from __future__ import annotations

import json
from decimal import Decimal

from comision_recompensa.models import Ajuste, EstadoCredito
from comision_recompensa.pagos.entrega import firmar
from comision_recompensa.tests.factories import ComisionFactory, RecompensaFactory


def comision_aprobada(socio, monto="10.00", moneda="EUR", **extra):
    return ComisionFactory(
        socio=socio,
        monto=Decimal(monto),
        moneda=moneda,
        estado=EstadoCredito.APROBADA,
        **extra,
    )


def recompensa_aprobada(socio, monto="10.00", moneda="EUR", **extra):
    return RecompensaFactory(
        socio=socio,
        monto=Decimal(monto),
        moneda=moneda,
        estado=EstadoCredito.APROBADA,
        **extra,
    )


def ajuste(socio, monto, moneda="EUR", motivo="clawback"):
    return Ajuste.objects.create(socio=socio, monto=Decimal(monto), moneda=moneda, motivo=motivo)


def cuerpo_firmado(datos: dict, secreto: str) -> tuple[bytes, str]:
    cuerpo = json.dumps(datos).encode()
    return cuerpo, firmar(cuerpo, secreto)
