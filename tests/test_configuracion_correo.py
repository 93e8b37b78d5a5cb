"""E-mail and portal settings: SMTP from the environment, validated at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RAIZ = Path(__file__).resolve().parent.parent
SECRETO = "s3cr3t-" + "x7Yq2" * 12


def _entorno(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    return {**base, "DJANGO_SETTINGS_MODULE": "alpespartners.settings", "DEBUG": "true", **extra}


def _ejecutar(codigo: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + codigo],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_entorno(**extra),
        cwd=RAIZ,
    )


def test_email_url_llega_a_los_ajustes_de_django():
    r = _ejecutar(
        "from django.conf import settings as s\n"
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER,\n"
        "      s.EMAIL_USE_TLS, s.CORREO_ACTIVO)",
        EMAIL_URL="smtp+tls://avisos%40alpes.example:clave@smtp.example.com:587",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        "587",
        "avisos@alpes.example",
        "True",
        "True",
    ]


@pytest.mark.parametrize(
    "entorno,mensaje",
    [
        ({"EMAIL_URL": "gopher://nada"}, "EMAIL_URL is not a valid e-mail URL"),
        (
            {"EMAIL_HOST": "smtp.example.com", "EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"},
            "EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive",
        ),
        (
            {
                "DEBUG": "false",
                "SECRET_KEY": SECRETO,
                "IP_HASH_SALT": "sal",
                "EMAIL_HOST": "smtp.example.com",
                "PORTAL_URL": "https://socios.example.com",
            },
            "DEFAULT_FROM_EMAIL must be set",
        ),
        (
            {
                "DEBUG": "false",
                "SECRET_KEY": SECRETO,
                "IP_HASH_SALT": "sal",
                "EMAIL_HOST": "smtp.example.com",
                "DEFAULT_FROM_EMAIL": "Alpes <avisos@alpes.example>",
            },
            "PORTAL_URL (or PUBLIC_BASE_URL) must be an absolute http(s) URL",
        ),
        ({"RATE_LIMIT_SOLICITUDES": "5/semana"}, "RATE_LIMIT_SOLICITUDES"),
    ],
)
def test_configuracion_de_correo_mal_escrita_detiene_el_arranque(entorno, mensaje):
    r = _ejecutar("", **entorno)
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr and mensaje in r.stderr


def test_en_produccion_sin_correo_configurado_arranca_y_no_envia():
    r = _ejecutar(
        "from django.conf import settings as s\nprint(s.CORREO_ACTIVO, s.EMAIL_BACKEND)",
        DEBUG="false",
        SECRET_KEY=SECRETO,
        IP_HASH_SALT="sal",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "django.core.mail.backends.console.EmailBackend"]
