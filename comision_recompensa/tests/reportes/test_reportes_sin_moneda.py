"""Reports and credits without a currency (zero-amount credits of events no rule paid for):
they are counted as credits but never show up as money under an empty currency key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from alpespartners.alcance import Alcance
from comision_recompensa.models import EstadoCredito
from comision_recompensa.reportes import selectors as reportes
from comision_recompensa.tests.factories import ComisionFactory, RecompensaFactory
from eventos_medios.models import EstadoAtribucion, TipoEvento
from eventos_medios.tests.factories import EventoFactory, PublicacionFactory

pytestmark = pytest.mark.django_db

STAFF = Alcance(es_staff=True, marca_ids=frozenset(), socio_id=None)
CUANDO = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
DESDE = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HASTA = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)


@pytest.fixture
def creditos():
    pub = PublicacionFactory()

    def evento(tipo):
        return EventoFactory(
            publicacion=pub,
            tipo=tipo,
            ocurrido_en=CUANDO,
            estado_atribucion=EstadoAtribucion.ATRIBUIDO,
        )

    ComisionFactory(evento=evento(TipoEvento.VENTA), monto=Decimal("10.00"))
    # Events no rule paid for: zero-amount credits without a currency.
    ComisionFactory(evento=evento(TipoEvento.LEAD), monto=Decimal("0.00"), moneda="")
    RecompensaFactory(
        evento=evento(TipoEvento.REGISTRO),
        monto=Decimal("0.00"),
        moneda="",
        estado=EstadoCredito.APROBADA,
    )
    return pub


def test_resumen_cuenta_los_creditos_sin_moneda_pero_no_como_dinero(creditos):
    datos = reportes.totales(alcance=STAFF)

    assert datos["comisiones"]["cantidad"][EstadoCredito.PENDIENTE] == 2
    assert datos["recompensas"]["cantidad"][EstadoCredito.APROBADA] == 1
    assert set(datos["comisiones"]["monto"]) == {"EUR"}
    assert datos["comisiones"]["monto"]["EUR"][EstadoCredito.PENDIENTE] == Decimal("10.00")
    assert datos["recompensas"]["monto"] == {}
    assert "" not in datos["dinero"] and set(datos["dinero"]) == {"EUR"}


def test_serie_publicaciones_y_tablero_sin_moneda_vacia(creditos):
    puntos = reportes.serie(alcance=STAFF, intervalo="dia", desde=DESDE, hasta=HASTA)
    assert all("" not in p["ganancias"] for p in puntos)
    assert sum((p["ganancias"].get("EUR", Decimal(0)) for p in puntos), Decimal(0)) == Decimal(
        "10.00"
    )

    (fila,) = reportes.rendimiento_publicaciones(alcance=STAFF, publicaciones=[creditos])
    assert fila["ganancias"] == {"EUR": Decimal("10.00")}

    tablero = reportes.tablero(alcance=STAFF, desde=DESDE, hasta=HASTA)
    assert {f["moneda"] for f in tablero["top_socios"]} == {"EUR"}
    assert {f["moneda"] for f in tablero["top_publicaciones"]} == {"EUR"}


def test_resumen_por_api_sin_clave_vacia(creditos, cliente_staff):
    d = cliente_staff.get("/api/v1/reportes/resumen/").json()
    assert d["comisiones"]["cantidad"]["pendiente"] == 2
    assert "" not in d["comisiones"]["monto"] and "" not in d["dinero"]
