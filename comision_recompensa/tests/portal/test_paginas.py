"""Every portal page renders for its partner, in Spanish by default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from comision_recompensa.tests.portal.datos import socio_portal

pytestmark = pytest.mark.django_db


def _paginas(d):
    return [
        reverse("portal:resumen"),
        reverse("portal:enlaces"),
        reverse("portal:creditos"),
        reverse("portal:creditos") + "?clase=recompensa",
        reverse("portal:credito", args=["comision", d.comision.pk]),
        reverse("portal:credito", args=["recompensa", d.recompensa.pk]),
        reverse("portal:pagos"),
        reverse("portal:pago", args=[d.pago.pk]),
        reverse("portal:token"),
        reverse("portal:preferencias"),
        reverse("portal:clave_cambiar"),
    ]


def test_cada_pagina_responde(client):
    d = socio_portal()
    client.force_login(d.usuario)
    for ruta in _paginas(d):
        respuesta = client.get(ruta)
        assert respuesta.status_code == 200, ruta
        assert "Content-Security-Policy" in respuesta
        assert respuesta["Content-Language"] == "es"
