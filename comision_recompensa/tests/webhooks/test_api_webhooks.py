"""`/api/v1/webhooks/`: brands manage their programme's endpoints, partners their own, staff
all; the secret is shown once; rotate, ping, delivery log, replays; what a stranger, another
tenant or a malformed request gets. Plus end-to-end: the real approve API and the payments
callback write deliveries."""

from __future__ import annotations

import uuid

import pytest

from comision_recompensa.models import Comision, EndpointWebhook, EntregaWebhook, Pago
from comision_recompensa.tests.pagos_helpers import comision_aprobada, cuerpo_firmado
from comision_recompensa.tests.webhooks.conftest import URL_LOCAL
from comision_recompensa.webhooks import services
from conftest import cliente_para
from eventos_medios.tests.factories import StaffFactory, UsuarioFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/webhooks/"


@pytest.fixture
def clientes(mundo):
    usuario_x = UsuarioFactory()
    mundo.marca_x.usuarios.add(usuario_x)
    return {
        "marca_x": cliente_para(usuario_x),
        "socio_a": cliente_para(mundo.socio_a.usuario),
        "socio_b": cliente_para(mundo.socio_b.usuario),
        "staff": cliente_para(StaffFactory()),
        "nadie": cliente_para(UsuarioFactory()),
    }


def test_crear_muestra_el_secreto_una_vez(mundo, clientes):
    r = clientes["marca_x"].post(API, {"url": URL_LOCAL, "eventos": ["comision.creada"]})
    assert r.status_code == 201, r.content
    cuerpo = r.json()
    assert cuerpo["secreto"].startswith("whsec_") and len(cuerpo["secreto"]) > 40
    assert cuerpo["marca"] == str(mundo.marca_x.pk) and cuerpo["socio"] is None
    assert cuerpo["secuencia_actual"] == 0
    detalle = clientes["marca_x"].get(f"{API}{cuerpo['id']}/").json()
    assert "secreto" not in detalle
    assert detalle["secreto_prefijo"] == cuerpo["secreto"][:10] + "…"
    lista = clientes["marca_x"].get(API).json()
    assert cuerpo["secreto"] not in str(lista)


def test_un_socio_crea_los_suyos_y_no_puede_nombrar_a_otro(mundo, clientes):
    r = clientes["socio_a"].post(API, {"url": URL_LOCAL, "eventos": ["*"]})
    assert r.status_code == 201 and r.json()["socio"] == str(mundo.socio_a.pk)
    r = clientes["socio_a"].post(
        API, {"url": URL_LOCAL, "eventos": ["*"], "socio": str(mundo.socio_b.pk)}
    )
    assert r.status_code == 400 and "socio" in r.json()["errors"]
    r = clientes["socio_a"].post(
        API, {"url": URL_LOCAL, "eventos": ["*"], "marca": str(mundo.marca_x.pk)}
    )
    assert r.status_code == 400 and "marca" in r.json()["errors"]


def test_staff_nombra_el_dueno(mundo, clientes):
    r = clientes["staff"].post(API, {"url": URL_LOCAL, "eventos": ["*"]})
    assert r.status_code == 400 and "marca" in r.json()["errors"]
    r = clientes["staff"].post(
        API, {"url": URL_LOCAL, "eventos": ["*"], "socio": str(mundo.socio_b.pk)}
    )
    assert r.status_code == 201 and r.json()["socio"] == str(mundo.socio_b.pk)
    assert clientes["staff"].get(API).json()["count"] == 5


def test_alcance_otros_inquilinos_son_404(mundo, clientes):
    ajeno = f"{API}{mundo.ep_b.pk}/"
    for nombre in ("marca_x", "socio_a", "nadie"):
        c = clientes[nombre]
        assert c.get(ajeno).status_code == 404
        assert c.patch(ajeno, {"activo": False}).status_code == 404
        assert c.delete(ajeno).status_code == 404
        assert c.post(ajeno + "rotar-secreto/").status_code == 404
        assert c.post(ajeno + "probar/").status_code == 404
        assert c.get(ajeno + "entregas/").status_code == 404
        assert c.post(ajeno + "reenviar/", {"desde_secuencia": 1}).status_code == 404
    ids = {e["id"] for e in clientes["marca_x"].get(API).json()["results"]}
    assert ids == {str(mundo.ep_x.pk)}
    ids = {e["id"] for e in clientes["socio_a"].get(API).json()["results"]}
    assert ids == {str(mundo.ep_a.pk)}
    assert clientes["nadie"].get(API).json()["count"] == 0
    assert clientes["nadie"].post(API, {"url": URL_LOCAL, "eventos": ["*"]}).status_code == 403
    from rest_framework.test import APIClient

    assert APIClient().get(API).status_code == 401


@pytest.mark.parametrize(
    ("cuerpo", "campo"),
    [
        ({"url": "https://127.0.0.1/x", "eventos": ["*"]}, "url"),
        ({"url": "ftp://x.example.com/", "eventos": ["*"]}, "url"),
        ({"url": URL_LOCAL, "eventos": []}, "eventos"),
        ({"url": URL_LOCAL, "eventos": ["comision.inventada"]}, "eventos"),
        ({"url": URL_LOCAL, "eventos": ["*", "pago.pagado"]}, "eventos"),
        ({"url": URL_LOCAL, "eventos": ["ping"]}, "eventos"),
        ({"url": URL_LOCAL, "eventos": "comision.creada"}, "eventos"),
        ({"url": URL_LOCAL, "eventos": [{"a": 1}]}, "eventos[0]"),
        ({"url": URL_LOCAL, "eventos": ["*"] * 30}, "eventos"),
        ({"eventos": ["*"]}, "url"),
        ({"url": URL_LOCAL, "eventos": ["*"], "clase": "smtp"}, "clase"),
        ({"url": URL_LOCAL, "eventos": ["*"], "clase": "postback"}, "clase"),
        ({"url": URL_LOCAL, "eventos": ["*"], "marca": "no-es-uuid"}, "marca"),
    ],
)
def test_entrada_mala_es_400_nombrando_el_campo(mundo, clientes, cuerpo, campo, settings):
    settings.WEBHOOKS_PERMITIR_PRIVADAS = "127.0.0.1/x" not in str(cuerpo)
    antes = EndpointWebhook.objects.count()
    r = clientes["marca_x"].post(API, cuerpo, format="json")
    assert r.status_code == 400, r.content
    assert campo in r.json()["errors"], r.json()
    assert EndpointWebhook.objects.count() == antes


def test_postback_de_socio_con_plantilla(mundo, clientes):
    ok = "http://127.0.0.1:9/pb?c={click_id}&s={sub1}"
    r = clientes["socio_a"].post(API, {"url": ok, "clase": "postback"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["eventos"] == ["comision.creada", "recompensa.creada"]
    for mala in (
        "http://127.0.0.1:9/pb?c={nada}",
        "http://{click_id}.example.com/pb",
        "http://127.0.0.1:9/pb?c={click_id",
        "http://169.254.169.254/pb?c={click_id}",
    ):
        r = clientes["socio_a"].post(API, {"url": mala, "clase": "postback"}, format="json")
        assert r.status_code == 400 and "url" in r.json()["errors"], (mala, r.content)


def test_actualizar_rotar_probar_y_borrar(mundo, clientes):
    c = clientes["marca_x"]
    url = f"{API}{mundo.ep_x.pk}/"
    r = c.patch(url, {"eventos": ["pago.pagado"], "activo": False}, format="json")
    assert r.status_code == 200 and r.json()["eventos"] == ["pago.pagado"]
    assert c.patch(url, {"url": "gopher://x"}, format="json").status_code == 400
    assert c.post(url + "probar/").status_code == 409  # inactive
    c.patch(url, {"activo": True}, format="json")
    viejo = EndpointWebhook.objects.get(pk=mundo.ep_x.pk).secreto
    r = c.post(url + "rotar-secreto/")
    assert r.status_code == 200 and r.json()["secreto"] != viejo
    assert r.json()["secreto_anterior_expira_en"] is not None
    assert EndpointWebhook.objects.get(pk=mundo.ep_x.pk).secreto_anterior == viejo
    r = c.post(url + "probar/")
    assert r.status_code == 202 and r.json()["tipo"] == "ping" and r.json()["secuencia"] == 1
    assert c.delete(url).status_code == 204
    assert not EntregaWebhook.objects.filter(endpoint_id=mundo.ep_x.pk).exists()


def test_registro_de_entregas_paginado_filtrado_y_reenvios(mundo, clientes):
    c = clientes["socio_a"]
    for _ in range(5):
        services.endpoint_probar(endpoint=mundo.ep_a)
    url = f"{API}{mundo.ep_a.pk}/entregas/"
    pagina = c.get(url, {"page_size": 2}).json()
    assert [e["secuencia"] for e in pagina["results"]] == [5, 4]
    siguiente = c.get(pagina["next"]).json()
    assert [e["secuencia"] for e in siguiente["results"]] == [3, 2]
    filtrado = c.get(url, {"desde_secuencia": 2, "hasta_secuencia": 3}).json()
    assert [e["secuencia"] for e in filtrado["results"]] == [3, 2]
    assert c.get(url, {"estado": "raro"}).status_code == 400
    assert c.get(url, {"desde_secuencia": "x"}).status_code == 400
    assert c.get(url, {"cursor": "basura"}).status_code in (400, 404)
    r = c.post(f"{API}{mundo.ep_a.pk}/reenviar/", {"desde_secuencia": 2, "hasta_secuencia": 4})
    assert r.status_code == 202 and r.json() == {"reenviadas": 3}
    assert c.post(f"{API}{mundo.ep_a.pk}/reenviar/", {}).status_code == 400
    r = c.post(f"{API}{mundo.ep_a.pk}/reenviar/", {"desde_secuencia": 4, "hasta_secuencia": 2})
    assert r.status_code == 400 and "hasta_secuencia" in r.json()["errors"]
    assert c.post(f"{API}{mundo.ep_a.pk}/reenviar/", {"desde_secuencia": -1}).status_code == 400
    una = EntregaWebhook.objects.get(endpoint=mundo.ep_a, secuencia=1)
    r = c.post(f"{API}{mundo.ep_a.pk}/entregas/{una.pk}/reenviar/")
    assert r.status_code == 202 and r.json()["reenvios"] == 1
    assert c.post(f"{API}{mundo.ep_a.pk}/entregas/no-uuid/reenviar/").status_code == 404
    # Another endpoint's delivery through this endpoint's URL: 404.
    otra = services.endpoint_probar(endpoint=mundo.ep_b)
    assert c.post(f"{API}{mundo.ep_a.pk}/entregas/{otra.pk}/reenviar/").status_code == 404


# --- End to end through the real API paths (signals sent by main's services) ------------------
def test_aprobar_por_la_api_escribe_la_entrega(mundo, clientes, django_capture_on_commit_callbacks):
    comision = mundo.comision(pub=mundo.pub_b)
    with django_capture_on_commit_callbacks(execute=True):
        r = clientes["staff"].post(f"/api/v1/comisiones/{comision.pk}/aprobar/")
    assert r.status_code == 200, r.content
    for endpoint in (mundo.ep_y, mundo.ep_b):
        (entrega,) = EntregaWebhook.objects.filter(endpoint=endpoint)
        assert entrega.tipo == "comision.aprobada" and entrega.datos["estado"] == "aprobada"
    assert not EntregaWebhook.objects.filter(endpoint__in=[mundo.ep_x, mundo.ep_a]).exists()


def test_revertir_por_la_api_escribe_la_entrega(
    mundo, clientes, django_capture_on_commit_callbacks
):
    r1 = mundo.recompensa()
    with django_capture_on_commit_callbacks(execute=True):
        r = clientes["staff"].post(f"/api/v1/recompensas/{r1.pk}/revertir/", {"motivo": "test"})
    assert r.status_code == 200, r.content
    (entrega,) = EntregaWebhook.objects.filter(endpoint=mundo.ep_a)
    assert entrega.tipo == "recompensa.revertida" and entrega.datos["estado"] == "revertida"


def test_callback_de_pagos_escribe_pago_pagado(mundo, settings, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    from comision_recompensa.models import EstadoPago
    from comision_recompensa.pagos.services import pagos_generar

    settings.PAGOS_SECRETO = "s"
    comision_aprobada(mundo.socio_a, "60.00")  # above PAGO_MINIMO
    (pago,) = pagos_generar()
    Pago.objects.filter(pk=pago.pk).update(estado=EstadoPago.ENVIADO)
    cuerpo, firma = cuerpo_firmado(
        {
            "pago_id": str(pago.id),
            "estado": "pagado",
            "monto": str(pago.monto),
            "moneda": pago.moneda,
        },
        "s",
    )
    with django_capture_on_commit_callbacks(execute=True):
        r = APIClient().post(
            f"/api/v1/pagos/{pago.pk}/confirmacion/",
            data=cuerpo,
            content_type="application/json",
            HTTP_X_ALPES_FIRMA=firma,
        )
    assert r.status_code == 200, r.content
    (entrega,) = EntregaWebhook.objects.filter(endpoint=mundo.ep_a, tipo="pago.pagado")
    assert entrega.datos["id"] == str(pago.pk) and entrega.datos["estado"] == "pagado"
    assert not EntregaWebhook.objects.filter(endpoint=mundo.ep_x).exists()
    assert Comision.objects.filter(socio=mundo.socio_a).exists()
    assert uuid.UUID(entrega.datos["id"])
