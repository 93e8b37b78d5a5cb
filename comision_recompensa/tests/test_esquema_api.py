"""OpenAPI schema of the attribution and reports endpoints: summaries and pagination params."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

API = "/api/v1"
METODOS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def esquema(django_db_blocker) -> dict[str, Any]:
    with django_db_blocker.unblock():
        resp = APIClient().get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert resp.status_code == 200
    return resp.json() if resp["Content-Type"].endswith("json") else yaml.safe_load(resp.content)


def test_publicaciones_del_reporte_documenta_page_y_page_size(esquema):
    op = esquema["paths"][f"{API}/reportes/publicaciones/"]["get"]
    parametros = {p["name"]: p for p in op["parameters"]}
    assert {"page", "page_size", "marca", "socio", "desde", "hasta"} <= set(parametros)
    assert parametros["page"]["schema"]["type"] == "integer"
    assert parametros["page_size"]["schema"]["type"] == "integer"


@pytest.mark.parametrize("recurso", ["comisiones", "recompensas", "asociaciones", "reportes"])
def test_cada_operacion_tiene_resumen(esquema, recurso):
    operaciones = [
        (ruta, metodo, op)
        for ruta, item in esquema["paths"].items()
        if ruta.startswith(f"{API}/{recurso}/")
        for metodo, op in item.items()
        if metodo in METODOS
    ]
    assert operaciones
    sin_resumen = [f"{m.upper()} {r}" for r, m, op in operaciones if not op.get("summary")]
    assert not sin_resumen
