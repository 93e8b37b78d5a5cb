"""Subscriptions are receivers of the domain signals (SENALES contract): each signal, sent
inside the transaction of its change with the contract's kwargs, writes one delivery per
subscribed endpoint of the brand and of the partner — atomically, numbered without gaps, and
never to another tenant."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction

from alpespartners.senales import enviar_en_transaccion
from comision_recompensa import signals
from comision_recompensa.models import (
    Comision,
    EndpointWebhook,
    EntregaWebhook,
    EstadoEntrega,
    Pago,
    Recompensa,
)
from comision_recompensa.tests.factories import PagoFactory
from comision_recompensa.tests.webhooks.conftest import URL_LOCAL
from comision_recompensa.webhooks import services
from eventos_medios.tests.factories import EventoFactory

pytestmark = pytest.mark.django_db


def _enviar(senal, sender, **kwargs):
    with transaction.atomic():
        enviar_en_transaccion(senal, sender=sender, **kwargs)


def _entregas(endpoint, tipo=None):
    qs = EntregaWebhook.objects.filter(endpoint=endpoint).order_by("secuencia")
    return list(qs.filter(tipo=tipo) if tipo else qs)


def test_creditos_creados_llega_a_la_marca_y_al_socio_y_a_nadie_mas(mundo):
    c1, c2 = mundo.comision(), mundo.comision()
    _enviar(signals.creditos_creados, Comision, clase="comision", credito_ids=[c1.pk, c2.pk])
    for endpoint in (mundo.ep_x, mundo.ep_a):
        entregas = _entregas(endpoint)
        assert [e.tipo for e in entregas] == ["comision.creada"] * 2
        assert [e.secuencia for e in entregas] == [1, 2]
        assert [e.datos["id"] for e in entregas] == [str(c1.pk), str(c2.pk)]
    assert _entregas(mundo.ep_y) == [] and _entregas(mundo.ep_b) == []


@pytest.mark.parametrize(
    ("senal", "kwargs", "tipo"),
    [
        (signals.comision_aprobada, {"por": None, "origen": "api"}, "comision.aprobada"),
        (
            signals.comision_revertida,
            {"motivo": "x", "por": None, "origen": "api"},
            "comision.revertida",
        ),
        (
            signals.credito_en_revision,
            {
                "clase": "comision",
                "regla": "autorreferido",
                "evidencia": {"ip": "h"},
                "por": None,
                "origen": "sistema:revision",
            },
            "credito.en_revision",
        ),
        (
            signals.credito_revision_descartada,
            {"clase": "comision", "por": 1, "motivo": "ok"},
            "credito.revision_descartada",
        ),
        (
            signals.credito_reembolsado,
            {
                "clase": "comision",
                "reembolso_id": uuid.uuid4(),
                "monto_anterior": Decimal("12.00"),
                "monto_nuevo": Decimal("6.00"),
                "parcial": True,
            },
            "credito.reembolsado",
        ),
    ],
)
def test_cada_senal_de_comision_da_su_tipo(mundo, senal, kwargs, tipo):
    comision = mundo.comision(pub=mundo.pub_b)
    _enviar(senal, Comision, credito_id=comision.pk, **kwargs)
    for endpoint in (mundo.ep_y, mundo.ep_b):
        (entrega,) = _entregas(endpoint)
        assert entrega.tipo == tipo
        assert entrega.datos["id"] == str(comision.pk)
        assert entrega.datos["socio_id"] == str(mundo.socio_b.pk)
        assert entrega.datos["marca_id"] == str(mundo.marca_y.pk)
    assert _entregas(mundo.ep_x) == [] and _entregas(mundo.ep_a) == []
    datos = _entregas(mundo.ep_b)[0].datos
    assert "evidencia" not in datos and "motivo" not in datos and "detalle_atribucion" not in datos
    if tipo == "credito.reembolsado":
        assert datos["monto_anterior"] == "12.00" and datos["parcial"] is True
    if tipo == "credito.en_revision":
        assert datos["regla"] == "autorreferido"


def test_recompensas_dan_tipos_recompensa(mundo):
    r = mundo.recompensa()
    _enviar(signals.creditos_creados, Recompensa, clase="recompensa", credito_ids=[r.pk])
    _enviar(signals.recompensa_aprobada, Recompensa, credito_id=r.pk, por=None, origen="api")
    _enviar(
        signals.recompensa_revertida,
        Recompensa,
        credito_id=r.pk,
        motivo="m",
        por=None,
        origen="api",
    )
    assert [e.tipo for e in _entregas(mundo.ep_a)] == [
        "recompensa.creada",
        "recompensa.aprobada",
        "recompensa.revertida",
    ]
    assert [e.secuencia for e in _entregas(mundo.ep_a)] == [1, 2, 3]


def test_un_credito_repartido_no_filtra_al_otro_socio(mundo):
    """One venta of marca_x credited to A and B: the brand receives both credits; each partner
    only its own, and no datos of A's mentions B."""
    venta = mundo.venta(mundo.pub_a)
    ca = mundo.comision(evento=venta, socio=mundo.socio_a)
    cb = mundo.comision(evento=venta, socio=mundo.socio_b)
    _enviar(signals.creditos_creados, Comision, clase="comision", credito_ids=[ca.pk, cb.pk])
    assert {e.datos["id"] for e in _entregas(mundo.ep_x)} == {str(ca.pk), str(cb.pk)}
    assert [e.datos["id"] for e in _entregas(mundo.ep_a)] == [str(ca.pk)]
    assert [e.datos["id"] for e in _entregas(mundo.ep_b)] == [str(cb.pk)]
    assert _entregas(mundo.ep_y) == []  # B's brand is not this event's brand
    for entrega in _entregas(mundo.ep_a):
        assert str(mundo.socio_b.pk) not in str(entrega.datos)
        assert str(cb.pk) not in str(entrega.datos)


def test_suscripcion_por_tipo_e_inactivos(mundo):
    solo_aprobadas = services.endpoint_crear(
        socio=mundo.socio_a, url=URL_LOCAL, eventos=["comision.aprobada"]
    )
    apagado = services.endpoint_crear(
        socio=mundo.socio_a, url=URL_LOCAL, eventos=["*"], activo=False
    )
    c = mundo.comision()
    _enviar(signals.creditos_creados, Comision, clase="comision", credito_ids=[c.pk])
    _enviar(signals.comision_aprobada, Comision, credito_id=c.pk, por=None, origen="api")
    assert [e.tipo for e in _entregas(solo_aprobadas)] == ["comision.aprobada"]
    assert _entregas(solo_aprobadas)[0].secuencia == 1
    assert _entregas(apagado) == []


def test_un_cambio_deshecho_no_deja_entregas_ni_hueco(mundo):
    c = mundo.comision()
    with pytest.raises(RuntimeError), transaction.atomic():
        enviar_en_transaccion(
            signals.creditos_creados, sender=Comision, clase="comision", credito_ids=[c.pk]
        )
        assert len(_entregas(mundo.ep_a)) == 1
        raise RuntimeError("the change fails after the receivers ran")
    assert _entregas(mundo.ep_a) == []
    assert EndpointWebhook.objects.get(pk=mundo.ep_a.pk).secuencia_actual == 0
    _enviar(signals.creditos_creados, Comision, clase="comision", credito_ids=[c.pk])
    assert [e.secuencia for e in _entregas(mundo.ep_a)] == [1]


def test_secuencia_sin_huecos_en_muchos_envios(mundo):
    for _ in range(12):
        c = mundo.comision()
        _enviar(signals.comision_aprobada, Comision, credito_id=c.pk, por=None, origen="api")
    assert [e.secuencia for e in _entregas(mundo.ep_a)] == list(range(1, 13))
    assert EndpointWebhook.objects.get(pk=mundo.ep_a.pk).secuencia_actual == 12


def test_pagos_van_al_socio(mundo):
    pago = PagoFactory(socio=mundo.socio_a)
    _enviar(signals.pago_retenido, Pago, pago_id=pago.pk, controles_fallidos=["datos_pago"])
    _enviar(signals.pago_liberado, Pago, pago_id=pago.pk, por=1, motivo="ok")
    _enviar(signals.pago_enviado, Pago, pago_id=pago.pk)
    _enviar(signals.pago_confirmado, Pago, pago_id=pago.pk)
    _enviar(signals.pago_fallido, Pago, pago_id=pago.pk, error="rechazado")
    entregas = _entregas(mundo.ep_a)
    assert [e.tipo for e in entregas] == [
        "pago.retenido",
        "pago.liberado",
        "pago.enviado",
        "pago.pagado",
        "pago.fallido",
    ]
    assert entregas[0].datos["controles_fallidos"] == ["datos_pago"]
    assert entregas[0].datos["monto"] == "10.00" and entregas[0].datos["id"] == str(pago.pk)
    assert "error" not in entregas[-1].datos
    # A Pago without a brand of its own (it spans the partner's brands) goes to no brand.
    assert _entregas(mundo.ep_x) == [] and _entregas(mundo.ep_b) == []


def test_contrato_aceptado_va_al_socio(mundo):
    contrato_id, aceptacion_id = uuid.uuid4(), uuid.uuid4()
    _enviar(
        signals.contrato_aceptado,
        EndpointWebhook,
        contrato_id=contrato_id,
        aceptacion_id=aceptacion_id,
        socio_id=mundo.socio_b.pk,
    )
    (entrega,) = _entregas(mundo.ep_b)
    assert entrega.tipo == "contrato.aceptado"
    assert entrega.datos["contrato_id"] == str(contrato_id)
    assert _entregas(mundo.ep_a) == []


# --- Postbacks ---------------------------------------------------------------------------
@pytest.fixture
def postback(mundo):
    return services.endpoint_crear(
        socio=mundo.socio_a,
        clase="postback",
        url="http://127.0.0.1:9/pb?cid={click_id}&ev={evento_id}&t={tipo}&m={monto}"
        "&c={moneda}&v={valor}&s1={sub1}&s5={sub5}",
    )


def test_postback_al_acreditar_con_macros_y_subs_del_click(mundo, postback):
    click = EventoFactory(publicacion=mundo.pub_a, metadata={"sub1": "camp aña&x", "sub5": "z"})
    venta = mundo.venta(mundo.pub_a, click=click)
    c = mundo.comision(evento=venta)
    _enviar(signals.creditos_creados, Comision, clase="comision", credito_ids=[c.pk])
    (entrega,) = _entregas(postback)
    assert entrega.estado == EstadoEntrega.PENDIENTE
    assert entrega.url == (
        f"http://127.0.0.1:9/pb?cid={click.pk}&ev={venta.pk}&t=venta&m=12.00&c=EUR&v=120.00"
        "&s1=camp%20a%C3%B1a%26x&s5=z"
    )
    assert _entregas(mundo.ep_b) == []


def test_postback_espera_la_revision_y_sale_solo_si_se_descarta(mundo, postback):
    c1, c2 = mundo.comision(), mundo.comision()
    _enviar(signals.creditos_creados, Comision, clase="comision", credito_ids=[c1.pk, c2.pk])
    for c in (c1, c2):
        _enviar(
            signals.credito_en_revision,
            Comision,
            clase="comision",
            credito_id=c.pk,
            regla="conversion_rapida",
            evidencia={},
            por=None,
            origen="sistema",
        )
    assert {e.estado for e in _entregas(postback)} == {EstadoEntrega.RETENIDA}
    _enviar(
        signals.credito_revision_descartada,
        Comision,
        clase="comision",
        credito_id=c1.pk,
        por=1,
        motivo="legit",
    )
    _enviar(
        signals.credito_revision_confirmada,
        Comision,
        clase="comision",
        credito_id=c2.pk,
        por=1,
        motivo="fraud",
    )
    estados = {e.credito_id: e.estado for e in _entregas(postback)}
    assert estados == {c1.pk: EstadoEntrega.PENDIENTE, c2.pk: EstadoEntrega.CANCELADA}


def test_postback_de_un_credito_ya_en_revision_nace_retenido(mundo, postback, monkeypatch):
    """A review rule's receiver ran first: the credit is already `en_revision` when read (the
    state lands with the review work; here the read is made to see it)."""
    from dataclasses import replace

    from comision_recompensa.webhooks import publicar

    original = publicar.creditos_hechos

    def en_revision(**kw):
        return [replace(h, datos={**h.datos, "estado": "en_revision"}) for h in original(**kw)]

    monkeypatch.setattr(publicar, "creditos_hechos", en_revision)
    c = mundo.comision()
    _enviar(signals.creditos_creados, Comision, clase="comision", credito_ids=[c.pk])
    assert [e.estado for e in _entregas(postback)] == [EstadoEntrega.RETENIDA]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_dos_transacciones_del_mismo_endpoint_se_serializan_y_un_rollback_no_deja_hueco(mundo):
    """T1 takes a number and holds its transaction; T2 for the same endpoint waits on the
    counter row; T1 rolls back; T2 gets number 1."""
    c1, c2 = mundo.comision(), mundo.comision()
    tomada, soltar, t2_hecha = threading.Event(), threading.Event(), threading.Event()
    resultado = {}

    def t1():
        try:
            with transaction.atomic():
                enviar_en_transaccion(signals.comision_aprobada, sender=Comision, credito_id=c1.pk)
                tomada.set()
                soltar.wait(10)
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
        finally:
            connection.close()

    def t2():
        try:
            tomada.wait(10)
            with transaction.atomic():
                enviar_en_transaccion(signals.comision_aprobada, sender=Comision, credito_id=c2.pk)
            resultado["secuencias"] = [e.secuencia for e in _entregas(mundo.ep_a)]
        finally:
            t2_hecha.set()
            connection.close()

    h1, h2 = threading.Thread(target=t1), threading.Thread(target=t2)
    h1.start()
    h2.start()
    tomada.wait(10)
    assert not t2_hecha.wait(0.5)  # blocked on the counter row while T1 holds it
    soltar.set()
    h1.join(10)
    h2.join(10)
    assert resultado["secuencias"] == [1]
    assert EndpointWebhook.objects.get(pk=mundo.ep_a.pk).secuencia_actual == 1
