"""POST /api/v1/pagos/{id}/confirmacion/: HMAC-signed callback; forged and replayed ones change
nothing."""

from __future__ import annotations

import json
import uuid

import pytest
from rest_framework.test import APIClient

from comision_recompensa.models import Comision, EstadoCredito, EstadoPago, Pago, Recompensa
from comision_recompensa.pagos.entrega import firmar
from comision_recompensa.pagos.services import pagos_generar
from comision_recompensa.tests.pagos_helpers import (
    ajuste,
    comision_aprobada,
    cuerpo_firmado,
    recompensa_aprobada,
)
from eventos_medios.tests.factories import SocioFactory

pytestmark = pytest.mark.django_db

SECRETO = "secreto-callback"


@pytest.fixture(autouse=True)
def _secreto(settings):
    settings.PAGOS_SECRETO = SECRETO


@pytest.fixture
def pago():
    socio = SocioFactory()
    comision_aprobada(socio, "10.00")
    comision_aprobada(socio, "5.00")
    recompensa_aprobada(socio, "2.00")
    ajuste(socio, "-1.00")
    (p,) = pagos_generar()
    Pago.objects.filter(id=p.id).update(estado=EstadoPago.ENVIADO)
    p.refresh_from_db()
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


def test_firma_valida_marca_pago_e_items_pagados(pago, django_capture_on_commit_callbacks):
    cuerpo, firma = cuerpo_firmado({"pago_id": str(pago.id), "estado": "pagado"}, SECRETO)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 200, r.content
    assert r.json() == {"pago_id": str(pago.id), "estado": "pagado", "cambiado": True}
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PAGADO
    assert pago.confirmado_en is not None
    assert _estados(pago) == (["pagada", "pagada"], ["pagada"])
    assert not Comision.objects.filter(pago=pago, pagado_en__isnull=True).exists()
    # comision_pagada ×2, recompensa_pagada ×1, pago_confirmado ×1.
    assert len(callbacks) == 4


def test_estado_por_defecto_es_pagado_y_acepta_pago_aun_pendiente(pago):
    # The component may call back before our "enviado" update is recorded.
    Pago.objects.filter(id=pago.id).update(estado=EstadoPago.PENDIENTE)
    cuerpo, firma = cuerpo_firmado({"pago_id": str(pago.id)}, SECRETO)
    assert _post(cuerpo, firma, pago.id).status_code == 200
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PAGADO


def test_replay_no_cambia_nada(pago):
    cuerpo, firma = cuerpo_firmado({"pago_id": str(pago.id), "estado": "pagado"}, SECRETO)
    assert _post(cuerpo, firma, pago.id).status_code == 200
    pago.refresh_from_db()
    confirmado_en = pago.confirmado_en
    pagado_en = list(Comision.objects.filter(pago=pago).values_list("pagado_en", flat=True))

    r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 200
    assert r.json()["cambiado"] is False
    pago.refresh_from_db()
    assert pago.confirmado_en == confirmado_en
    assert list(Comision.objects.filter(pago=pago).values_list("pagado_en", flat=True)) == pagado_en
    # A later "fallido" for a paid Pago is ignored too.
    cuerpo, firma = cuerpo_firmado({"pago_id": str(pago.id), "estado": "fallido"}, SECRETO)
    assert _post(cuerpo, firma, pago.id).json()["cambiado"] is False
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PAGADO


@pytest.mark.parametrize(
    "firma",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        "sha256=zz",
        "md5=abc",
        "otro-secreto",
    ],
)
def test_firma_falsa_o_ausente_es_403_y_no_cambia_nada(pago, firma, cliente_staff):
    cuerpo = json.dumps({"pago_id": str(pago.id), "estado": "pagado"}).encode()
    if firma == "otro-secreto":
        firma = firmar(cuerpo, "otro-secreto")
    # Even a staff token does not replace the signature.
    r = _post(cuerpo, firma, pago.id, cliente=cliente_staff)
    assert r.status_code == 403
    assert r.json()["code"] == "firma_invalida"
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.ENVIADO
    assert _estados(pago) == (["aprobada", "aprobada"], ["aprobada"])


def test_firma_de_otro_cuerpo_es_403(pago):
    _, firma = cuerpo_firmado({"pago_id": str(pago.id), "estado": "fallido"}, SECRETO)
    cuerpo = json.dumps({"pago_id": str(pago.id), "estado": "pagado"}).encode()
    assert _post(cuerpo, firma, pago.id).status_code == 403


def test_sin_secreto_configurado_todo_es_403(pago, settings):
    settings.PAGOS_SECRETO = ""
    cuerpo, firma = cuerpo_firmado({"pago_id": str(pago.id)}, "")
    assert _post(cuerpo, firma, pago.id).status_code == 403


def test_pago_id_distinto_del_de_la_url_es_400(pago):
    otro = uuid.uuid4()
    cuerpo, firma = cuerpo_firmado({"pago_id": str(otro)}, SECRETO)
    r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 400
    assert "pago_id" in r.json()["errors"]
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.ENVIADO


def test_pago_inexistente_es_404():
    otro = uuid.uuid4()
    cuerpo, firma = cuerpo_firmado({"pago_id": str(otro)}, SECRETO)
    assert _post(cuerpo, firma, otro).status_code == 404


@pytest.mark.parametrize(
    "cuerpo",
    [b"no es json", b"[1, 2]", b'{"pago_id": "x"}', b"{}", b'{"pago_id": null}'],
)
def test_cuerpo_invalido_firmado_es_400(pago, cuerpo):
    r = _post(cuerpo, firmar(cuerpo, SECRETO), pago.id)
    assert r.status_code == 400
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.ENVIADO


def test_estado_desconocido_es_400(pago):
    cuerpo, firma = cuerpo_firmado({"pago_id": str(pago.id), "estado": "borrado"}, SECRETO)
    r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 400
    assert "estado" in r.json()["errors"]


def test_rechazo_del_componente_lleva_al_dead_letter(pago):
    cuerpo, firma = cuerpo_firmado(
        {"pago_id": str(pago.id), "estado": "fallido", "motivo": "cuenta cerrada"}, SECRETO
    )
    r = _post(cuerpo, firma, pago.id)
    assert r.status_code == 200
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.FALLIDO
    assert "cuenta cerrada" in pago.ultimo_error
    assert _estados(pago) == (["aprobada", "aprobada"], ["aprobada"])


def test_item_revertido_mientras_tanto_queda_revertido(pago):
    c = Comision.objects.filter(pago=pago).first()
    Comision.objects.filter(id=c.id).update(estado=EstadoCredito.REVERTIDA)
    cuerpo, firma = cuerpo_firmado({"pago_id": str(pago.id)}, SECRETO)
    assert _post(cuerpo, firma, pago.id).status_code == 200
    assert _estados(pago) == (["pagada", "revertida"], ["pagada"])
