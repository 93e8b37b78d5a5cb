"""The statement and the link counts: the same numbers from the live events and from the daily
rollup, drawn as an accessible chart and listed in a table."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from alpespartners.alcance import alcance_de
from comision_recompensa.models import EstadoCredito, ResumenPublicacion
from comision_recompensa.portal.vistas.resumen import periodo_anual
from comision_recompensa.reportes.resumen_diario import resumen_refrescar
from comision_recompensa.reportes.selectors import clicks_publicaciones, estado_cuenta_mensual
from comision_recompensa.tests.factories import ComisionFactory
from comision_recompensa.tests.portal.datos import socio_portal
from eventos_medios.models import EstadoAtribucion, MotivoDescarte, TipoEvento
from eventos_medios.tests.factories import EventoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.reloj]


def _hace(dias: int, horas: int = 3) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=dias, hours=horas)


@pytest.fixture
def datos():
    d = socio_portal(cuando=_hace(2))
    for dias, estado, monto in (
        (5, EstadoCredito.APROBADA, "7.25"),
        (40, EstadoCredito.PAGADA, "3.00"),
    ):
        venta = EventoFactory(
            publicacion=d.publicacion,
            tipo=TipoEvento.VENTA,
            ocurrido_en=_hace(dias),
            valor=Decimal("70"),
            moneda="EUR",
        )
        ComisionFactory(evento=venta, socio=d.socio, monto=Decimal(monto), estado=estado)
    for dias, visitante in ((1, "x"), (1, "x"), (9, "y"), (0, "z")):
        EventoFactory(
            publicacion=d.publicacion, ocurrido_en=_hace(dias, horas=0), visitante_id=visitante
        )
    EventoFactory(
        publicacion=d.publicacion,
        ocurrido_en=_hace(1),
        estado_atribucion=EstadoAtribucion.DESCARTADO,
        motivo_descarte=MotivoDescarte.BOT,
    )
    return d


def _alcance(d):
    return dataclasses.replace(alcance_de(d.usuario), marca_ids=frozenset())


def test_el_resumen_diario_da_las_mismas_cifras_que_los_eventos(datos):
    alcance = _alcance(datos)
    desde, hasta = periodo_anual(timezone.now())
    vivo = estado_cuenta_mensual(alcance=alcance, socio_id=datos.socio.pk, desde=desde, hasta=hasta)
    clicks_vivo = clicks_publicaciones(alcance=alcance, publicacion_ids=[datos.publicacion.pk])
    resumen_refrescar()
    assert ResumenPublicacion.objects.filter(publicacion=datos.publicacion).exists()
    assert (
        estado_cuenta_mensual(alcance=alcance, socio_id=datos.socio.pk, desde=desde, hasta=hasta)
        == vivo
    )
    assert (
        clicks_publicaciones(alcance=alcance, publicacion_ids=[datos.publicacion.pk]) == clicks_vivo
    )
    # socio_portal's two clicks, and four more (one discarded bot click is not counted)
    assert clicks_vivo[datos.publicacion.pk]["clicks"] == 6
    total = {
        e: sum(m["monto"][e] for m in vivo["EUR"]) for e in ("pendiente", "aprobada", "pagada")
    }
    assert total == {
        "pendiente": Decimal("2.00"),
        "aprobada": Decimal("7.25"),
        "pagada": Decimal("9.00"),
    }


def test_otro_socio_no_suma_en_mis_clicks(datos):
    otro = socio_portal(nombre="Otra", marca=datos.marca)
    clicks = clicks_publicaciones(alcance=_alcance(otro), publicacion_ids=[datos.publicacion.pk])
    assert clicks == {}


def test_el_grafico_es_accesible_y_las_cifras_estan_en_la_tabla(client, datos):
    client.force_login(datos.usuario)
    html = client.get(reverse("portal:resumen")).content.decode()
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg is not None
    etiqueta = svg.group(0)
    assert 'role="img"' in etiqueta and "<title id=" in etiqueta and "<desc id=" in etiqueta
    assert 'aria-labelledby="grafico-EUR-titulo grafico-EUR-desc"' in etiqueta
    assert "7,25" in re.search(r"<desc[^>]*>(.*?)</desc>", etiqueta, re.S).group(1)
    assert not re.search(r'(x|y|width|height)="\d+,\d', etiqueta)  # numbers never localised
    tabla = html[html.index("<table") :]
    assert "<caption>" in tabla and 'scope="col"' in tabla and 'scope="row"' in tabla
    assert "7,25" in tabla and "3,00" in tabla
    assert "9,00" in html[: html.index("<table")]  # the year's paid total


def test_los_enlaces_muestran_los_clicks_y_un_campo_para_copiar(client, datos):
    client.force_login(datos.usuario)
    html = client.get(reverse("portal:enlaces")).content.decode()
    assert f'value="http://testserver/t/{datos.publicacion.codigo}"' in html
    assert f'<label for="enlace-{datos.publicacion.codigo}"' in html
    assert "readonly" in html and "hidden data-copiar" in html  # the button needs JavaScript
    celdas = re.findall(r'<td class="numero">(\d+)</td>', html)
    assert celdas == ["6", "5", "6"]  # 30 days, unique in 30 days, total
