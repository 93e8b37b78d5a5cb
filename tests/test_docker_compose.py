"""docker-compose.yml: the five services, their health checks and start-up order.

With the `docker compose` plugin installed, the file is checked by `docker compose config`
itself; otherwise it is parsed as YAML and checked here (plus the same interpolation rules).
Either way, the application's environment from the file must make `manage.py check --deploy`
pass with DEBUG off.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

RAIZ = Path(__file__).resolve().parent.parent
COMPOSE = RAIZ / "docker-compose.yml"
SERVICIOS = ("postgres", "redis", "web", "worker", "beat")
APP = ("migrate", "web", "worker", "beat")
SECRETOS = {
    "SECRET_KEY": "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
    "IP_HASH_SALT": "sal-de-prueba",
}
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _compose_disponible() -> bool:
    if shutil.which("docker") is None:
        return False
    r = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=30, check=False
    )
    return r.returncode == 0


def _interpolar(valor: Any, entorno: dict[str, str]) -> Any:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ → $."""
    if isinstance(valor, dict):
        return {k: _interpolar(v, entorno) for k, v in valor.items()}
    if isinstance(valor, list):
        return [_interpolar(v, entorno) for v in valor]
    if not isinstance(valor, str):
        return valor

    def sustituir(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        nombre, operador, resto = m.group(1), m.group(2), m.group(3)
        actual = entorno.get(nombre)
        if operador in (":-", "-"):
            vacio = actual is None or (operador == ":-" and actual == "")
            return resto if vacio else str(actual)
        if operador in (":?", "?"):
            if actual is None or (operador == ":?" and actual == ""):
                raise ValueError(f"required variable {nombre} is missing: {resto}")
            return actual
        return actual or ""

    return _VARIABLE.sub(sustituir, valor)


def _config(entorno: dict[str, str]) -> dict[str, Any]:
    """The effective configuration: from `docker compose config` when available."""
    if _compose_disponible():
        r = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, **entorno},
            cwd=RAIZ,
        )
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)
    datos = yaml.safe_load(COMPOSE.read_text())
    datos.pop("x-app", None)
    return _interpolar(datos, entorno)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return _config(SECRETOS)


def _lista(comando: Any) -> str:
    return " ".join(comando) if isinstance(comando, list) else str(comando)


def test_los_cinco_servicios_y_la_migracion(config):
    servicios = config["services"]
    assert set(SERVICIOS) | {"migrate"} <= set(servicios)
    assert servicios["postgres"]["image"].startswith("postgres:15")
    assert servicios["redis"]["image"].startswith("redis:7")
    assert "gunicorn alpespartners.wsgi" in _lista(servicios["web"]["command"])
    assert "worker -Q atribucion,pagos,webhooks,celery" in _lista(servicios["worker"]["command"])
    assert "beat" in _lista(servicios["beat"]["command"])
    assert "migrate" in _lista(servicios["migrate"]["command"])
    assert servicios["migrate"].get("restart") in ("no", None)


@pytest.mark.parametrize(
    ("servicio", "comprobacion"),
    [
        ("postgres", "pg_isready"),
        ("redis", "redis-cli ping"),
        ("web", "/health"),
        ("worker", "inspect ping"),
        ("beat", "celerybeat.pid"),
    ],
)
def test_cada_servicio_tiene_healthcheck(config, servicio, comprobacion):
    salud = config["services"][servicio]["healthcheck"]
    assert comprobacion in _lista(salud["test"])
    assert salud.get("interval") and salud.get("retries")


@pytest.mark.parametrize("servicio", ["web", "worker", "beat", "migrate"])
def test_la_app_espera_a_sus_dependencias(config, servicio):
    dependencias = config["services"][servicio]["depends_on"]
    assert dependencias["postgres"]["condition"] == "service_healthy"
    assert dependencias["redis"]["condition"] == "service_healthy"
    if servicio != "migrate":
        assert dependencias["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("servicio", APP)
def test_entorno_de_la_app(config, servicio):
    entorno = config["services"][servicio]["environment"]
    for variable in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "IP_HASH_SALT",
        "PAGOS_URL",
    ):
        assert variable in entorno, variable
    assert entorno["DEBUG"] == "false"
    assert (
        entorno["DATABASE_URL"].startswith("postgres://")
        and "@postgres:5432/" in entorno["DATABASE_URL"]
    )
    assert entorno["REDIS_URL"] == "redis://redis:6379/0"
    assert entorno["SECRET_KEY"] == SECRETOS["SECRET_KEY"]


def test_web_workers_y_threads_desde_el_entorno():
    config = _config({**SECRETOS, "WEB_WORKERS": "7", "WEB_THREADS": "3"})
    web = config["services"]["web"]
    assert web["environment"]["WEB_WORKERS"] == "7"
    assert web["environment"]["WEB_THREADS"] == "3"
    comando = _lista(web["command"])
    assert "--workers ${WEB_WORKERS}" in comando and "--threads ${WEB_THREADS}" in comando


def test_sin_secretos_no_arranca():
    if _compose_disponible():
        r = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={k: v for k, v in os.environ.items() if k not in SECRETOS},
            cwd=RAIZ,
        )
        assert r.returncode != 0 and "SECRET_KEY" in r.stderr
    else:
        with pytest.raises(ValueError, match="SECRET_KEY"):
            _config({})


def test_el_entorno_del_compose_pasa_check_deploy(config):
    """The app's settings load with DEBUG off from exactly that environment."""
    entorno = {
        k: str(v) for k, v in config["services"]["web"]["environment"].items() if v is not None
    }
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**base, **entorno, "DJANGO_SETTINGS_MODULE": "alpespartners.settings"},
        cwd=RAIZ,
    )
    salida = r.stdout + r.stderr
    # With SECURE_SSL_REDIRECT left at the compose default (plain HTTP) that one warning is
    # expected; nothing else may be reported.
    otros = [
        linea
        for linea in salida.splitlines()
        if re.match(r"^\?: \(security\.W\d+\)", linea) and "W008" not in linea
    ]
    assert not otros, salida
    assert "Traceback" not in salida, salida


def test_dockerfile_y_dockerignore():
    dockerfile = (RAIZ / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "USER app" in dockerfile
    ignorados = (RAIZ / ".dockerignore").read_text().split()
    assert ".venv" in ignorados and ".git" in ignorados


# Every variable settings.py reads, e.g. env.int("NAME", ...) or env("NAME"), over line breaks.
_LECTURA_ENTORNO = re.compile(r"\benv(?:\.[a-z]+)?\(\s*\"([A-Z][A-Z0-9_]*)\"")
# Deliberately different from settings' defaults in the compose file (see its comments).
_DISTINTOS_A_PROPOSITO = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "IP_HASH_SALT",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
}


def _variables_de_settings() -> set[str]:
    return set(_LECTURA_ENTORNO.findall((RAIZ / "alpespartners" / "settings.py").read_text()))


def test_se_detectan_las_variables_de_settings():
    variables = _variables_de_settings()
    assert {"BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS", "ALLOWED_HOSTS", "CELERY_DB_REUSE_MAX"} <= (
        variables
    )
    assert len(variables) >= 25


@pytest.mark.parametrize("servicio", APP)
def test_cada_variable_de_settings_llega_a_la_app(config, servicio):
    entorno = config["services"][servicio]["environment"]
    faltan = sorted(_variables_de_settings() - set(entorno))
    assert not faltan, f"{servicio} does not pass {faltan}"


def test_web_timeout_de_gunicorn_para_exportaciones_largas(config):
    comando = _lista(config["services"]["web"]["command"])
    assert "--timeout 300" in comando


_VOLCADO = """
import json
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "PAGOS": [s.PAGOS_URL, s.PAGOS_SECRETO, s.PAGOS_TIMEOUT_SEGUNDOS, s.PAGOS_MAX_INTENTOS,
              s.PAGOS_BACKOFF_BASE_SEGUNDOS, s.PAGOS_BACKOFF_MAX_SEGUNDOS],
    "RED": [s.NUM_PROXIES, s.CSRF_TRUSTED_ORIGINS, s.PUBLIC_BASE_URL, s.SECURE_HSTS_SECONDS],
    "DB": [db["CONN_MAX_AGE"], db["OPTIONS"]["connect_timeout"]],
    "LIMITES": [s.RATE_LIMIT_TRACKING, s.RATE_LIMIT_INGESTA],
    "CELERY": [s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_DB_REUSE_MAX, s.REDIS_PREFIJO,
               s.ATRIBUCION_LOTE, s.BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS,
               str(s.CELERY_BEAT_SCHEDULE["barrer-eventos-pendientes"]["schedule"])],
    "LOG": s.LOGGING["root"]["level"],
}, sort_keys=True))
"""


def _volcar_settings(entorno: dict[str, str]) -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    r = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + _VOLCADO],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**base, **entorno, "DJANGO_SETTINGS_MODULE": "alpespartners.settings"},
        cwd=RAIZ,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_los_valores_por_defecto_del_compose_son_los_de_settings(config):
    """Passing every variable with its compose default changes nothing against leaving it
    unset: the `${VAR:-default}` defaults equal settings.py's."""
    entorno = {
        k: str(v) for k, v in config["services"]["web"]["environment"].items() if v is not None
    }
    minimo = {k: v for k, v in entorno.items() if k in _DISTINTOS_A_PROPOSITO}
    assert _volcar_settings(entorno) == _volcar_settings(minimo)
