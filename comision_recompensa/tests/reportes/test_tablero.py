"""The admin dashboard: staff see charts drawn from real aggregates; others are sent to log in."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from comision_recompensa.models import EstadoPago
from comision_recompensa.tests.factories import ComisionFactory, PagoFactory
from eventos_medios.models import TipoEvento
from eventos_medios.tests.factories import (
    EventoFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

# Date-sensitive: per-day charts over a range that ends today (make test-reloj).
pytestmark = [pytest.mark.django_db, pytest.mark.reloj]

URL = "/admin/tablero/"


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def navegador_staff(staff) -> Client:
    cliente = Client()
    cliente.force_login(staff)
    return cliente


@pytest.fixture
def actividad(db):
    ahora = timezone.now()
    socio = SocioFactory(nombre="<script>alert('socio')</script>")
    pub = PublicacionFactory(medio=MedioMarketingFactory(socio=socio), titulo="Reel de otoño")
    for _ in range(4):
        EventoFactory(publicacion=pub, ocurrido_en=ahora)
    EventoFactory(publicacion=pub, tipo=TipoEvento.LEAD, ocurrido_en=ahora)
    venta = EventoFactory(
        publicacion=pub,
        tipo=TipoEvento.VENTA,
        ocurrido_en=ahora,
        valor=Decimal("120.00"),
        moneda="EUR",
        recibido_en=ahora,
        atribuido_en=ahora + dt.timedelta(seconds=2),
    )
    ComisionFactory(evento=venta, monto=Decimal("12.00"))
    PagoFactory(socio=socio, estado=EstadoPago.FALLIDO)
    PagoFactory(socio=socio)
    return pub


def test_staff_ve_graficos_svg(actividad, navegador_staff):
    r = navegador_staff.get(URL)
    assert r.status_code == 200
    html = r.content.decode()
    # Seven pygal charts, inline.
    assert html.count("<svg") >= 7
    for id_grafico in (
        "grafico-eventos",
        "grafico-embudo",
        "grafico-creditos",
        "grafico-top-socios",
        "grafico-top-publicaciones",
        "grafico-pagos",
        "grafico-latencia",
    ):
        assert f'id="{id_grafico}"' in html
    # Numbers from the database: 4 clicks, 1 lead, 1 venta; 1 failed and 1 pending pago.
    kpis = r.context["kpis"]
    assert ("Clicks", "4", "") in kpis
    assert ("Ventas", "1", "") in kpis
    assert ("Pagos fallidos", "1", "alerta") in kpis
    assert ("Pagos pendientes", "1", "") in kpis
    assert r.context["dinero"] == [("EUR", "12.00")]
    assert "Reel de otoño" in html
    assert "click→lead 25.0 %" in html
    # No script is fetched from anywhere: the page works offline.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "kozea.github.io" not in html


def test_nombres_se_escapan_en_el_svg(actividad, navegador_staff):
    html = navegador_staff.get(URL).content.decode()
    assert "<script>alert('socio')</script>" not in html
    assert "&lt;script&gt;" in html


def test_rango_de_fechas(actividad, navegador_staff):
    manana = timezone.now().date() + dt.timedelta(days=1)
    r = navegador_staff.get(URL, {"desde": manana.isoformat(), "hasta": manana.isoformat()})
    assert r.status_code == 200
    assert r.context["datos"]["embudo"]["click"] == 0
    assert len(r.context["datos"]["dias"]) == 1

    r = navegador_staff.get(URL, {"desde": "2026-03-10", "hasta": "2026-03-01"})
    assert r.status_code == 200
    assert "Must be on or after desde." in r.content.decode()


def test_no_staff_redirigido_al_login(socio):
    cliente = Client()
    cliente.force_login(socio.usuario)
    r = cliente.get(URL)
    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]
    r = Client().get(URL)
    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]


def test_indice_del_admin_enlaza_el_tablero(navegador_staff):
    html = navegador_staff.get("/admin/").content.decode()
    assert 'href="/admin/tablero/"' in html
