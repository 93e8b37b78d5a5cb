"""`detalle_atribucion` has one shape (`detalle.DetalleAtribucion`, version 1), written by the
engine and by the seed's legacy endpoint through the same builder."""

from __future__ import annotations

from decimal import Decimal
from typing import get_type_hints

import pytest

from comision_recompensa.atribucion import detalle
from comision_recompensa.atribucion.motor import calcular_atribucion
from comision_recompensa.legacy.services import comision_legado_registrar
from comision_recompensa.models import Comision
from comision_recompensa.tests.atribucion.test_atribucion import (
    click,
    conversion,
    socio_con_publicacion,
)
from eventos_medios.models import TipoEvento, TipoSocio
from eventos_medios.tests.factories import EventoFactory, MarcaFactory

pytestmark = pytest.mark.django_db

CLAVES = set(get_type_hints(detalle.DetalleAtribucion))
CLAVES_TOUCHPOINT = set(get_type_hints(detalle.TouchpointDetalle))


def _comprobar_forma(d: dict) -> None:
    assert set(d) == CLAVES
    assert d["version"] == detalle.VERSION
    assert set(d["evento"]) == set(get_type_hints(detalle.EventoDetalle))
    assert all(set(t) == CLAVES_TOUCHPOINT for t in d["touchpoints"])
    if d["asociacion"] is not None:
        assert set(d["asociacion"]) == set(get_type_hints(detalle.AsociacionDetalle))
    if d["regla"] is not None:
        assert set(d["regla"]) == set(get_type_hints(detalle.ReglaDetalle))
    assert set(d["calculo"]) <= set(get_type_hints(detalle.CalculoDetalle))
    assert d["nota"]


@pytest.mark.parametrize("modelo", ["ultimo_clic", "lineal"])
def test_el_motor_escribe_la_forma_tipada(modelo):
    marca = MarcaFactory(modelo_atribucion=modelo)
    _, pub_a, _ = socio_con_publicacion(marca, modalidad="porcentaje", valor=Decimal("10"))
    _, pub_b, _ = socio_con_publicacion(marca, modalidad="fijo", valor=Decimal("2"))
    click(pub_a, horas_antes=2)
    click(pub_b, horas_antes=1)
    resultado = calcular_atribucion(conversion(marca))
    assert resultado.creditos
    for credito in resultado.creditos:
        _comprobar_forma(dict(credito.detalle))
        assert credito.detalle["metodo"] == detalle.Metodo.VISITANTE_ID


def test_el_endpoint_legado_escribe_la_misma_forma():
    marca = MarcaFactory()
    _, pub, _ = socio_con_publicacion(marca, tipo=TipoSocio.AFILIADO)
    evento = EventoFactory(publicacion=pub, tipo=TipoEvento.LEAD)
    comision, creada = comision_legado_registrar(
        datos={"id_evento": str(evento.pk), "monto_comision": {"valor": 3}}
    )
    assert creada
    d = Comision.objects.get(pk=comision.pk).detalle_atribucion
    _comprobar_forma(d)
    assert d["metodo"] == detalle.Metodo.MANUAL_LEGADO and d["motivo"] == detalle.Motivo.MANUAL
    assert d["monto"] == "3.00" and d["credito"] == "1.000000" and d["touchpoints"] == []
