"""Bad input, systematically: schemathesis generates requests from the app's own OpenAPI
schema (`/api/v1/schema/`) for every operation and sends them in process through the WSGI app,
with a staff token and with a partner token.

Checks: no response is a server error (`not_a_server_error`) and every documented response
matches the schema (`response_schema_conformance`). The number of examples is bounded and the
generation is derandomized, so the run is deterministic and fast enough for CI.

When it fails, the report names the operation and gives a `curl` line that reproduces it.
"""

from __future__ import annotations

import os
import uuid
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from alpespartners.wsgi import application
from comision_recompensa.tests.factories import (
    AsociacionFactory,
    ComisionFactory,
    RecompensaFactory,
    ReglaPagoFactory,
)
from conftest import token_para
from eventos_medios.models import TipoSocio
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    StaffFactory,
    UsuarioFactory,
)

EJEMPLOS_POR_OPERACION = 6
CHECKS = [not_a_server_error, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

AJUSTES = settings(
    max_examples=EJEMPLOS_POR_OPERACION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    # Generated examples only: schemathesis' "coverage" phase (hooked to Hypothesis' explicit
    # phase) sends every boundary case of every parameter and takes minutes on two cores. Set
    # SCHEMATHESIS_COMPLETO=1 to run it too (before a release, or after changing the API).
    phases=[Phase.explicit, Phase.generate]
    if os.environ.get("SCHEMATHESIS_COMPLETO")
    else [Phase.generate],
)


@pytest.fixture(autouse=True)
def _sin_cerrar_la_conexion_entre_peticiones():
    """The WSGI app is called directly (not through Django's test client), so detach the
    per-request connection cleanup like the test client does: it would close the connection
    that holds the test's transaction (PostgreSQL)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db) -> dict[str, str]:
    """A staff user and a partner with some data of their own, so list and detail endpoints
    serialize real rows (empty lists would prove little about response conformance)."""
    staff = StaffFactory()
    socio = SocioFactory(tipo=TipoSocio.AFILIADO, usuario=UsuarioFactory())
    influencer = SocioFactory(tipo=TipoSocio.INFLUENCER)
    marca = MarcaFactory()
    marca.usuarios.add(UsuarioFactory())
    for s in (socio, influencer):
        ReglaPagoFactory(asociacion=AsociacionFactory(marca=marca, socio=s))
        publicacion = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=s))
        evento = EventoFactory(
            marca=marca,
            publicacion=publicacion,
            socio=s,
            tipo="venta",
            valor=Decimal("50.00"),
            moneda="EUR",
            estado_atribucion="atribuido",
        )
        fabrica = ComisionFactory if s is socio else RecompensaFactory
        fabrica(evento=evento, socio=s, detalle_atribucion={"modelo": "ultimo_clic"})
    return {
        "staff": token_para(staff),
        "socio": token_para(socio.usuario),
    }


@schema.parametrize()
@AJUSTES
def test_api_con_token_de_staff(case, tokens):
    case.call_and_validate(headers={"Authorization": f"Token {tokens['staff']}"}, checks=CHECKS)


@schema.parametrize()
@AJUSTES
def test_api_con_token_de_socio(case, tokens):
    case.call_and_validate(headers={"Authorization": f"Token {tokens['socio']}"}, checks=CHECKS)


# Regressions schemathesis found: datetimes whose UTC offset PostgreSQL cannot store (it accepts
# up to ±15:59; Python up to ±23:59), or that overflow when converted to UTC, were a 500.
FECHAS_EXTREMAS = [
    "0239-04-07T20:22:29+23:07",
    "2026-01-01T00:00:00-23:59",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31",
]


@pytest.mark.parametrize("fecha", FECHAS_EXTREMAS)
@pytest.mark.parametrize(
    "ruta",
    [
        "/api/v1/eventos/",
        "/api/v1/comisiones/",
        "/api/v1/recompensas/",
        "/api/v1/reportes/resumen/",
        "/api/v1/reportes/serie/",
        "/api/v1/reportes/publicaciones/",
    ],
)
def test_fechas_extremas_en_filtros_no_son_un_500(tokens, ruta, fecha):
    from rest_framework.test import APIClient

    cliente = APIClient()
    cliente.credentials(HTTP_AUTHORIZATION=f"Token {tokens['staff']}")
    for parametro in ("desde", "hasta"):
        respuesta = cliente.get(ruta, {parametro: fecha})
        assert respuesta.status_code in (200, 400), (parametro, respuesta.content[:300])


@pytest.mark.parametrize("fecha", FECHAS_EXTREMAS[:4])
def test_fechas_extremas_al_ingerir_no_son_un_500(tokens, fecha):
    from rest_framework.test import APIClient

    cliente = APIClient()
    cliente.credentials(HTTP_AUTHORIZATION=f"Token {tokens['staff']}")
    respuesta = cliente.post(
        "/api/v1/eventos/",
        {"marca": str(uuid.uuid4()), "tipo": "lead", "ocurrido_en": fecha},
        format="json",
    )
    assert respuesta.status_code == 400, respuesta.content[:300]


# --- Hostile bodies and parameters, every operation (PRODUCT.md §8) ---------------------------
# Schemathesis' generated bodies are shallow and small; an attacker's are not. Every operation
# that accepts a body also gets bodies nested past the 64-level limit (65 and 50,000 levels,
# arrays and objects), one over the 1 MB cap, and broken JSON; every path with an id gets
# malformed ids; ingestion, cursors and reports get their hostile values. Every answer must be
# a 4xx (nothing here is valid input), none a 5xx, and no row may be stored.

NIVELES_HOSTILES = (65, 50_000)
IDS_HOSTILES = ("zzz", "1", "%00", "a" * 300, "%2e%2e", "00000000-0000-0000-0000-00000000000g")
CUERPOS_ROTOS = (
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b"\xff\xfe{}",
    b'{"a": "\\ud800"',
    b"[" * 200 + b"1",
)


def _cuerpos_hostiles() -> list[tuple[str, bytes]]:
    cuerpos = []
    for n in NIVELES_HOSTILES:
        cuerpos.append((f"array-{n}", b"[" * n + b"]" * n))
        cuerpos.append((f"objeto-{n}", b'{"a":' * n + b"1" + b"}" * n))
    relleno = b"x" * (1024 * 1024)
    cuerpos.append(("mayor-de-1MB", b'{"a": "' + relleno + b'"}'))
    cuerpos += [(f"roto-{i}", c) for i, c in enumerate(CUERPOS_ROTOS)]
    return cuerpos


def _ids_por_recurso() -> dict[str, str]:
    from comision_recompensa.models import AsociacionEstrategica, Comision, Pago, Recompensa
    from eventos_medios.models import Evento, Marca, MedioMarketing, Publicacion, Socio

    modelos = {
        "socios": Socio,
        "marcas": Marca,
        "medios": MedioMarketing,
        "publicaciones": Publicacion,
        "eventos": Evento,
        "asociaciones": AsociacionEstrategica,
        "comisiones": Comision,
        "recompensas": Recompensa,
        "pagos": Pago,
    }
    return {r: str(m.objects.values_list("pk", flat=True).first()) for r, m in modelos.items()}


def _filas() -> dict[str, int]:
    from django.apps import apps

    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def _casos_hostiles(esquema: dict, ids: dict[str, str]) -> list[tuple[str, str, dict]]:
    """(method, path, request kwargs) for every hostile case."""
    casos: list[tuple[str, str, dict]] = []
    for plantilla, operaciones in esquema["paths"].items():
        recurso = plantilla.split("/")[3]
        ruta = plantilla.replace("{recurso}", "comisiones").replace("{id}", ids.get(recurso, ""))
        for metodo, op in operaciones.items():
            if "requestBody" in op:
                for _, cuerpo in _cuerpos_hostiles():
                    casos.append(
                        (metodo, ruta, {"data": cuerpo, "content_type": "application/json"})
                    )
            if "{id}" in plantilla:
                for malo in IDS_HOSTILES:
                    casos.append((metodo, plantilla.replace("{id}", malo), {}))
    for ruta in ("/medios_marketing/medio-comando", "/eventos/evento-comando"):
        for _, cuerpo in _cuerpos_hostiles():
            casos.append(("post", ruta, {"data": cuerpo, "content_type": "application/json"}))
    return casos


def _casos_de_valores(marca_id: str) -> list[tuple[str, str, dict]]:
    """Ingestion, cursors and reports with the values PRODUCT.md §8 refuses."""
    import json

    casos: list[tuple[str, str, dict]] = []
    base = {"marca": marca_id, "tipo": "venta", "referencia_externa": "hostil", "moneda": "EUR"}
    valores = ("1_000", "١٢٣", "1e3", "NaN", "+5", " 5", "1.005", "-1", True, [], {})
    monedas = ("XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "BOV", "XDR", "XSU", "EURO")
    fechas = ("0001-01-01T00:00:00Z", "1990-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "ayer")
    cuerpos = [{**base, "valor": v} for v in valores]
    cuerpos += [{**base, "valor": "1.00", "moneda": m} for m in monedas]
    cuerpos += [{**base, "valor": "1.00", "ocurrido_en": f} for f in fechas]
    for cuerpo in cuerpos:
        texto = json.dumps(cuerpo)
        casos.append(
            ("post", "/api/v1/eventos/", {"data": texto, "content_type": "application/json"})
        )
        lote = json.dumps({"eventos": [cuerpo]})
        casos.append(
            ("post", "/api/v1/eventos/lote/", {"data": lote, "content_type": "application/json"})
        )
    for numero in ("1e3", "1E+2", "-0", "1.000"):
        texto = json.dumps({**base, "valor": "VALOR"}).replace('"VALOR"', numero)
        casos.append(
            ("post", "/api/v1/eventos/", {"data": texto, "content_type": "application/json"})
        )
    for cursor in (
        "cD0xJm89MQ==",
        "p='; drop table;--",
        "bm90IGEgY3Vyc29y",
        "%%%%",
        "bz0" + "9" * 5000,
    ):
        casos.append(("get", "/api/v1/eventos/", {"data": {"cursor": cursor}}))
    for intervalo in ("dia", "semana", "mes"):
        rango = {"intervalo": intervalo, "desde": "1900-01-01", "hasta": "2100-01-01"}
        casos.append(("get", "/api/v1/reportes/serie/", {"data": rango}))
    for ruta in ("/api/v1/reportes/resumen/", "/api/v1/exportaciones/eventos/"):
        casos.append(("get", ruta, {"data": {"desde": "1900-01-01", "hasta": "2100-01-01"}}))
    for ruta in ("/api/v1/no-existe/", "/api/v1/eventos/x/y/", "/api/v2/eventos/"):
        casos.append(("get", ruta, {}))
    return casos


@pytest.mark.parametrize("quien", ["staff", "socio"])
def test_entrada_hostil_nunca_es_5xx_ni_guarda_nada(tokens, capsys, quien):
    from rest_framework.test import APIClient

    from eventos_medios.models import Marca

    cliente = APIClient(raise_request_exception=False)
    cliente.credentials(HTTP_AUTHORIZATION=f"Token {tokens[quien]}")
    esquema = cliente.get("/api/v1/schema/", {"format": "json"}).json()
    casos = _casos_hostiles(esquema, _ids_por_recurso())
    casos += _casos_de_valores(str(Marca.objects.values_list("pk", flat=True).first()))
    antes = _filas()
    por_clase: dict[str, int] = {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0}
    no_4xx = []
    for metodo, ruta, extra in casos:
        r = getattr(cliente, metodo)(ruta, **extra)
        clase = f"{r.status_code // 100}xx"
        por_clase[clase] = por_clase.get(clase, 0) + 1
        if clase != "4xx":
            no_4xx.append((metodo, ruta[:80], r.status_code))
        elif not r["Content-Type"].startswith("application/json"):
            no_4xx.append((metodo, ruta[:80], r["Content-Type"]))
    filas_nuevas = {k: v - antes[k] for k, v in _filas().items() if v != antes[k]}
    with capsys.disabled():
        print(
            f"\nhostile input as {quien}: {len(casos)} cases, 4xx={por_clase['4xx']}, "
            f"5xx={por_clase['5xx']}, 2xx/3xx={por_clase['2xx'] + por_clase['3xx']}, "
            f"rows stored from rejected input={sum(filas_nuevas.values())}"
        )
    assert len(casos) > 400
    assert no_4xx == []
    assert filas_nuevas == {}
