"""Data shared by the portal tests: a partner with a login, a medio, a publicacion, events and
credits of each kind, and a Pago."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from comision_recompensa.models import (
    Comision,
    EstadoCredito,
    Modalidad,
    Pago,
    Recompensa,
    ReglaTerminos,
    TerminosPorDefecto,
)
from comision_recompensa.tests.factories import ComisionFactory, PagoFactory, RecompensaFactory
from eventos_medios.models import Marca, Publicacion, Socio, TipoEvento, TipoSocio
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

CLAVE = "clave-segura-123"  # the factories' password


@dataclass
class SocioPortal:
    socio: Socio
    usuario: Any
    marca: Marca
    publicacion: Publicacion
    comision: Comision
    recompensa: Recompensa
    pago: Pago


def socio_portal(
    *, nombre: str = "Ana Trail", marca: Marca | None = None, cuando: dt.datetime | None = None
) -> SocioPortal:
    """A partner (afiliado) with a login, a publicacion, two clicks, a sale with a commission
    (explained: one own touchpoint and one of another partner), a reward and a paid Pago."""
    cuando = cuando or timezone.now() - dt.timedelta(hours=2)
    marca = marca or MarcaFactory()
    usuario = UsuarioFactory(username=nombre.lower().replace(" ", "-"))
    socio = SocioFactory(nombre=nombre, usuario=usuario, tipo=TipoSocio.AFILIADO)
    pub = PublicacionFactory(medio=MedioMarketingFactory(socio=socio), marca=marca)
    click = EventoFactory(publicacion=pub, ocurrido_en=cuando, visitante_id="v1")
    EventoFactory(publicacion=pub, ocurrido_en=cuando, visitante_id="v2")
    venta = EventoFactory(
        publicacion=None,
        marca=marca,
        socio=socio,
        tipo=TipoEvento.VENTA,
        ocurrido_en=cuando + dt.timedelta(minutes=5),
        valor=Decimal("120.00"),
        moneda="EUR",
    )
    pago = PagoFactory(socio=socio, monto=Decimal("12.00"), estado="pagado")
    comision = ComisionFactory(
        evento=venta,
        socio=socio,
        participacion=Decimal("0.5"),
        monto=Decimal("6.00"),
        estado=EstadoCredito.PAGADA,
        pago=pago,
        detalle_atribucion=_detalle(click, socio),
    )
    venta2 = EventoFactory(
        publicacion=None, marca=marca, socio=socio, tipo=TipoEvento.LEAD, ocurrido_en=cuando
    )
    recompensa = RecompensaFactory(
        evento=venta2, socio=socio, monto=Decimal("2.00"), estado=EstadoCredito.PENDIENTE
    )
    return SocioPortal(socio, usuario, marca, pub, comision, recompensa, pago)


def _detalle(click: Any, socio: Socio) -> dict[str, Any]:
    otro = SocioFactory(nombre="Otro Socio Secreto")
    return {
        "version": 1,
        "metodo": "visitante_id",
        "modelo": "lineal",
        "ventana_dias": 30,
        "touchpoints": [
            {
                "evento_id": str(click.pk),
                "tipo": "click",
                "ocurrido_en": click.ocurrido_en.isoformat(),
                "socio_id": str(socio.pk),
                "peso": "0.5",
                "credito": "0.5",
                "propio": True,
            },
            {
                "evento_id": "00000000-0000-0000-0000-000000000001",
                "tipo": "click",
                "ocurrido_en": click.ocurrido_en.isoformat(),
                "socio_id": str(otro.pk),
                "peso": "0.5",
                "credito": "0.5",
                "propio": False,
            },
        ],
        "regla": {
            "tipo_evento": "venta",
            "modalidad": "porcentaje",
            "valor": "10.00",
            "moneda": "EUR",
        },
        "asociacion": {"id": "x", "dias_retencion": 30},
        "calculo": {"total": "12.00"},
    }


def terminos_para(marca: Marca, **extra: Any) -> TerminosPorDefecto:
    """Default terms (a 10 % venta rule and a 2 EUR lead rule) that accept applications."""
    terminos = TerminosPorDefecto.objects.create(
        marca=marca,
        dias_retencion=14,
        texto_contrato="Cláusula 1. Publica con honestidad.",
        **extra,
    )
    ReglaTerminos.objects.create(
        terminos=terminos,
        tipo_evento=TipoEvento.VENTA,
        modalidad=Modalidad.PORCENTAJE,
        valor=Decimal("10.00"),
        moneda="EUR",
        tope=Decimal("50.00"),
    )
    ReglaTerminos.objects.create(
        terminos=terminos,
        tipo_evento=TipoEvento.LEAD,
        modalidad=Modalidad.FIJO,
        valor=Decimal("2.00"),
        moneda="EUR",
    )
    return terminos
