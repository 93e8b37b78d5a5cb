"""factory_boy factories for the money app."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from comision_recompensa import models as m
from eventos_medios.models import TipoEvento
from eventos_medios.tests.factories import EventoFactory, MarcaFactory, SocioFactory


class AsociacionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.AsociacionEstrategica

    marca = factory.SubFactory(MarcaFactory)
    socio = factory.SubFactory(SocioFactory)
    tipo = m.TipoAsociacion.PROGRAMA_AFILIADOS
    dias_retencion = 30
    vigencia_inicio = dt.date(2020, 1, 1)


class ReglaPagoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ReglaPago

    asociacion = factory.SubFactory(AsociacionFactory)
    tipo_evento = TipoEvento.VENTA
    modalidad = m.Modalidad.PORCENTAJE
    valor = Decimal("10.00")
    moneda = "EUR"


class ComisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Comision

    evento = factory.SubFactory(
        EventoFactory, tipo=TipoEvento.VENTA, valor=Decimal("100.00"), moneda="EUR"
    )
    socio = factory.SelfAttribute("evento.socio")
    participacion = Decimal("1")
    monto = Decimal("10.00")
    moneda = "EUR"
    detalle_atribucion = factory.LazyFunction(dict)


class RecompensaFactory(ComisionFactory):
    class Meta:
        model = m.Recompensa

    descripcion = "Recompensa de prueba"


class PagoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Pago

    socio = factory.SubFactory(SocioFactory)
    monto = Decimal("10.00")
    moneda = "EUR"
