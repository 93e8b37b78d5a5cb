"""Pagos per (socio, marca, moneda) (PRODUCT.md §9, issue 11 item 3): each brand's programme is
paid on its own; one brand's hold never blocks another brand's payout; clawbacks belong to a
brand; legacy and brandless money keeps working."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as registro_apps

from comision_recompensa.contratos.services import contrato_publicar_version
from comision_recompensa.creditos.services import credito_revertir
from comision_recompensa.models import Ajuste, EstadoCredito, EstadoPago, Pago
from comision_recompensa.pagos.desarrollo.simulador import SimuladorPagos
from comision_recompensa.pagos.entrega import pagos_entregar_pendientes
from comision_recompensa.pagos.selectors import pago_items
from comision_recompensa.pagos.services import pago_confirmar, pagos_generar
from comision_recompensa.tests.factories import AsociacionFactory, ComisionFactory, PagoFactory
from comision_recompensa.tests.pagos_helpers import comision_aprobada, perfil_completo
from eventos_medios.tests.factories import EventoFactory, MarcaFactory

pytestmark = pytest.mark.django_db

SECRETO = "secreto-marcas"


@pytest.fixture
def dos_marcas(socio):
    """The partner works for two brands; A has a contract the partner has not accepted."""
    perfil_completo(socio)
    a, b = MarcaFactory(nombre="Marca A"), MarcaFactory(nombre="Marca B")
    asociacion_a = AsociacionFactory(socio=socio, marca=a)
    asociacion_b = AsociacionFactory(socio=socio, marca=b)
    contrato_publicar_version(
        asociacion_id=asociacion_a.id, texto="A's terms", por=None, origen="t"
    )
    comision_aprobada(socio, "70.00", marca=a, asociacion=asociacion_a)
    comision_aprobada(socio, "80.00", marca=b, asociacion=asociacion_b)
    return a, b


def test_la_retencion_de_una_marca_no_bloquea_a_otra(socio, dos_marcas, settings):
    a, b = dos_marcas
    pagos = {p.marca_id: p for p in pagos_generar()}
    assert pagos[a.id].estado == EstadoPago.RETENIDO
    assert pagos[b.id].estado == EstadoPago.PENDIENTE
    assert (pagos[a.id].monto, pagos[b.id].monto) == (Decimal("70.00"), Decimal("80.00"))
    with SimuladorPagos(secreto=SECRETO) as simulador:
        settings.PAGOS_URL, settings.PAGOS_SECRETO = simulador.url, SECRETO
        conteo = pagos_entregar_pendientes()
        assert conteo.por_resultado == {"enviado": 1}
        assert list(simulador.aceptados) == [str(pagos[b.id].id)]
    assert Pago.objects.get(id=pagos[a.id].id).estado == EstadoPago.RETENIDO
    assert Pago.objects.get(id=pagos[b.id].id).estado == EstadoPago.ENVIADO


def test_la_revision_abierta_con_una_marca_no_retiene_la_otra(socio, marca):
    perfil_completo(socio)
    otra = MarcaFactory()
    ComisionFactory(socio=socio, estado=EstadoCredito.EN_REVISION, evento__publicacion__marca=otra)
    comision_aprobada(socio, "60.00", marca=marca)
    comision_aprobada(socio, "60.00", marca=otra)
    estados = {p.marca_id: p.estado for p in pagos_generar()}
    assert estados == {marca.id: EstadoPago.PENDIENTE, otra.id: EstadoPago.RETENIDO}


def test_el_clawback_es_de_la_marca_del_credito(socio, marca):
    perfil_completo(socio)
    otra = MarcaFactory()
    pagada = comision_aprobada(socio, "60.00", marca=marca)
    (primero,) = pagos_generar()
    Pago.objects.filter(id=primero.id).update(estado=EstadoPago.ENVIADO)
    pago_confirmar(pago_id=primero.id, estado="pagado", monto="60.00", moneda="EUR")
    credito_revertir(credito=pagada, motivo="refund")
    clawback = Ajuste.objects.get()
    assert clawback.marca_id == marca.id

    # New money with the other brand is paid in full: the clawback is not its programme's.
    comision_aprobada(socio, "55.00", marca=otra)
    (de_otra,) = pagos_generar()
    assert (de_otra.marca_id, de_otra.monto) == (otra.id, Decimal("55.00"))
    clawback.refresh_from_db()
    assert clawback.pago_id is None
    # The next Pago of the first brand deducts it.
    comision_aprobada(socio, "100.00", marca=marca)
    (siguiente,) = pagos_generar()
    assert (siguiente.marca_id, siguiente.monto) == (marca.id, Decimal("40.00"))
    assert {i["tipo"] for i in pago_items(pago=siguiente)} == {"comision", "ajuste"}


def test_dinero_sin_marca_va_a_un_pago_sin_marca(socio):
    perfil_completo(socio)
    sin_marca = ComisionFactory(
        socio=socio,
        estado=EstadoCredito.APROBADA,
        monto=Decimal("60.00"),
        evento=EventoFactory(publicacion=None, marca=None, tipo="venta"),
    )
    (pago,) = pagos_generar()
    assert pago.marca_id is None
    sin_marca.refresh_from_db()
    assert sin_marca.pago_id == pago.id
    # A brandless Pago is held by a review with ANY brand.
    ComisionFactory(socio=socio, estado=EstadoCredito.EN_REVISION)
    ComisionFactory(
        socio=socio,
        estado=EstadoCredito.APROBADA,
        monto=Decimal("60.00"),
        evento=EventoFactory(publicacion=None, marca=None, tipo="venta"),
    )
    (otro,) = pagos_generar()
    assert otro.estado == EstadoPago.RETENIDO


def test_un_ajuste_escrito_sin_marca_la_toma_de_su_credito(socio, marca):
    """Safety net for code paths that write an Ajuste without a brand."""
    perfil_completo(socio)
    credito = ComisionFactory(
        socio=socio, estado=EstadoCredito.PAGADA, evento__publicacion__marca=marca
    )
    huerfano = Ajuste.objects.create(
        socio=socio, monto=Decimal("-5.00"), moneda="EUR", motivo="x", comision=credito
    )
    comision_aprobada(socio, "60.00", marca=marca)
    (pago,) = pagos_generar()
    huerfano.refresh_from_db()
    assert (huerfano.marca_id, huerfano.pago_id) == (marca.id, pago.id)
    assert pago.monto == Decimal("55.00")


def test_la_migracion_da_marca_a_los_ajustes_y_deja_los_pagos_legados(socio, marca):
    migracion = importlib.import_module(
        "comision_recompensa.migrations.0008_contratos_perfil_pago_controles_pagos_por_marca"
    )
    credito = ComisionFactory(socio=socio, evento__publicacion__marca=marca)
    legado = PagoFactory(socio=socio)
    con_credito = Ajuste.objects.create(
        socio=socio, monto=Decimal("-1"), moneda="EUR", motivo="c", comision=credito
    )
    suelto = Ajuste.objects.create(socio=socio, monto=Decimal("-1"), moneda="EUR", motivo="s")
    migracion._marca_de_ajustes(registro_apps, None)
    con_credito.refresh_from_db()
    suelto.refresh_from_db()
    legado.refresh_from_db()
    assert (con_credito.marca_id, suelto.marca_id, legado.marca_id) == (marca.id, None, None)
