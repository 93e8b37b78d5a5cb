"""The portal's pages cost a fixed number of queries, whatever the partner's volume: rollup
reads, keyset pages and aggregates bounded by date, never a COUNT(*) over the events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comision_recompensa.reportes.resumen_diario import resumen_refrescar
from comision_recompensa.tests.factories import ComisionFactory, PagoFactory, RecompensaFactory
from comision_recompensa.tests.portal.datos import socio_portal
from eventos_medios.models import TipoEvento
from eventos_medios.tests.factories import EventoFactory, MedioMarketingFactory, PublicacionFactory

# Days relative to today (the rollup never covers today): date-sensitive.
pytestmark = [pytest.mark.django_db, pytest.mark.reloj]


def _paginas(d):
    return {
        "resumen": reverse("portal:resumen"),
        "enlaces": reverse("portal:enlaces"),
        "comisiones": reverse("portal:creditos"),
        "recompensas_filtradas": reverse("portal:creditos")
        + f"?clase=recompensa&estado=pendiente&mes={timezone.now():%Y-%m}",
        "comision": reverse("portal:credito", args=["comision", d.comision.pk]),
        "pagos": reverse("portal:pagos"),
        "pago": reverse("portal:pago", args=[d.pago.pk]),
        "token": reverse("portal:token"),
        "ajustes": reverse("portal:preferencias"),
    }


def _consultas(client, rutas):
    cuentas, sql = {}, {}
    for nombre, ruta in rutas.items():
        with CaptureQueriesContext(connection) as capturadas:
            assert client.get(ruta).status_code == 200, ruta
        cuentas[nombre] = len(capturadas)
        sql[nombre] = [q["sql"] for q in capturadas.captured_queries]
    return cuentas, sql


def _mucho_mas(d, n: int = 40) -> None:
    """More of everything, beyond one page: publicaciones, clicks over many days, credits of
    both kinds and Pagos."""
    ahora = timezone.now()
    medio = MedioMarketingFactory(socio=d.socio)
    for i in range(n):
        pub = PublicacionFactory(medio=medio, marca=d.marca)
        cuando = ahora - dt.timedelta(days=i % 20, hours=3)
        for j in range(3):
            EventoFactory(publicacion=pub, ocurrido_en=cuando, visitante_id=f"v{i}-{j}")
        venta = EventoFactory(
            publicacion=pub,
            tipo=TipoEvento.VENTA,
            ocurrido_en=cuando,
            valor=Decimal("50.00"),
            moneda="EUR",
        )
        ComisionFactory(evento=venta, socio=d.socio, monto=Decimal("5.00"))
        lead = EventoFactory(publicacion=pub, tipo=TipoEvento.LEAD, ocurrido_en=cuando)
        RecompensaFactory(evento=lead, socio=d.socio, monto=Decimal("1.00"))
        PagoFactory(socio=d.socio)


def test_cada_pagina_hace_las_mismas_consultas_con_mas_datos(client):
    d = socio_portal()
    client.force_login(d.usuario)
    antes, _ = _consultas(client, _paginas(d))
    _mucho_mas(d)
    despues, sql = _consultas(client, _paginas(d))
    assert despues == antes
    assert max(despues.values()) <= 16
    todas = [q for lista in sql.values() for q in lista]
    assert not [q for q in todas if "COUNT(*)" in q.upper() and "eventos_medios_evento" in q]


def test_con_el_resumen_diario_los_eventos_solo_se_leen_acotados_por_fecha(client):
    """Once past days are summarised, the statement and the links read events only through a
    date bound (today's stretch, or before the first summarised day), never the whole history."""
    d = socio_portal(cuando=timezone.now() - dt.timedelta(days=3))
    _mucho_mas(d, n=10)
    resumen_refrescar()
    client.force_login(d.usuario)
    _, sql = _consultas(
        client, {"resumen": reverse("portal:resumen"), "enlaces": reverse("portal:enlaces")}
    )
    eventos = [q for lista in sql.values() for q in lista if 'FROM "eventos_medios_evento"' in q]
    assert eventos
    assert all('"ocurrido_en" >=' in q or '"ocurrido_en" <' in q for q in eventos), eventos
