"""OpenAPI schema: public, valid without warnings for the whole API, and accurate — real
responses of the catalogue endpoints validate against the schema they publish."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from eventos_medios.tests.factories import (
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def esquema(django_db_blocker) -> dict[str, Any]:
    with django_db_blocker.unblock():
        resp = APIClient().get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert resp.status_code == 200
    return resp.json() if resp["Content-Type"].endswith("json") else yaml.safe_load(resp.content)


def test_validacion_completa_sin_avisos(tmp_path):
    """The whole schema (every engineer's endpoints) generates without a warning and validates
    against the OpenAPI 3 meta-schema: `manage.py spectacular --validate --fail-on-warn`."""
    GENERATOR_STATS.reset()
    destino = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(destino))
    documento = yaml.safe_load(destino.read_text())
    assert documento["openapi"].startswith("3.")


def test_esquema_y_docs_publicos(cliente_anonimo):
    assert cliente_anonimo.get(f"{API}/schema/").status_code == 200
    assert cliente_anonimo.get(f"{API}/docs/").status_code == 200
    # A stale token does not lock anyone out of the documentation.
    cliente_anonimo.credentials(HTTP_AUTHORIZATION="Token caducado")
    assert cliente_anonimo.get(f"{API}/schema/").status_code == 200


def test_rutas_del_catalogo_documentadas(esquema):
    rutas = esquema["paths"]
    for recurso in ("socios", "marcas", "medios", "publicaciones"):
        assert {"get", "post"} <= set(rutas[f"{API}/{recurso}/"])
        assert {"get", "put", "patch"} <= set(rutas[f"{API}/{recurso}/{{id}}/"])
        assert "delete" not in rutas[f"{API}/{recurso}/{{id}}/"]
    for recurso in ("socios", "marcas"):
        op = rutas[f"{API}/{recurso}/{{id}}/credenciales/"]["post"]
        assert "requestBody" not in op
        assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Credenciales"
        }
    componentes = esquema["components"]["schemas"]
    enlace = componentes["Publicacion"]["properties"]["enlace_tracking"]
    assert enlace["format"] == "uri" and enlace["readOnly"]
    assert "url_destino" in componentes["PublicacionCrearRequest"]["required"]
    ventana = componentes["MarcaEntradaRequest"]["properties"]["ventana_atribucion_dias"]
    assert (ventana["minimum"], ventana["maximum"]) == (1, 365)
    parametros = {p["name"] for p in rutas[f"{API}/publicaciones/"]["get"]["parameters"]}
    assert {"marca", "medio", "socio", "tipo", "page", "page_size"} <= parametros
    seguridad = esquema["components"]["securitySchemes"]
    assert seguridad["tokenAuth"]["in"] == "header"


# --- Real responses against the published schema ----------------------------------------------


def _a_json_schema(nodo: Any) -> Any:
    """OpenAPI 3.0 schema object → JSON Schema (only `nullable` differs for our purposes)."""
    if isinstance(nodo, list):
        return [_a_json_schema(n) for n in nodo]
    if not isinstance(nodo, dict):
        return nodo
    nodo = {k: _a_json_schema(v) for k, v in nodo.items()}
    if nodo.pop("nullable", False):
        return {"anyOf": [nodo, {"type": "null"}]}
    return nodo


def _validar(esquema: dict[str, Any], ruta: str, metodo: str, estado: int, cuerpo: Any) -> None:
    respuesta = esquema["paths"][ruta][metodo]["responses"][str(estado)]
    objetivo = respuesta["content"]["application/json"]["schema"]
    documento = {
        **_a_json_schema(copy.deepcopy(objetivo)),
        "components": _a_json_schema(esquema["components"]),
    }
    jsonschema.validate(cuerpo, documento)


def test_respuestas_reales_cumplen_el_esquema(esquema, cliente_staff):
    pub = PublicacionFactory()
    SocioFactory(usuario=None)
    c = cliente_staff
    casos = [
        ("get", f"{API}/socios/", f"{API}/socios/", 200, None),
        ("get", f"{API}/marcas/", f"{API}/marcas/", 200, None),
        ("get", f"{API}/medios/", f"{API}/medios/", 200, None),
        ("get", f"{API}/publicaciones/", f"{API}/publicaciones/", 200, None),
        ("get", f"{API}/publicaciones/{{id}}/", f"{API}/publicaciones/{pub.id}/", 200, None),
        (
            "post",
            f"{API}/socios/",
            f"{API}/socios/",
            201,
            {"nombre": "N", "tipo": "afiliado"},
        ),
        ("post", f"{API}/marcas/", f"{API}/marcas/", 201, {"nombre": "M"}),
        (
            "post",
            f"{API}/medios/",
            f"{API}/medios/",
            201,
            {"socio": str(SocioFactory().id), "plataforma": "blog"},
        ),
        (
            "post",
            f"{API}/publicaciones/",
            f"{API}/publicaciones/",
            201,
            {
                "medio": str(MedioMarketingFactory().id),
                "marca": str(MarcaFactory().id),
                "tipo": "post",
                "url_destino": "https://x.example.com",
            },
        ),
        (
            "post",
            f"{API}/publicaciones/",
            f"{API}/publicaciones/",
            400,
            {"tipo": "tweet", "url_destino": "javascript:x"},
        ),
        (
            "patch",
            f"{API}/publicaciones/{{id}}/",
            f"{API}/publicaciones/{pub.id}/",
            200,
            {"titulo": "T"},
        ),
        (
            "post",
            f"{API}/socios/{{id}}/credenciales/",
            f"{API}/socios/{pub.medio.socio_id}/credenciales/",
            200,
            None,
        ),
        (
            "post",
            f"{API}/marcas/{{id}}/credenciales/",
            f"{API}/marcas/{pub.marca_id}/credenciales/",
            200,
            None,
        ),
        (
            "get",
            f"{API}/socios/{{id}}/",
            f"{API}/socios/00000000-0000-0000-0000-000000000000/",
            404,
            None,
        ),
    ]
    for metodo, plantilla, url, estado, cuerpo in casos:
        resp = getattr(c, metodo)(url, cuerpo) if cuerpo is not None else getattr(c, metodo)(url)
        assert resp.status_code == estado, (metodo, url, resp.content)
        _validar(esquema, plantilla, metodo, estado, resp.json())
    resp = APIClient().get(f"{API}/socios/")
    _validar(esquema, f"{API}/socios/", "get", 401, resp.json())
