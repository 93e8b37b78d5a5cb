"""The portal speaks Spanish by default and English on request; the API and the admin keep
English; the committed catalogue is complete and compiled."""

from __future__ import annotations

import gettext
import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from comision_recompensa.models import PreferenciasSocio
from comision_recompensa.tests.portal.datos import socio_portal

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES"
# Strings of the app's admin pages (the admin is always in English): not translated.
SOLO_ADMIN = {"Home"}


def test_espanol_por_defecto(client):
    respuesta = client.get(reverse("portal:entrar"))
    html = respuesta.content.decode()
    assert '<html lang="es">' in html and "Entra al portal de socios" in html
    assert respuesta["Content-Language"] == "es"


def test_el_selector_cambia_a_ingles_y_vuelve(client):
    respuesta = client.post(
        reverse("portal:idioma"), {"idioma": "en", "siguiente": reverse("portal:entrar")}
    )
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:entrar")
    html = client.get(reverse("portal:entrar")).content.decode()
    assert '<html lang="en">' in html and "Sign in to the partner portal" in html
    client.post(reverse("portal:idioma"), {"idioma": "es"})
    assert "Entra al portal" in client.get(reverse("portal:entrar")).content.decode()


def test_el_selector_no_redirige_fuera_del_portal(client):
    for siguiente in ("https://malo.example.com/", "//malo.example.com/", "/admin/", "/api/v1/"):
        respuesta = client.post(reverse("portal:idioma"), {"idioma": "en", "siguiente": siguiente})
        assert respuesta["Location"] == reverse("portal:resumen")


def test_la_api_y_el_admin_siguen_en_ingles(client):
    client.post(reverse("portal:idioma"), {"idioma": "es"})
    client.cookies["alpes_idioma"] = "es"
    assert "Log in" in client.get("/admin/login/").content.decode()
    assert client.get("/api/v1/comisiones/").json()["detail"].startswith("Authentication")
    # …and after a portal request in Spanish on the same thread.
    client.get(reverse("portal:entrar"))
    assert "Log in" in client.get("/admin/login/").content.decode()


def test_el_idioma_del_socio_se_guarda_y_le_sigue_al_entrar(client):
    d = socio_portal()
    client.force_login(d.usuario)
    client.post(reverse("portal:idioma"), {"idioma": "en", "siguiente": "/portal/"})
    assert PreferenciasSocio.objects.get(socio=d.socio).idioma == "en"
    nuevo = client.__class__()
    respuesta = nuevo.post(
        reverse("portal:entrar"), {"username": d.usuario.username, "password": "clave-segura-123"}
    )
    assert respuesta.cookies["alpes_idioma"].value == "en"
    assert "Statement" in nuevo.get(reverse("portal:resumen")).content.decode()


def _entradas_po(texto: str) -> list[dict[str, str]]:
    """msgid / msgid_plural / msgstr… of each entry of a .po file (a small reader: enough for
    the files makemessages writes)."""
    entradas = []
    for bloque in texto.strip().split("\n\n"):
        campos: dict[str, str] = {}
        clave = None
        for linea in bloque.splitlines():
            if linea.startswith("#"):
                continue
            if m := re.match(r"^(msgid|msgid_plural|msgstr(?:\[\d\])?) (\".*\")$", linea):
                clave = m.group(1)
                campos[clave] = json.loads(m.group(2))
            elif linea.startswith('"') and clave:
                campos[clave] += json.loads(linea)
        entradas.append(campos)
    return entradas


def test_catalogo_completo_y_compilado():
    entradas = [e for e in _entradas_po((LOCALE / "django.po").read_text()) if e.get("msgid")]
    sin_traducir = [
        e["msgid"]
        for e in entradas
        if e["msgid"] not in SOLO_ADMIN and not (e.get("msgstr") or e.get("msgstr[0]"))
    ]
    assert sin_traducir == []
    with (LOCALE / "django.mo").open("rb") as archivo:
        compilado = gettext.GNUTranslations(archivo)
    for e in entradas:
        if "msgid_plural" in e:
            assert compilado.ngettext(e["msgid"], e["msgid_plural"], 1) == e["msgstr[0]"], e[
                "msgid"
            ]
        elif e.get("msgstr"):
            assert compilado.gettext(e["msgid"]) == e["msgstr"], (
                f"django.mo is stale: {e['msgid']!r}"
            )
