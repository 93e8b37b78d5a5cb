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
