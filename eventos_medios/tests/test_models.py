"""Database constraints of the tracking models: rules that must never break."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from eventos_medios.models import Evento, TipoEvento
from eventos_medios.tests.factories import EventoFactory, PublicacionFactory, SocioFactory

pytestmark = pytest.mark.django_db


def _rompe(**kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        EventoFactory(**kwargs)


def test_codigos_generados_son_unicos():
    codigos = {SocioFactory().codigo_referido for _ in range(20)}
    assert len(codigos) == 20
    assert len({PublicacionFactory().codigo for _ in range(5)}) == 5


def test_valor_negativo_rechazado_por_la_base():
    _rompe(tipo=TipoEvento.VENTA, valor=Decimal("-1"), moneda="EUR")


def test_moneda_no_iso_rechazada_por_la_base():
    _rompe(tipo=TipoEvento.VENTA, valor=Decimal("1"), moneda="XXY")


def test_url_destino_no_http_rechazada_por_la_base():
    with pytest.raises(IntegrityError), transaction.atomic():
        PublicacionFactory(url_destino="javascript:alert(1)")


def test_venta_unica_por_marca_y_referencia():
    primera = EventoFactory(
        tipo=TipoEvento.VENTA, valor=Decimal("5"), moneda="EUR", referencia_externa="PED-1"
    )
    _rompe(
        tipo=TipoEvento.VENTA,
        valor=Decimal("5"),
        moneda="EUR",
        referencia_externa="PED-1",
        publicacion=primera.publicacion,
    )
    assert Evento.objects.filter(referencia_externa="PED-1").count() == 1
