"""Signing in to the portal: the same users as the admin, throttled by django-axes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from comision_recompensa.tests.portal.datos import CLAVE, socio_portal
from eventos_medios.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _entrar(client, usuario, clave):
    return client.post(reverse("portal:entrar"), {"username": usuario, "password": clave})


def test_un_socio_entra_y_llega_a_su_resumen(client):
    d = socio_portal()
    respuesta = _entrar(client, d.usuario.username, CLAVE)
    assert respuesta.status_code == 302 and respuesta["Location"] == reverse("portal:resumen")
    assert client.get(reverse("portal:entrar"))["Location"] == reverse("portal:resumen")


def test_vuelve_a_la_pagina_pedida_pero_nunca_fuera(client):
    d = socio_portal()
    pagos = reverse("portal:pagos")
    respuesta = client.post(
        f"{reverse('portal:entrar')}?next={pagos}",
        {"username": d.usuario.username, "password": CLAVE},
    )
    assert respuesta["Location"] == pagos
    otro = client.__class__()
    respuesta = otro.post(
        f"{reverse('portal:entrar')}?next=https://malo.example.com/",
        {"username": d.usuario.username, "password": CLAVE},
    )
    assert respuesta["Location"] == reverse("portal:resumen")


def test_contrasena_erronea_se_explica_en_espanol(client):
    d = socio_portal()
    html = _entrar(client, d.usuario.username, "mala").content.decode()
    assert 'role="alert"' in html and "usuario" in html.lower()


def test_el_staff_entra_pero_ve_la_pagina_403(client):
    staff = StaffFactory()
    assert _entrar(client, staff.username, CLAVE).status_code == 302
    assert client.get(reverse("portal:resumen")).status_code == 403


def test_tras_cinco_fallos_axes_bloquea_con_la_pagina_del_portal(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    d = socio_portal()
    for _ in range(2):
        assert _entrar(client, d.usuario.username, "mala").status_code == 200
    bloqueo = _entrar(client, d.usuario.username, "mala")
    assert bloqueo.status_code == 429
    assert int(bloqueo["Retry-After"]) > 0
    assert "Acceso bloqueado temporalmente" in bloqueo.content.decode()
    # Even the right password waits now.
    assert _entrar(client, d.usuario.username, CLAVE).status_code == 429


def test_cambiar_la_contrasena(client):
    d = socio_portal()
    client.force_login(d.usuario)
    nueva = "Una-nueva-clave-2026"
    respuesta = client.post(
        reverse("portal:clave_cambiar"),
        {"old_password": CLAVE, "new_password1": nueva, "new_password2": nueva},
        follow=True,
    )
    assert "Tu contraseña se cambió." in respuesta.content.decode()
    assert _entrar(client.__class__(), d.usuario.username, nueva).status_code == 302


def test_la_clave_de_api_se_muestra_una_vez_y_la_anterior_deja_de_valer(client):
    from eventos_medios.models import TokenApi

    d = socio_portal()
    client.force_login(d.usuario)
    assert "Aún no tienes clave de API." in client.get(reverse("portal:token")).content.decode()
    primera = client.post(reverse("portal:token"))
    assert "no-store" in primera["Cache-Control"]
    import re

    clave1 = re.search(r'id="clave-nueva"[^>]*value="(ap_[^"]+)"', primera.content.decode()).group(
        1
    )
    api = client.__class__()
    assert api.get("/api/v1/comisiones/", HTTP_AUTHORIZATION=f"Token {clave1}").status_code == 200
    segunda = client.post(reverse("portal:token")).content.decode()
    clave2 = re.search(r'id="clave-nueva"[^>]*value="(ap_[^"]+)"', segunda).group(1)
    assert clave2 != clave1
    assert api.get("/api/v1/comisiones/", HTTP_AUTHORIZATION=f"Token {clave1}").status_code == 401
    pagina = client.get(reverse("portal:token")).content.decode()
    assert clave2 not in pagina and TokenApi.objects.get(usuario=d.usuario).prefijo in pagina


def test_ajustes_guardan_idioma_y_correos(client):
    from comision_recompensa.models import PreferenciasSocio

    d = socio_portal()
    client.force_login(d.usuario)
    respuesta = client.post(
        reverse("portal:preferencias"), {"idioma": "en", "correo_pagos": "on"}, follow=True
    )
    assert "Your settings were saved." in respuesta.content.decode()
    p = PreferenciasSocio.objects.get(socio=d.socio)
    assert (p.idioma, p.correo_creditos, p.correo_pagos) == ("en", False, True)
