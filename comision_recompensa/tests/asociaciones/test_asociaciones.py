"""Agreements and their payment rules: validation names the field, nothing is half-written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from alpespartners.errors import ErrorValidacion
from comision_recompensa.asociaciones.selectors import asociacion_vigente
from comision_recompensa.asociaciones.services import asociacion_actualizar, asociacion_crear
from comision_recompensa.models import AsociacionEstrategica, ReglaPago
from comision_recompensa.tests.factories import AsociacionFactory, ComisionFactory, ReglaPagoFactory
from eventos_medios.tests.factories import MarcaFactory, SocioFactory

pytestmark = pytest.mark.django_db

D = dt.date


def _regla(**kwargs):
    datos = {"tipo_evento": "venta", "modalidad": "porcentaje", "valor": "10", "moneda": "eur"}
    datos.update(kwargs)
    return datos


def _crear(marca, socio, **kwargs):
    datos = {
        "marca": marca,
        "socio": socio,
        "tipo": "programa_afiliados",
        "vigencia_inicio": D(2026, 1, 1),
    }
    datos.update(kwargs)
    return asociacion_crear(**datos)


def test_crear_con_reglas_normalizadas():
    marca, socio = MarcaFactory(), SocioFactory()
    asociacion = _crear(
        marca,
        socio,
        dias_retencion=14,
        vigencia_fin=D(2026, 12, 31),
        reglas=[
            _regla(tope="50"),
            {"tipo_evento": "lead", "modalidad": "fijo", "valor": Decimal("2.5"), "moneda": "USD"},
        ],
    )
    assert asociacion.dias_retencion == 14
    reglas = {r.tipo_evento: r for r in asociacion.reglas.all()}
    assert reglas["venta"].valor == Decimal("10.00")
    assert reglas["venta"].moneda == "EUR"
    assert reglas["venta"].tope == Decimal("50.00")
    assert reglas["lead"].modalidad == "fijo"
    assert reglas["lead"].tope is None


@pytest.mark.parametrize(
    ("regla", "campo"),
    [
        (_regla(valor="-1"), "reglas[1].valor"),
        (_regla(valor="100.01"), "reglas[1].valor"),
        (_regla(valor="1.234"), "reglas[1].valor"),
        (_regla(valor="abc"), "reglas[1].valor"),
        (_regla(moneda="EURO"), "reglas[1].moneda"),
        (_regla(moneda="XYZ"), "reglas[1].moneda"),
        (_regla(tope="-5"), "reglas[1].tope"),
        (_regla(modalidad="mixta"), "reglas[1].modalidad"),
        (_regla(tipo_evento="compra"), "reglas[1].tipo_evento"),
        (_regla(tipo_evento="lead"), "reglas[1].tipo_evento"),  # duplicate of reglas[0]
    ],
)
def test_regla_invalida_nombra_el_campo_y_no_escribe_nada(regla, campo):
    marca, socio = MarcaFactory(), SocioFactory()
    primera = {"tipo_evento": "lead", "modalidad": "fijo", "valor": "1", "moneda": "EUR"}
    with pytest.raises(ErrorValidacion) as exc:
        _crear(marca, socio, reglas=[primera, regla])
    assert campo in exc.value.errores
    assert AsociacionEstrategica.objects.count() == 0
    assert ReglaPago.objects.count() == 0


def test_porcentaje_100_y_fijo_mayor_a_100_son_validos():
    asociacion = _crear(
        MarcaFactory(),
        SocioFactory(),
        reglas=[
            _regla(valor="100"),
            {"tipo_evento": "lead", "modalidad": "fijo", "valor": "250", "moneda": "EUR"},
        ],
    )
    assert asociacion.reglas.count() == 2


@pytest.mark.parametrize(
    ("datos", "campo"),
    [
        ({"vigencia_fin": D(2025, 12, 31)}, "vigencia_fin"),
        ({"dias_retencion": 366}, "dias_retencion"),
        ({"dias_retencion": -1}, "dias_retencion"),
        ({"tipo": "otro"}, "tipo"),
    ],
)
def test_terminos_invalidos(datos, campo):
    with pytest.raises(ErrorValidacion) as exc:
        _crear(MarcaFactory(), SocioFactory(), **datos)
    assert list(exc.value.errores) == [campo]


@pytest.mark.parametrize(
    ("existente", "nueva", "solapa"),
    [
        ((D(2026, 1, 1), None), (D(2027, 1, 1), None), True),  # open-ended covers the future
        ((D(2026, 1, 1), D(2026, 6, 30)), (D(2026, 6, 30), None), True),  # shares one day
        ((D(2026, 1, 1), D(2026, 6, 30)), (D(2026, 7, 1), None), False),
        ((D(2026, 3, 1), D(2026, 3, 31)), (D(2026, 1, 1), D(2026, 12, 31)), True),  # contains
        ((D(2026, 3, 1), None), (D(2026, 1, 1), D(2026, 2, 28)), False),  # ends before
        ((D(2026, 3, 1), None), (D(2026, 1, 1), D(2026, 3, 1)), True),
    ],
)
def test_solape_con_otra_asociacion_del_mismo_par(existente, nueva, solapa):
    marca, socio = MarcaFactory(), SocioFactory()
    AsociacionFactory(
        marca=marca, socio=socio, vigencia_inicio=existente[0], vigencia_fin=existente[1]
    )
    if solapa:
        with pytest.raises(ErrorValidacion) as exc:
            _crear(marca, socio, vigencia_inicio=nueva[0], vigencia_fin=nueva[1])
        assert "Overlaps" in exc.value.errores["vigencia_inicio"][0]
    else:
        _crear(marca, socio, vigencia_inicio=nueva[0], vigencia_fin=nueva[1])
        assert AsociacionEstrategica.objects.filter(marca=marca, socio=socio).count() == 2


def test_otro_socio_u_otra_marca_no_solapan():
    marca, socio = MarcaFactory(), SocioFactory()
    AsociacionFactory(marca=marca, socio=socio, vigencia_inicio=D(2026, 1, 1))
    _crear(marca, SocioFactory())
    _crear(MarcaFactory(), socio)
    assert AsociacionEstrategica.objects.count() == 3


def test_actualizar_terminos_y_reemplazar_reglas():
    asociacion = AsociacionFactory(vigencia_inicio=D(2026, 1, 1))
    venta = ReglaPagoFactory(asociacion=asociacion, tipo_evento="venta")
    ReglaPagoFactory(asociacion=asociacion, tipo_evento="lead", modalidad="fijo")
    credito = ComisionFactory(regla=venta, asociacion=asociacion)

    asociacion_actualizar(
        asociacion=asociacion,
        vigencia_fin=D(2026, 12, 31),
        dias_retencion=10,
        reglas=[
            _regla(valor="15"),
            {"tipo_evento": "registro", "modalidad": "fijo", "valor": "1", "moneda": "EUR"},
        ],
    )
    asociacion.refresh_from_db()
    assert (asociacion.vigencia_fin, asociacion.dias_retencion) == (D(2026, 12, 31), 10)
    reglas = {r.tipo_evento: r for r in asociacion.reglas.all()}
    assert set(reglas) == {"venta", "registro"}
    assert reglas["venta"].pk == venta.pk  # updated in place: credits keep their rule
    assert reglas["venta"].valor == Decimal("15.00")
    credito.refresh_from_db()
    assert credito.regla_id == venta.pk


def test_actualizar_sin_reglas_no_las_toca_y_puede_abrir_la_vigencia():
    asociacion = AsociacionFactory(vigencia_inicio=D(2026, 1, 1), vigencia_fin=D(2026, 6, 30))
    ReglaPagoFactory(asociacion=asociacion)
    asociacion_actualizar(asociacion=asociacion, vigencia_fin=None)
    asociacion.refresh_from_db()
    assert asociacion.vigencia_fin is None
    assert asociacion.reglas.count() == 1


def test_actualizar_no_puede_solapar_y_no_escribe_nada():
    marca, socio = MarcaFactory(), SocioFactory()
    primera = AsociacionFactory(
        marca=marca, socio=socio, vigencia_inicio=D(2026, 1, 1), vigencia_fin=D(2026, 6, 30)
    )
    ReglaPagoFactory(asociacion=primera, valor=Decimal("5.00"))
    AsociacionFactory(marca=marca, socio=socio, vigencia_inicio=D(2026, 7, 1))
    with pytest.raises(ErrorValidacion) as exc:
        asociacion_actualizar(
            asociacion=primera, vigencia_fin=D(2026, 7, 15), reglas=[_regla(valor="50")]
        )
    assert "vigencia_inicio" in exc.value.errores
    primera.refresh_from_db()
    assert primera.vigencia_fin == D(2026, 6, 30)
    assert primera.reglas.get().valor == Decimal("5.00")


def test_actualizar_no_se_solapa_consigo_misma():
    asociacion = AsociacionFactory(vigencia_inicio=D(2026, 1, 1))
    asociacion_actualizar(asociacion=asociacion, vigencia_inicio=D(2026, 2, 1))
    asociacion.refresh_from_db()
    assert asociacion.vigencia_inicio == D(2026, 2, 1)


def test_asociacion_vigente():
    marca, socio = MarcaFactory(), SocioFactory()
    vieja = AsociacionFactory(
        marca=marca, socio=socio, vigencia_inicio=D(2025, 1, 1), vigencia_fin=D(2025, 12, 31)
    )
    nueva = AsociacionFactory(marca=marca, socio=socio, vigencia_inicio=D(2026, 1, 1))
    assert asociacion_vigente(marca_id=marca.pk, socio_id=socio.pk, fecha=D(2025, 6, 1)) == vieja
    assert asociacion_vigente(marca_id=marca.pk, socio_id=socio.pk, fecha=D(2030, 1, 1)) == nueva
    assert asociacion_vigente(marca_id=marca.pk, socio_id=socio.pk, fecha=D(2024, 1, 1)) is None
