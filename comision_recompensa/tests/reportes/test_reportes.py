"""Reports against a hand-counted fixture, including access scoping.

The fixture (`mundo`), every number below counted by hand:

    marca A: P1 (socio S1), P3 (socio S2)        marca B: P2 (socio S1)
    D1 = Mon 2026-03-02, D2 = Tue 03-03, D3 = Tue 03-10 (next ISO week), D4 = Wed 04-01

    P1: click D1 v1 · click D1 v1 · click D1 ip X · click D2 anonymous · click D2 v9 DISCARDED
        lead D2 · venta D3 → Comision S1 10.00 EUR pendiente
    P2: click D3 v1 · venta D4 → Comision S1 5.00 EUR aprobada
        registro D4 → Comision S1 2.00 EUR revertida
    P3: click D1 v2 · click D1 v3 · lead D3 → Recompensa S2 3.00 EUR pagada

Unique clicks are distinct visitors per (socio, marca, UTC day), added up (see the selectors'
docstring). Every report test runs twice (`rollup` fixture): straight from the events, and
with every past day summarised into the daily rollup, which must give the same numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alpespartners.alcance import Alcance
from comision_recompensa.models import EstadoCredito
from comision_recompensa.reportes import consultas as consultas_reportes
from comision_recompensa.reportes import selectors as reportes
from comision_recompensa.reportes.resumen_diario import resumen_refrescar
from comision_recompensa.tests.factories import ComisionFactory, RecompensaFactory
from eventos_medios.models import EstadoAtribucion, MotivoDescarte, TipoEvento, TipoSocio
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

UTC = dt.UTC
D1 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
D2 = dt.datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
D3 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
D4 = dt.datetime(2026, 4, 1, 13, 0, tzinfo=UTC)
# "Today" for these reports, pinned a week after the last event: what is live and what is
# summarised never depends on the day the suite runs, nor does the rollup's length.
HOY = dt.datetime(2026, 4, 8, 12, 0, tzinfo=UTC)

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(HOY, tick=False)]


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    """Users are created per test: a fast password hasher keeps the suite quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


RESUMEN = "/api/v1/reportes/resumen/"
SERIE = "/api/v1/reportes/serie/"
PUBLICACIONES = "/api/v1/reportes/publicaciones/"


def _click(pub, cuando, *, visitante="", ip="", descartado=False):
    extra = {}
    if descartado:
        extra = {
            "estado_atribucion": EstadoAtribucion.DESCARTADO,
            "motivo_descarte": MotivoDescarte.BOT,
        }
    return EventoFactory(
        publicacion=pub,
        tipo=TipoEvento.CLICK,
        ocurrido_en=cuando,
        visitante_id=visitante,
        ip_hash=ip,
        **extra,
    )


def _conversion(pub, tipo, cuando, valor=None):
    return EventoFactory(
        publicacion=pub,
        tipo=tipo,
        ocurrido_en=cuando,
        valor=valor,
        moneda="EUR" if valor is not None else "",
        estado_atribucion=EstadoAtribucion.ATRIBUIDO,
    )


@pytest.fixture(params=["vivo", "rollup"])
def mundo(request, marca, usuario_marca, socio):
    """marca = A (its user is `usuario_marca`), socio = S1 (with its own user). Built twice:
    read live, and with every (past) day of it summarised into the rollup."""
    marca_b = MarcaFactory(nombre="Marca B")
    s2 = SocioFactory(nombre="Socio Dos", tipo=TipoSocio.INFLUENCER)
    p1 = PublicacionFactory(medio=MedioMarketingFactory(socio=socio), marca=marca, titulo="P1")
    p2 = PublicacionFactory(medio=MedioMarketingFactory(socio=socio), marca=marca_b, titulo="P2")
    p3 = PublicacionFactory(medio=MedioMarketingFactory(socio=s2), marca=marca, titulo="P3")

    _click(p1, D1, visitante="v1")
    _click(p1, D1 + dt.timedelta(minutes=5), visitante="v1")
    _click(p1, D1 + dt.timedelta(minutes=9), ip="ipX")
    _click(p1, D2)
    _click(p1, D2, visitante="v9", descartado=True)
    _conversion(p1, TipoEvento.LEAD, D2)
    venta_p1 = _conversion(p1, TipoEvento.VENTA, D3, Decimal("100.00"))
    ComisionFactory(evento=venta_p1, monto=Decimal("10.00"))

    _click(p2, D3, visitante="v1")
    venta_p2 = _conversion(p2, TipoEvento.VENTA, D4, Decimal("50.00"))
    ComisionFactory(evento=venta_p2, monto=Decimal("5.00"), estado=EstadoCredito.APROBADA)
    registro_p2 = _conversion(p2, TipoEvento.REGISTRO, D4)
    ComisionFactory(evento=registro_p2, monto=Decimal("2.00"), estado=EstadoCredito.REVERTIDA)

    _click(p3, D1, visitante="v2")
    _click(p3, D1, visitante="v3")
    lead_p3 = _conversion(p3, TipoEvento.LEAD, D3)
    RecompensaFactory(evento=lead_p3, monto=Decimal("3.00"), estado=EstadoCredito.PAGADA)

    if request.param == "rollup":
        assert resumen_refrescar()["dias"] > 0
    return SimpleNamespace(a=marca, b=marca_b, s1=socio, s2=s2, p1=p1, p2=p2, p3=p3)


def _eventos(**n):
    base = dict.fromkeys(TipoEvento.values, 0)
    base.update(n)
    return base


def _estados(**n):
    base = dict.fromkeys(EstadoCredito.values, n.pop("_cero", 0))
    base.update(n)
    return base


STAFF = Alcance(es_staff=True, marca_ids=frozenset(), socio_id=None)


# --- resumen --------------------------------------------------------------------------------------


def test_resumen_staff_cuenta_todo(mundo, cliente_staff):
    r = cliente_staff.get(RESUMEN)
    assert r.status_code == 200, r.content
    d = r.json()
    assert d["eventos"] == _eventos(click=7, lead=2, venta=2, registro=1)
    assert d["eventos_total"] == 12
    assert d["descartados"] == 1
    # Unique per (socio, marca, day): D1 S1/A v1, ipX; D1 S2/A v2, v3; D2 S1/A the anonymous
    # click; D3 S1/B v1 again (another day and marca). Before per-day uniques this was 5.
    assert d["clicks_unicos"] == 6
    assert d["conversiones"] == 5
    assert d["tasa_conversion"] == round(5 / 7, 4)
    assert d["comisiones"]["cantidad"] == _estados(pendiente=1, aprobada=1, revertida=1)
    assert d["comisiones"]["monto"] == {
        "EUR": _estados(_cero="0.00", pendiente="10.00", aprobada="5.00", revertida="2.00")
    }
    assert d["recompensas"]["cantidad"] == _estados(pagada=1)
    assert d["dinero"] == {
        "EUR": {
            "pendiente": "10.00",
            "aprobada": "5.00",
            "pagada": "3.00",
            "revertida": "2.00",
            "en_revision": "0.00",
        }
    }


def test_resumen_socio_es_su_estado_de_cuenta(mundo, cliente_socio):
    d = cliente_socio.get(RESUMEN).json()
    assert d["eventos"] == _eventos(click=5, lead=1, venta=2, registro=1)
    assert d["descartados"] == 1
    # D1: v1, ipX; D2: one anonymous click; D3: v1 on P2 (another day: counts again; it
    # counted once, 3 in all, before uniques were per day).
    assert d["clicks_unicos"] == 4
    assert d["conversiones"] == 4
    assert d["comisiones"]["cantidad"] == _estados(pendiente=1, aprobada=1, revertida=1)
    assert d["recompensas"]["cantidad"] == _estados()
    assert d["recompensas"]["monto"] == {}
    assert d["dinero"]["EUR"]["pagada"] == "0.00"


def test_resumen_marca_solo_sus_marcas(mundo, cliente_marca):
    d = cliente_marca.get(RESUMEN).json()
    assert d["eventos"] == _eventos(click=6, lead=2, venta=1)
    assert d["clicks_unicos"] == 5
    assert d["conversiones"] == 3
    assert d["comisiones"]["cantidad"] == _estados(pendiente=1)
    assert d["recompensas"]["cantidad"] == _estados(pagada=1)
    assert d["dinero"] == {
        "EUR": {
            "pendiente": "10.00",
            "aprobada": "0.00",
            "pagada": "3.00",
            "revertida": "0.00",
            "en_revision": "0.00",
        }
    }


def test_resumen_filtra_por_periodo_marca_y_socio(mundo, cliente_staff):
    # A bare `hasta` date includes that whole day: only D1.
    d = cliente_staff.get(RESUMEN, {"desde": "2026-03-02", "hasta": "2026-03-02"}).json()
    assert d["eventos"] == _eventos(click=5)
    assert d["clicks_unicos"] == 4
    assert d["filtros"]["desde"].startswith("2026-03-02T00:00:00")
    assert d["filtros"]["hasta"].startswith("2026-03-03T00:00:00")

    d = cliente_staff.get(RESUMEN, {"marca": str(mundo.b.id)}).json()
    assert d["eventos"] == _eventos(click=1, venta=1, registro=1)
    assert d["dinero"]["EUR"]["aprobada"] == "5.00"

    d = cliente_staff.get(RESUMEN, {"socio": str(mundo.s2.id)}).json()
    assert d["eventos"] == _eventos(click=2, lead=1)
    assert d["recompensas"]["monto"]["EUR"]["pagada"] == "3.00"
    assert d["comisiones"]["cantidad"] == _estados()

    # Credits follow their event's date: the April sales are outside March.
    d = cliente_staff.get(
        RESUMEN, {"desde": "2026-03-01T00:00:00Z", "hasta": "2026-04-01T00:00:00Z"}
    ).json()
    assert d["comisiones"]["cantidad"] == _estados(pendiente=1)


@pytest.mark.parametrize(
    ("params", "campo"),
    [
        ({"desde": "ayer"}, "desde"),
        ({"hasta": "2026-13-01"}, "hasta"),
        ({"desde": "2026-03-05", "hasta": "2026-03-01"}, "hasta"),
        ({"marca": "no-es-uuid"}, "marca"),
        ({"socio": "00000000-0000-0000-0000-000000000000"}, "socio"),
    ],
)
def test_resumen_filtros_invalidos_nombran_el_campo(mundo, cliente_staff, params, campo):
    r = cliente_staff.get(RESUMEN, params)
    assert r.status_code == 400
    assert campo in r.json()["errors"]


def test_socio_no_puede_pedir_otro_socio_ni_otra_marca(mundo, cliente_socio):
    r = cliente_socio.get(RESUMEN, {"socio": str(mundo.s2.id)})
    assert r.status_code == 400
    assert "socio" in r.json()["errors"]
    # A marca the partner publishes for is visible; filtering by it narrows its own data.
    d = cliente_socio.get(RESUMEN, {"marca": str(mundo.b.id)}).json()
    assert d["eventos"] == _eventos(click=1, venta=1, registro=1)


def test_marca_no_ve_otra_marca(mundo, cliente_marca):
    r = cliente_marca.get(RESUMEN, {"marca": str(mundo.b.id)})
    assert r.status_code == 400
    assert "marca" in r.json()["errors"]


def test_anonimo_401(cliente_anonimo):
    assert cliente_anonimo.get(RESUMEN).status_code in (401, 403)


def test_usuario_sin_vinculo_ve_ceros(mundo, db):
    from conftest import cliente_para
    from eventos_medios.tests.factories import UsuarioFactory

    d = cliente_para(UsuarioFactory()).get(RESUMEN).json()
    assert d["eventos_total"] == 0
    assert d["clicks_unicos"] == 0
    assert d["dinero"] == {}


# --- serie ----------------------------------------------------------------------------------------


def test_serie_semanal_rellena_periodos(mundo, cliente_staff):
    r = cliente_staff.get(
        SERIE, {"intervalo": "semana", "desde": "2026-03-02", "hasta": "2026-04-05"}
    )
    assert r.status_code == 200, r.content
    d = r.json()
    assert d["intervalo"] == "semana"
    puntos = {p["periodo"]: p for p in d["resultados"]}
    assert list(puntos) == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"]
    assert puntos["2026-03-02"]["eventos"] == _eventos(click=6, lead=1)
    assert puntos["2026-03-02"]["ganancias"] == {}
    assert puntos["2026-03-09"]["eventos"] == _eventos(click=1, lead=1, venta=1)
    assert puntos["2026-03-09"]["conversiones"] == 2
    assert puntos["2026-03-09"]["ganancias"] == {"EUR": "13.00"}
    assert puntos["2026-03-16"]["eventos"] == _eventos()
    # The reverted registro earns nothing.
    assert puntos["2026-03-30"]["eventos"] == _eventos(venta=1, registro=1)
    assert puntos["2026-03-30"]["ganancias"] == {"EUR": "5.00"}


def test_serie_mensual_sin_rango_solo_periodos_con_datos(mundo, cliente_staff):
    d = cliente_staff.get(SERIE, {"intervalo": "mes"}).json()
    assert [p["periodo"] for p in d["resultados"]] == ["2026-03-01", "2026-04-01"]
    marzo, abril = d["resultados"]
    assert marzo["eventos"] == _eventos(click=7, lead=2, venta=1)
    assert marzo["ganancias"] == {"EUR": "13.00"}
    assert abril["eventos"] == _eventos(venta=1, registro=1)


def test_serie_diaria_por_defecto_y_con_alcance(mundo, cliente_socio):
    d = cliente_socio.get(SERIE, {"desde": "2026-03-02", "hasta": "2026-03-03"}).json()
    assert d["intervalo"] == "dia"
    assert [p["periodo"] for p in d["resultados"]] == ["2026-03-02", "2026-03-03"]
    # Only S1's clicks: three on D1 on P1 (P3's belong to S2); D2: one (the bot is discarded).
    assert d["resultados"][0]["eventos"]["click"] == 3
    assert d["resultados"][1]["eventos"] == _eventos(click=1, lead=1)


def test_serie_intervalo_invalido(cliente_staff):
    r = cliente_staff.get(SERIE, {"intervalo": "anio"})
    assert r.status_code == 400
    assert "intervalo" in r.json()["errors"]


# --- rendimiento por publicacion ---------------------------------------------------------


def test_publicaciones_del_socio(mundo, cliente_socio):
    r = cliente_socio.get(PUBLICACIONES)
    assert r.status_code == 200, r.content
    d = r.json()
    assert d["count"] == 2
    filas = {f["titulo"]: f for f in d["results"]}
    assert set(filas) == {"P1", "P2"}
    assert filas["P1"]["clicks"] == 4
    assert filas["P1"]["clicks_unicos"] == 3
    assert filas["P1"]["conversiones"] == 2
    assert filas["P1"]["ganancias"] == {"EUR": "10.00"}
    assert filas["P1"]["codigo"] == mundo.p1.codigo
    assert filas["P2"]["clicks"] == 1
    assert filas["P2"]["clicks_unicos"] == 1
    assert filas["P2"]["conversiones"] == 2
    assert filas["P2"]["ganancias"] == {"EUR": "5.00"}


def test_publicaciones_de_la_marca_y_periodo(mundo, cliente_marca):
    d = cliente_marca.get(PUBLICACIONES).json()
    filas = {f["titulo"]: f for f in d["results"]}
    assert set(filas) == {"P1", "P3"}
    assert filas["P3"]["clicks"] == 2
    assert filas["P3"]["clicks_unicos"] == 2
    assert filas["P3"]["conversiones"] == 1
    assert filas["P3"]["ganancias"] == {"EUR": "3.00"}
    assert filas["P3"]["socio_id"] == str(mundo.s2.id)

    d = cliente_marca.get(PUBLICACIONES, {"desde": "2026-03-03", "hasta": "2026-03-03"}).json()
    filas = {f["titulo"]: f for f in d["results"]}
    assert (filas["P1"]["clicks"], filas["P1"]["conversiones"]) == (1, 1)
    assert filas["P3"]["clicks"] == 0
    assert filas["P1"]["ganancias"] == {}


def test_publicaciones_paginadas(mundo, cliente_staff):
    d = cliente_staff.get(PUBLICACIONES, {"page_size": 2}).json()
    assert d["count"] == 3
    assert len(d["results"]) == 2
    assert d["next"]


# --- selectors directly ----------------------------------------------------------------


def test_tablero_agrega_el_rango(mundo):
    datos = reportes.tablero(
        alcance=STAFF,
        desde=dt.datetime(2026, 3, 1, tzinfo=UTC),
        hasta=dt.datetime(2026, 4, 2, tzinfo=UTC),
    )
    assert len(datos["dias"]) == 32
    assert datos["eventos_por_dia"]["click"][1] == 5  # D1 = 2026-03-02
    assert sum(datos["eventos_por_dia"]["click"]) == 7
    assert datos["embudo"]["click"] == 7
    assert datos["embudo"]["lead"] == 2
    assert datos["embudo"]["venta"] == 2
    assert datos["embudo"]["tasa_click_lead"] == round(2 / 7, 4)
    assert datos["embudo"]["tasa_lead_venta"] == 1.0
    assert [(f["nombre"], f["monto"]) for f in datos["top_socios"]] == [
        (mundo.s1.nombre, Decimal("15.00")),
        ("Socio Dos", Decimal("3.00")),
    ]
    assert [f["etiqueta"] for f in datos["top_publicaciones"]] == ["P1", "P2", "P3"]
    assert datos["pagos"] == {
        "pendiente": 0,
        "retenido": 0,
        "enviado": 0,
        "pagado": 0,
        "fallido": 0,
    }


def test_latencia_de_atribucion_percentiles(db):
    recibido = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for segundos in (1, 2, 3, 4, 10):
        EventoFactory(
            tipo=TipoEvento.VENTA,
            ocurrido_en=recibido,
            recibido_en=recibido,
            atribuido_en=recibido + dt.timedelta(seconds=segundos),
            estado_atribucion=EstadoAtribucion.ATRIBUIDO,
        )
    EventoFactory(tipo=TipoEvento.LEAD, ocurrido_en=recibido, recibido_en=recibido)  # pending
    datos = reportes.tablero(
        alcance=STAFF,
        desde=dt.datetime(2026, 3, 1, tzinfo=UTC),
        hasta=dt.datetime(2026, 3, 3, tzinfo=UTC),
    )
    lat = datos["latencia_atribucion"]
    assert lat["muestras"] == 5
    # percentile_cont: p50 = 3; p95 = 4 + (10 − 4) × 0.8.
    assert lat["p50_s"] == pytest.approx(3.0)
    assert lat["p95_s"] == pytest.approx(8.8)


def test_resumen_de_socio_lee_el_rollup_y_solo_hoy_en_vivo(mundo, socio):
    """With the past summarised, a partner's statement reads the rollup and touches the events
    table only for today (figure B6: no scan of a million events)."""
    alcance = Alcance(es_staff=False, marca_ids=frozenset(), socio_id=mundo.s1.id)
    hoy = consultas_reportes.inicio_dia(HOY.date())
    resumen_refrescar()
    with CaptureQueriesContext(connection) as consultas:
        datos = reportes.totales(alcance=alcance)
    assert datos["eventos"] == _eventos(click=5, lead=1, venta=2, registro=1)
    sobre_eventos = [
        q["sql"] for q in consultas.captured_queries if '"eventos_medios_evento"' in q["sql"]
    ]
    assert sobre_eventos, "today is read live"
    # Live reads are bounded to the stretches outside the summarised days: before the first
    # one (empty) and from today on — never over them.
    assert any('"eventos_medios_evento"."ocurrido_en" >=' in sql for sql in sobre_eventos)
    for sql in sobre_eventos:
        assert '"eventos_medios_evento"."ocurrido_en"' in sql.split(" WHERE ", 1)[1], sql
    assert any("resumendiario" in q["sql"] for q in consultas.captured_queries)
    assert hoy.date() > D4.date()
