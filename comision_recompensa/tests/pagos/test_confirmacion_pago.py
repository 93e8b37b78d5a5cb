"""POST /api/v1/pagos/{id}/confirmacion/ (PRODUCT.md §8, issue 10 finding 11): signed with a
timestamp, amount and currency checked, only a delivered Pago confirmed; forged, stale and
replayed callbacks change nothing."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest
import time_machine
from rest_framework.test import APIClient

from alpespartners import firmas
from comision_recompensa.models import Comision, EstadoCredito, EstadoPago, Pago, Recompensa
from comision_recompensa.pagos.services import pagos_generar
from comision_recompensa.tests.pagos_helpers import (
    ajuste,
    comision_aprobada,
    confirmacion,
    cuerpo_firmado,
    recompensa_aprobada,
)
from eventos_medios.tests.factories import SocioFactory

pytestmark = pytest.mark.django_db

SECRETO = "secreto-callback"


@pytest.fixture(autouse=True)
def _secreto(settings):
    settings.PAGOS_SECRETO = SECRETO
    settings.PAGOS_SECRETOS_ANTERIORES = []


@pytest.fixture
def pago(marca):
    socio = SocioFactory()
    comision_aprobada(socio, "10.00", marca=marca)
    comision_aprobada(socio, "5.00", marca=marca)
    recompensa_aprobada(socio, "2.00", marca=marca)
    ajuste(socio, "-1.00", marca=marca)
    (p,) = pagos_generar()
    Pago.objects.filter(id=p.id).update(estado=EstadoPago.ENVIADO)
    p.refresh_from_db()
    assert p.monto == 16  # 10 + 5 + 2 - 1
    return p


def _url(pago_id) -> str:
    return f"/api/v1/pagos/{pago_id}/confirmacion/"


def _post(cuerpo: bytes, firma: str | None, pago_id, cliente=None):
    extra = {"HTTP_X_ALPES_FIRMA": firma} if firma is not None else {}
    return (cliente or APIClient()).post(
        _url(pago_id), data=cuerpo, content_type="application/json", **extra
    )


def _estados(pago):
    return (
        sorted(Comision.objects.filter(pago=pago).values_list("estado", flat=True)),
        sorted(Recompensa.objects.filter(pago=pago).values_list("estado", flat=True)),
    )


def _sin_cambios(pago, estado=EstadoPago.ENVIADO):
    pago.refresh_from_db()
    assert pago.estado == estado
    assert pago.confirmado_en is None
    assert _estados(pago) == (["aprobada", "aprobada"], ["aprobada"])


def test_firma_valida_marca_pago_e_items_pagados(pago, django_capture_on_commit_callbacks):
    cuerpo, firma = cuerpo_firmado(confirmacion(pago), SECRETO)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 200, r.content
    assert r.json() == {"pago_id": str(pago.id), "estado": "pagado", "cambiado": True}
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PAGADO
    assert pago.confirmado_en is not None
    assert _estados(pago) == (["pagada", "pagada"], ["pagada"])
    assert not Comision.objects.filter(pago=pago, pagado_en__isnull=True).exists()
    # The report rollup is invalidated after commit for each paid item (3).
    assert len(callbacks) == 3


def test_sonda_del_informe_pago_pendiente_con_monto_falso_se_rechaza(marca):
    """Issue 10 finding 11: a signed {"estado": "pagado", "monto": "999999.00"} for a Pago still
    pendiente, never delivered, was accepted. Now: refused, nothing changes."""
    socio = SocioFactory()
    comision_aprobada(socio, "10.00", marca=marca)
    (pendiente,) = pagos_generar()
    Pago.objects.filter(id=pendiente.id).update(estado=EstadoPago.PENDIENTE)
    sondas = [
        {"estado": "pagado", "monto": "999999.00"},
        {"pago_id": str(pendiente.id), "estado": "pagado", "monto": "999999.00"},
        {"pago_id": str(pendiente.id), "estado": "pagado", "monto": "999999.00", "moneda": "EUR"},
        # Even with the right amount: it was never delivered.
        confirmacion(pendiente),
    ]
    for sonda in sondas:
        cuerpo, firma = cuerpo_firmado(sonda, SECRETO)
        r = _post(cuerpo, firma, pendiente.id)
        assert r.status_code in (400, 409), (sonda, r.content)
        pendiente.refresh_from_db()
        assert pendiente.estado == EstadoPago.PENDIENTE
        assert pendiente.confirmado_en is None
        assert Comision.objects.get(pago=pendiente).estado == EstadoCredito.APROBADA
    ultima = _post(*cuerpo_firmado(confirmacion(pendiente), SECRETO), pendiente.id).json()
    assert ultima["code"] == "pago_no_enviado"
    assert "estado" in ultima["errors"]


@pytest.mark.parametrize(
    ("cambio", "campo", "estado_http"),
    [
        ({"monto": "16.01"}, "monto", 409),
        ({"monto": "999999.00"}, "monto", 409),
        ({"moneda": "USD"}, "moneda", 409),
        ({"monto": None}, "monto", 400),
        ({"moneda": None}, "moneda", 400),
        ({"monto": "16.0000"}, "monto", 400),
        ({"monto": "1e3"}, "monto", 400),
        ({"monto": {"x": 1}}, "monto", 400),
    ],
)
def test_monto_y_moneda_deben_coincidir(pago, cambio, campo, estado_http):
    datos = {k: v for k, v in {**confirmacion(pago), **cambio}.items() if v is not None}
    r = _post(*cuerpo_firmado(datos, SECRETO), pago.id)
    assert r.status_code == estado_http, r.content
    assert campo in r.json()["errors"]
    _sin_cambios(pago)


def test_monto_como_numero_json_tambien_vale(pago):
    cuerpo = json.dumps({**confirmacion(pago), "monto": 16.00}).encode()
    r = _post(cuerpo, firmas.firmar(cuerpo, SECRETO), pago.id)
    assert r.status_code == 200, r.content


def test_replay_no_cambia_nada(pago):
    cuerpo, firma = cuerpo_firmado(confirmacion(pago), SECRETO)
    assert _post(cuerpo, firma, pago.id).status_code == 200
    pago.refresh_from_db()
    confirmado_en = pago.confirmado_en
    pagado_en = list(Comision.objects.filter(pago=pago).values_list("pagado_en", flat=True))

    r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 200
    assert r.json() == {"pago_id": str(pago.id), "estado": "pagado", "cambiado": False}
    pago.refresh_from_db()
    assert pago.confirmado_en == confirmado_en
    assert list(Comision.objects.filter(pago=pago).values_list("pagado_en", flat=True)) == pagado_en
    # A later "fallido" for a paid Pago is ignored too.
    cuerpo, firma = cuerpo_firmado(confirmacion(pago, "fallido"), SECRETO)
    assert _post(cuerpo, firma, pago.id).json()["cambiado"] is False
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PAGADO


@pytest.mark.reloj
def test_callback_capturado_no_se_puede_reproducir_pasados_5_minutos(pago):
    with time_machine.travel(dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        cuerpo, firma = cuerpo_firmado(confirmacion(pago), SECRETO)  # captured at 12:00:00
    with time_machine.travel(dt.datetime(2027, 3, 1, 12, 5, 1, tzinfo=dt.UTC), tick=False):
        r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 401
    assert r.json()["code"] == "firma_caducada"
    assert "X-Alpes-Firma" in r.json()["errors"]
    _sin_cambios(pago)
    # Within the window the same capture is still good (once: then it is a replay).
    with time_machine.travel(dt.datetime(2027, 3, 1, 12, 4, 59, tzinfo=dt.UTC), tick=False):
        assert _post(cuerpo, firma, pago.id).status_code == 200


@pytest.mark.reloj
def test_marca_de_tiempo_del_futuro_se_rechaza(pago):
    with time_machine.travel(dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        ahora = int(time.time())
        cuerpo, firma = cuerpo_firmado(confirmacion(pago), SECRETO, t=ahora + 301)
        r = _post(cuerpo, firma, pago.id)
        assert r.status_code == 401
        assert r.json()["code"] == "firma_futura"
        cuerpo, firma = cuerpo_firmado(confirmacion(pago), SECRETO, t=ahora + 299)
        assert _post(cuerpo, firma, pago.id).status_code == 200


def test_la_marca_de_tiempo_esta_firmada(pago):
    """Moving a captured signature to a fresh timestamp breaks it."""
    cuerpo, firma = cuerpo_firmado(confirmacion(pago), SECRETO, t=int(time.time()) - 600)
    hex_firma = firma.split("sha256=")[1]
    falsa = f"t={int(time.time())},sha256={hex_firma}"
    r = _post(cuerpo, falsa, pago.id)
    assert r.status_code == 401
    assert r.json()["code"] == "firma_invalida"
    _sin_cambios(pago)


@pytest.mark.parametrize(
    ("firma", "codigo"),
    [
        (None, "firma_ausente"),
        ("", "firma_ausente"),
        ("sha256=" + "0" * 64, "firma_malformada"),
        ("t=1700000000", "firma_malformada"),
        ("t=abc,sha256=" + "0" * 64, "firma_malformada"),
        ("t=1,t=2,sha256=" + "0" * 64, "firma_malformada"),
        ("t=NOW,sha256=zz", "firma_malformada"),
        ("md5=abc", "firma_malformada"),
        ("t=NOW,sha256=" + "0" * 64, "firma_invalida"),
        ("otro-secreto", "firma_invalida"),
    ],
)
def test_firma_falsa_o_ausente_es_401_y_no_cambia_nada(pago, firma, codigo, cliente_staff):
    cuerpo = json.dumps(confirmacion(pago)).encode()
    if firma == "otro-secreto":
        firma = firmas.firmar(cuerpo, "otro-secreto")
    elif firma:
        firma = firma.replace("NOW", str(int(time.time())))
    # Even a staff token does not replace the signature.
    r = _post(cuerpo, firma, pago.id, cliente=cliente_staff)
    assert r.status_code == 401
    assert r.json()["code"] == codigo
    _sin_cambios(pago)


def test_firma_de_otro_cuerpo_es_401(pago):
    _, firma = cuerpo_firmado(confirmacion(pago, "fallido"), SECRETO)
    cuerpo = json.dumps(confirmacion(pago)).encode()
    assert _post(cuerpo, firma, pago.id).status_code == 401
    _sin_cambios(pago)


def test_sin_secreto_configurado_todo_es_401(pago, settings):
    settings.PAGOS_SECRETO = ""
    cuerpo = json.dumps(confirmacion(pago)).encode()
    firma = f"t={int(time.time())},sha256=" + "0" * 64
    assert _post(cuerpo, firma, pago.id).status_code == 401
    _sin_cambios(pago)


def test_rotacion_acepta_el_secreto_anterior(pago, settings):
    settings.PAGOS_SECRETO = "secreto-nuevo"
    settings.PAGOS_SECRETOS_ANTERIORES = [SECRETO]
    cuerpo, firma = cuerpo_firmado(confirmacion(pago), SECRETO)
    assert _post(cuerpo, firma, pago.id).status_code == 200


def test_pago_id_distinto_del_de_la_url_es_400(pago):
    otro = uuid.uuid4()
    cuerpo, firma = cuerpo_firmado({**confirmacion(pago), "pago_id": str(otro)}, SECRETO)
    r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 400
    assert "pago_id" in r.json()["errors"]
    _sin_cambios(pago)


def test_pago_inexistente_es_404():
    otro = uuid.uuid4()
    datos = {"pago_id": str(otro), "estado": "pagado", "monto": "1.00", "moneda": "EUR"}
    cuerpo, firma = cuerpo_firmado(datos, SECRETO)
    assert _post(cuerpo, firma, otro).status_code == 404


@pytest.mark.parametrize(
    "cuerpo",
    [b"no es json", b"[1, 2]", b'{"pago_id": "x"}', b"{}", b'{"pago_id": null}'],
)
def test_cuerpo_invalido_firmado_es_400(pago, cuerpo):
    r = _post(cuerpo, firmas.firmar(cuerpo, SECRETO), pago.id)
    assert r.status_code == 400
    _sin_cambios(pago)


def test_estado_desconocido_o_ausente_es_400(pago):
    for estado in ("borrado", None):
        datos = {k: v for k, v in confirmacion(pago, estado).items() if v is not None}
        r = _post(*cuerpo_firmado(datos, SECRETO), pago.id)
        assert r.status_code == 400
        assert "estado" in r.json()["errors"]
    _sin_cambios(pago)


def test_rechazo_del_componente_lleva_al_dead_letter(pago):
    cuerpo, firma = cuerpo_firmado(confirmacion(pago, "fallido", motivo="cuenta cerrada"), SECRETO)
    r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 200
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.FALLIDO
    assert "cuenta cerrada" in pago.ultimo_error
    assert _estados(pago) == (["aprobada", "aprobada"], ["aprobada"])
    # Paying a dead letter needs staff to retry its delivery first.
    r = _post(*cuerpo_firmado(confirmacion(pago), SECRETO), pago.id)
    assert r.status_code == 409
    assert r.json()["code"] == "pago_no_enviado"


def test_item_revertido_mientras_tanto_queda_revertido(pago):
    c = Comision.objects.filter(pago=pago).first()
    Comision.objects.filter(id=c.id).update(estado=EstadoCredito.REVERTIDA)
    cuerpo, firma = cuerpo_firmado(confirmacion(pago), SECRETO)
    assert _post(cuerpo, firma, pago.id).status_code == 200
    assert _estados(pago) == (["pagada", "revertida"], ["pagada"])
