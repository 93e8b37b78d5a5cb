"""End to end: clicks and conversions posted over HTTP to a live server (PostgreSQL) are
attributed by a real Celery worker on Redis, and the expected commissions and rewards appear.

Skips cleanly without DATABASE_URL / REDIS_URL (the embedded SQLite default).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from comision_recompensa.models import Comision, Recompensa
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from conftest import token_para
from eventos_medios.models import EstadoAtribucion, Evento, TipoSocio
from eventos_medios.tests.factories import (
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)
from tests.procesos import esperar

pytestmark = pytest.mark.integration
D = Decimal


@pytest.fixture
def programa(entorno_procesos):
    """A brand on the linear model with an affiliate (A) and an influencer (B), both paid 10 %
    of ventas; A also earns 2.00 EUR per lead. Everything committed (transactional_db)."""
    marca = MarcaFactory(modelo_atribucion="lineal", ventana_atribucion_dias=30)
    usuario = UsuarioFactory()
    marca.usuarios.add(usuario)
    token = token_para(usuario)
    a = SocioFactory(tipo=TipoSocio.AFILIADO)
    b = SocioFactory(tipo=TipoSocio.INFLUENCER)
    pubs = {}
    for socio in (a, b):
        pubs[socio.pk] = PublicacionFactory(
            marca=marca,
            medio=MedioMarketingFactory(socio=socio),
            url_destino="https://tienda.example.com/oferta",
        )
        asociacion = AsociacionFactory(marca=marca, socio=socio)
        ReglaPagoFactory(asociacion=asociacion, tipo_evento="venta", valor=D("10.00"))
    ReglaPagoFactory(
        asociacion=AsociacionFactory._meta.model.objects.get(marca=marca, socio=a),
        tipo_evento="lead",
        modalidad="fijo",
        valor=D("2.00"),
    )
    return {"marca": marca, "token": token, "a": a, "b": b, "pubs": pubs}


def test_clicks_y_conversiones_por_http_acaban_en_comisiones_y_recompensas(
    servidor_vivo, worker_celery, programa
):
    marca, a, b = programa["marca"], programa["a"], programa["b"]
    api = requests.Session()
    api.headers["Authorization"] = f"Token {programa['token']}"
    base = servidor_vivo.url

    def evento(**cuerpo):
        respuesta = api.post(
            f"{base}/api/v1/eventos/", json={"marca": str(marca.pk), **cuerpo}, timeout=10
        )
        assert respuesta.status_code == 201, respuesta.text
        return respuesta.json()["id"]

    # 1. The visitor clicks A's tracking link (counted click, redirect carries apc_click)…
    codigo_a = programa["pubs"][a.pk].codigo
    navegador = {
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Safari/537.36"
    }
    r = requests.get(
        f"{base}/t/{codigo_a}?apc_vid=vis-1", headers=navegador, allow_redirects=False, timeout=10
    )
    assert r.status_code == 302, r.text
    click_a = parse_qs(urlparse(r.headers["Location"]).query)["apc_click"][0]
    # 2. A lead that follows A's click: 2.00 fixed to A (click_id wins over the visitor). It
    # carries the visitor too, so the brand binds A's click to vis-1 (the link's apc_vid
    # alone never makes a touchpoint: PRODUCT.md §8).
    lead = evento(tipo="lead", click_id=click_a, visitante_id="vis-1")
    # 3. …then B's post, reported by the brand's own redirector.
    evento(tipo="click", publicacion=str(programa["pubs"][b.pk].pk), visitante_id="vis-1")
    # 4. A sale by that visitor: linear model → 50/50 of 10 % of 200.00.
    venta = evento(
        tipo="venta",
        visitante_id="vis-1",
        valor="200.00",
        moneda="EUR",
        referencia_externa=f"pedido-{uuid.uuid4()}",
    )
    # 5. A batch: a sale with B's referral code (10 % of 50.00) and one nobody brought.
    lote = api.post(
        f"{base}/api/v1/eventos/lote/",
        json={
            "eventos": [
                {
                    "marca": str(marca.pk),
                    "tipo": "venta",
                    "codigo_referido": b.codigo_referido,
                    "valor": "50.00",
                    "moneda": "EUR",
                    "referencia_externa": f"pedido-{uuid.uuid4()}",
                },
                {
                    "marca": str(marca.pk),
                    "tipo": "venta",
                    "visitante_id": "nadie",
                    "valor": "80.00",
                    "moneda": "EUR",
                    "referencia_externa": f"pedido-{uuid.uuid4()}",
                },
            ]
        },
        timeout=10,
    )
    assert lote.status_code in (200, 201), lote.text
    venta_codigo, venta_huerfana = (x["id"] for x in lote.json()["resultados"])

    def atribuidos():
        return not Evento.objects.filter(
            marca=marca, estado_atribucion=EstadoAtribucion.PENDIENTE
        ).exists()

    esperar(atribuidos, timeout=45, intervalo=0.2, mensaje="every event attributed")

    def montos(modelo, evento_id):
        return {c.socio_id: c.monto for c in modelo.objects.filter(evento_id=evento_id)}

    assert montos(Comision, venta) == {a.pk: D("10.00")}
    assert montos(Recompensa, venta) == {b.pk: D("10.00")}
    assert montos(Comision, lead) == {a.pk: D("2.00")}
    assert montos(Recompensa, lead) == {}
    assert montos(Recompensa, venta_codigo) == {b.pk: D("5.00")}
    assert Evento.objects.get(pk=venta_huerfana).estado_atribucion == (
        EstadoAtribucion.SIN_ATRIBUCION
    )
    detalle = Comision.objects.get(evento_id=venta).detalle_atribucion
    assert detalle["modelo"] == "lineal" and detalle["credito"] == "0.500000"
    assert len(detalle["touchpoints"]) == 2
    # Clicks are touchpoints, not paid here: they leave the queue without a credit row.
    assert Evento.objects.get(pk=click_a).estado_atribucion == EstadoAtribucion.ATRIBUIDO
    assert Comision.objects.filter(evento_id=click_a).count() == 0
