"""The admin of webhooks: staff create endpoints (secret shown once, masked after, never
exported), rotate, ping, and replay deliveries."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from comision_recompensa.models import EndpointWebhook, EntregaWebhook, EstadoEntrega
from comision_recompensa.tests.webhooks.conftest import URL_LOCAL
from comision_recompensa.webhooks import services
from eventos_medios.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
BASE = "/admin/comision_recompensa/endpointwebhook/"


@pytest.fixture
def navegador():
    c = Client()
    c.force_login(StaffFactory(is_superuser=True))
    return c


def _mensajes(respuesta) -> list[str]:
    return [str(m) for m in get_messages(respuesta.wsgi_request)]


def test_alta_muestra_el_secreto_una_vez_y_luego_enmascarado(navegador, mundo):
    r = navegador.post(
        BASE + "add/",
        {
            "clase": "webhook",
            "marca": mundo.marca_y.pk,
            "url": URL_LOCAL,
            "eventos": '["pago.pagado"]',
            "activo": "on",
            "descripcion": "",
        },
        follow=True,
    )
    assert r.status_code == 200
    nuevo = EndpointWebhook.objects.filter(marca=mundo.marca_y).exclude(pk=mundo.ep_y.pk).get()
    assert any(nuevo.secreto in m for m in _mensajes(r))
    pagina = navegador.get(f"{BASE}{nuevo.pk}/change/").content.decode()
    assert nuevo.secreto not in pagina and nuevo.secreto[:10] in pagina
    assert nuevo.secreto not in navegador.get(BASE).content.decode()


def test_alta_con_url_interna_se_rechaza(navegador, mundo, settings):
    settings.WEBHOOKS_PERMITIR_PRIVADAS = False
    antes = EndpointWebhook.objects.count()
    r = navegador.post(
        BASE + "add/",
        {
            "clase": "webhook",
            "marca": mundo.marca_y.pk,
            "url": "https://10.0.0.1/x",
            "eventos": '["*"]',
            "activo": "on",
        },
    )
    assert r.status_code == 200  # the form again, with the reason
    assert "The address is not public" in r.content.decode()
    assert EndpointWebhook.objects.count() == antes


def test_sin_exportacion_csv_y_acciones(navegador, mundo):
    pagina = navegador.get(BASE).content.decode()
    assert "exportar_csv" not in pagina and "rotar_secreto" in pagina
    viejo = mundo.ep_a.secreto
    r = navegador.post(
        BASE, {"action": "rotar_secreto", "_selected_action": [mundo.ep_a.pk]}, follow=True
    )
    nuevo = EndpointWebhook.objects.get(pk=mundo.ep_a.pk)
    assert nuevo.secreto != viejo and nuevo.secreto_anterior == viejo
    assert any(nuevo.secreto in m for m in _mensajes(r))
    navegador.post(BASE, {"action": "probar", "_selected_action": [mundo.ep_a.pk]})
    assert EntregaWebhook.objects.filter(endpoint=mundo.ep_a, tipo="ping").count() == 1


def test_reenviar_entregas_desde_el_admin(navegador, mundo):
    entrega = services.endpoint_probar(endpoint=mundo.ep_b)
    EntregaWebhook.objects.filter(pk=entrega.pk).update(estado=EstadoEntrega.FALLIDA)
    url = "/admin/comision_recompensa/entregawebhook/"
    assert navegador.get(url).status_code == 200
    assert navegador.get(f"{url}{entrega.pk}/change/").status_code == 200
    navegador.post(url, {"action": "reenviar", "_selected_action": [entrega.pk]})
    entrega.refresh_from_db()
    assert entrega.estado == EstadoEntrega.PENDIENTE and entrega.reenvios == 1
