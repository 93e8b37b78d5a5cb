"""Settings that must reach their consumer, and configuration typos that must stop start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from alpespartners import settings as modulo_settings
from alpespartners.api.ratelimit import parse_limite

RAIZ = Path(__file__).resolve().parent.parent


def _entorno(**extra: str) -> dict[str, str]:
    """A minimal development environment (DEBUG on: its dev-only secrets are allowed)."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    return {**base, "DJANGO_SETTINGS_MODULE": "alpespartners.settings", "DEBUG": "true", **extra}


def test_celery_db_reuse_max_llega_al_fixup_de_django():
    """Celery's Django fixup reads CELERY_DB_REUSE_MAX from the app config."""
    from celery.fixups.django import DjangoWorkerFixup

    from alpespartners.celery import app

    assert settings.CELERY_DB_REUSE_MAX == 1000 or "CELERY_DB_REUSE_MAX" in os.environ
    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX
    assert DjangoWorkerFixup(app).db_reuse_max == settings.CELERY_DB_REUSE_MAX


def test_celery_db_reuse_max_desde_el_entorno():
    codigo = (
        "import django; django.setup()\n"
        "from celery.fixups.django import DjangoWorkerFixup\n"
        "from alpespartners.celery import app\n"
        "print(DjangoWorkerFixup(app).db_reuse_max)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", codigo],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_entorno(CELERY_DB_REUSE_MAX="37"),
        cwd=RAIZ,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "37"


@pytest.mark.parametrize("variable", ["RATE_LIMIT_TRACKING", "RATE_LIMIT_INGESTA"])
def test_limite_mal_escrito_detiene_el_arranque(variable):
    r = subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_entorno(**{variable: "600/minutos"}),
        cwd=RAIZ,
    )
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr
    assert variable in r.stderr and "'600/minutos'" in r.stderr
    assert '"<n>/<s|m|h>"' in r.stderr and '"0"' in r.stderr


def test_limites_validos_arrancan():
    r = subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_entorno(RATE_LIMIT_TRACKING="10/min", RATE_LIMIT_INGESTA="0"),
        cwd=RAIZ,
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "texto",
    [
        *("0", "", "off", "600/m", "5/s", "100/h", "10/min", " 7 / hour ", "3/SEC", "0/m"),
        *("600", "600/d", "/m", "m", "-1/m", "1.5/m", "600/minutos", "6OO/m", "x/s", "1/"),
    ],
)
def test_la_regla_de_settings_coincide_con_parse_limite(texto):
    """settings.py's start-up check accepts exactly what the parser accepts."""
    try:
        parse_limite(texto)
        valido_parser = True
    except ImproperlyConfigured:
        valido_parser = False
    valido_settings = bool(modulo_settings._LIMITE_VALIDO.fullmatch(texto.strip().lower()))
    assert valido_settings == valido_parser
