"""ControlCumplimiento (PRODUCT.md §9, issue 11 item 4): each control, the hold, the periodic
re-check, the re-check inside the delivery claim, staff's release, and what the partner and
the admin see."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import reverse

from comision_recompensa import signals
from comision_recompensa.contratos.services import contrato_aceptar, contrato_publicar_version
from comision_recompensa.models import (
    Comision,
    ControlCumplimiento,
    EstadoCredito,
    EstadoPago,
    Pago,
)
from comision_recompensa.pagos import controles as registro
from comision_recompensa.pagos import tasks as tareas_pagos
from comision_recompensa.pagos.controles import ResultadoControl, control
from comision_recompensa.pagos.cumplimiento import pago_aplicar_controles
from comision_recompensa.pagos.desarrollo.simulador import SimuladorPagos
from comision_recompensa.pagos.entrega import ResultadoEntrega, pago_entregar
from comision_recompensa.pagos.services import pago_liberar, pagos_generar
from comision_recompensa.pagos.tasks import revisar_pagos_retenidos
from comision_recompensa.tests.factories import AsociacionFactory, ComisionFactory
from comision_recompensa.tests.pagos_helpers import (
    IBAN_ENMASCARADO,
    IBAN_PRUEBA,
    comision_aprobada,
    perfil_completo,
)
from conftest import cliente_para
from eventos_medios.tests.factories import UsuarioFactory

pytestmark = pytest.mark.django_db

CONTROLES = ["contrato_aceptado", "datos_pago", "sin_revision_abierta", "socio_activo"]
SECRETO = "secreto-controles"


@pytest.fixture
def asociacion(socio, marca):
    return AsociacionFactory(socio=socio, marca=marca)


@pytest.fixture
def contrato(asociacion):
    return contrato_publicar_version(
        asociacion_id=asociacion.id, texto="Terms v1", por=None, origen="test"
    )


@pytest.fixture
def en_regla(socio, contrato):
    """Everything in order: contract accepted, complete payout profile."""
    contrato_aceptar(contrato_id=contrato.id, socio_id=socio.id, usuario_id=None, ip_hash="")
    perfil_completo(socio)


@pytest.fixture
def retenidas():
    recibidas: list[dict] = []

    def receptor(sender, **kwargs):
        kwargs.pop("signal")
        recibidas.append(kwargs)

    signals.pago_retenido.connect(receptor, weak=False, dispatch_uid="test-retenido")
    yield recibidas
    signals.pago_retenido.disconnect(dispatch_uid="test-retenido")


def _generar(socio, asociacion, monto="60.00"):
    comision_aprobada(socio, monto, marca=asociacion.marca, asociacion=asociacion)
    (pago,) = pagos_generar()
    return pago


def _controles(pago) -> dict[str, tuple[bool, str]]:
    return {c.control: (c.paso, c.detalle) for c in ControlCumplimiento.objects.filter(pago=pago)}


def test_todo_en_regla_pasa_y_queda_pendiente(socio, asociacion, en_regla, retenidas):
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.PENDIENTE
    resultados = _controles(pago)
    assert sorted(resultados) == sorted(CONTROLES)
    assert all(paso for paso, _ in resultados.values())
    assert "v1" in resultados["contrato_aceptado"][1]
    assert IBAN_ENMASCARADO in resultados["datos_pago"][1]
    assert retenidas == []


def test_contrato_sin_aceptar_retiene_y_dice_como_aceptarlo(socio, asociacion, contrato, retenidas):
    perfil_completo(socio)
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.RETENIDO
    paso, detalle = _controles(pago)["contrato_aceptado"]
    assert not paso
    assert f"/api/v1/contratos/{contrato.id}/aceptar/" in detalle
    assert asociacion.marca.nombre in detalle
    assert retenidas == [
        {
            "pago_id": pago.id,
            "controles_fallidos": ["contrato_aceptado"],
            "estado_anterior": "pendiente",
            "origen": "sistema:generar_pagos",
        }
    ]


def test_asociacion_sin_contrato_pasa(socio, asociacion):
    perfil_completo(socio)
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.PENDIENTE
    assert _controles(pago)["contrato_aceptado"] == (
        True,
        "No contract applies to this payout's agreements.",
    )


def test_nueva_version_retiene_hasta_aceptarla(socio, asociacion, en_regla):
    primero = _generar(socio, asociacion)
    assert primero.estado == EstadoPago.PENDIENTE
    v2 = contrato_publicar_version(asociacion_id=asociacion.id, texto="v2", por=None, origen="t")
    segundo = _generar(socio, asociacion)
    assert segundo.estado == EstadoPago.RETENIDO
    assert "version 2" in _controles(segundo)["contrato_aceptado"][1]
    contrato_aceptar(contrato_id=v2.id, socio_id=socio.id, usuario_id=None, ip_hash="")
    assert pago_aplicar_controles(pago_id=segundo.id, origen="t").estado == EstadoPago.PENDIENTE


@pytest.mark.parametrize(
    ("perfil", "esperado"),
    [
        (None, "No payout profile"),
        ({"titular": "", "pais": ""}, "missing titular, pais"),
        ({"referencia": "ES9121000418450200051333"}, "invalid referencia"),
    ],
)
def test_datos_de_pago_incompletos_retienen(socio, asociacion, perfil, esperado):
    if perfil is not None:
        perfil_completo(socio, **perfil)
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.RETENIDO
    paso, detalle = _controles(pago)["datos_pago"]
    assert not paso and esperado in detalle
    assert IBAN_PRUEBA[4:] not in detalle


def test_revision_abierta_de_esa_marca_retiene_y_la_de_otra_no(socio, asociacion, en_regla):
    # A credit of the same partner under review with ANOTHER brand: this Pago is not held.
    ComisionFactory(socio=socio, estado=EstadoCredito.EN_REVISION)
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.PENDIENTE
    # One with this brand: the next Pago is held.
    ComisionFactory(
        socio=socio, estado=EstadoCredito.EN_REVISION, evento__publicacion__marca=asociacion.marca
    )
    otro = _generar(socio, asociacion)
    assert otro.estado == EstadoPago.RETENIDO
    assert _controles(otro)["sin_revision_abierta"] == (
        False,
        "1 credit(s) of this partner are under review.",
    )


def test_socio_desactivado_retiene(socio, asociacion, en_regla):
    type(socio).objects.filter(id=socio.id).update(activo=False)
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.RETENIDO
    assert _controles(pago)["socio_activo"] == (False, "The partner is deactivated.")


def test_un_quinto_control_se_registra_sin_tocar_los_demas(socio, asociacion, en_regla):
    @control("limite_mensual")
    def limite_mensual(contexto):
        return ResultadoControl(contexto.moneda != "EUR", "EUR payouts paused this month.")

    try:
        pago = _generar(socio, asociacion)
    finally:
        del registro.CONTROLES["limite_mensual"]
    assert pago.estado == EstadoPago.RETENIDO
    assert _controles(pago)["limite_mensual"] == (False, "EUR payouts paused this month.")
    with pytest.raises(ValueError, match="already registered"):
        control("datos_pago")(limite_mensual)


def test_la_revision_periodica_reanuda_y_entrega(
    socio, asociacion, contrato, settings, django_capture_on_commit_callbacks, monkeypatch
):
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.RETENIDO
    assert set(n for n, (p, _) in _controles(pago).items() if not p) == {
        "contrato_aceptado",
        "datos_pago",
    }
    # Still failing: the re-check keeps it held.
    assert "0 back in the outbox, 1 still held" in revisar_pagos_retenidos()
    contrato_aceptar(contrato_id=contrato.id, socio_id=socio.id, usuario_id=None, ip_hash="")
    perfil_completo(socio)
    encolados: list[str] = []
    monkeypatch.setattr(tareas_pagos.enviar_pago, "delay", encolados.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 back in the outbox" in revisar_pagos_retenidos()
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PENDIENTE
    assert encolados == [str(pago.id)]  # the fast path is queued once it commits


def test_el_reclamo_de_entrega_vuelve_a_controlar(socio, asociacion, en_regla, settings):
    """A control that passed at generation, then a credit of that brand goes under review
    before delivery: the claim re-checks and holds the Pago; nothing is sent."""
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.PENDIENTE
    ComisionFactory(
        socio=socio, estado=EstadoCredito.EN_REVISION, evento__publicacion__marca=asociacion.marca
    )
    with SimuladorPagos(secreto=SECRETO) as simulador:
        settings.PAGOS_URL, settings.PAGOS_SECRETO = simulador.url, SECRETO
        assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.RETENIDO
        assert simulador.recibidos == 0
    pago.refresh_from_db()
    assert (pago.estado, pago.intentos) == (EstadoPago.RETENIDO, 0)


def test_liberado_por_staff_se_entrega_aunque_un_control_falle(
    socio, asociacion, contrato, staff, settings
):
    perfil_completo(socio)
    pago = _generar(socio, asociacion)
    assert pago.estado == EstadoPago.RETENIDO
    liberados: list[dict] = []
    signals.pago_liberado.connect(
        lambda sender, **kw: liberados.append(kw), weak=False, dispatch_uid="test-liberado"
    )
    try:
        pago = pago_liberar(pago_id=pago.id, por=staff.pk, motivo="signed on paper", origen="t")
    finally:
        signals.pago_liberado.disconnect(dispatch_uid="test-liberado")
    assert pago.estado == EstadoPago.PENDIENTE
    assert (pago.liberado_por_id, pago.motivo_liberacion) == (staff.pk, "signed on paper")
    assert pago.liberado_en is not None
    assert liberados[0]["controles_fallidos"] == ["contrato_aceptado"]
    assert liberados[0]["por"] == staff.pk and liberados[0]["motivo"] == "signed on paper"
    with SimuladorPagos(secreto=SECRETO) as simulador:
        settings.PAGOS_URL, settings.PAGOS_SECRETO = simulador.url, SECRETO
        assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.ENVIADO
    # The controls still ran and still say what fails.
    assert _controles(pago)["contrato_aceptado"][0] is False


def test_un_receptor_de_pago_retenido_que_falla_deshace_la_generacion(socio, asociacion):
    def auditoria_rota(sender, **kwargs):
        raise RuntimeError("audit down")

    credito = comision_aprobada(socio, "60.00", marca=asociacion.marca, asociacion=asociacion)
    signals.pago_retenido.connect(auditoria_rota, weak=False, dispatch_uid="rota")
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            pagos_generar()
    finally:
        signals.pago_retenido.disconnect(dispatch_uid="rota")
    assert not Pago.objects.exists()
    credito.refresh_from_db()
    assert credito.pago_id is None


# --- API --------------------------------------------------------------------------------------
def test_el_socio_ve_por_que_su_pago_esta_retenido(socio, asociacion, contrato, cliente_socio):
    pago = _generar(socio, asociacion)
    datos = cliente_socio.get(f"/api/v1/pagos/{pago.id}/").json()
    assert datos["estado"] == "retenido"
    assert datos["marca"] == str(asociacion.marca_id)
    fallidos = {c["control"]: c["detalle"] for c in datos["controles"] if not c["paso"]}
    assert set(fallidos) == {"contrato_aceptado", "datos_pago"}
    assert f"/api/v1/contratos/{contrato.id}/aceptar/" in fallidos["contrato_aceptado"]
    assert datos["liberacion"] is None
    lista = cliente_socio.get("/api/v1/pagos/", {"estado": "retenido"}).json()
    assert [f["id"] for f in lista["results"]] == [str(pago.id)]


def test_liberar_por_api(socio, asociacion, contrato, cliente_staff, staff, cliente_socio):
    pago = _generar(socio, asociacion)
    url = f"/api/v1/pagos/{pago.id}/liberar/"
    sin_motivo = cliente_staff.post(url, {"motivo": "  "}, format="json")
    assert sin_motivo.status_code == 400 and "motivo" in sin_motivo.json()["errors"]
    assert cliente_staff.post(url, {}, format="json").status_code == 400
    r = cliente_staff.post(url, {"motivo": "contract signed on paper"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["estado"] == "pendiente"
    assert r.json()["liberacion"]["por"] == staff.pk
    assert r.json()["liberacion"]["motivo"] == "contract signed on paper"
    # The partner sees that it was released, not staff's note nor who.
    visto = cliente_socio.get(f"/api/v1/pagos/{pago.id}/").json()["liberacion"]
    assert visto["liberado_en"] and visto["por"] is None and visto["motivo"] == ""
    otra = cliente_staff.post(url, {"motivo": "again"}, format="json")
    assert otra.status_code == 409 and otra.json()["code"] == "transicion_invalida"


def test_solo_staff_libera(socio, asociacion, contrato, cliente_socio, cliente_marca):
    pago = _generar(socio, asociacion)
    url = f"/api/v1/pagos/{pago.id}/liberar/"
    asociacion.marca.usuarios.add(UsuarioFactory())
    for cliente in (cliente_socio, cliente_marca, cliente_para(UsuarioFactory())):
        assert cliente.post(url, {"motivo": "please"}, format="json").status_code in (403, 404)
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.RETENIDO and pago.liberado_en is None


def test_la_marca_ve_los_controles_de_su_programa(socio, asociacion, contrato, cliente_marca):
    pago = _generar(socio, asociacion)
    datos = cliente_marca.get(f"/api/v1/pagos/{pago.id}/").json()
    assert {c["control"] for c in datos["controles"]} == set(CONTROLES)
    assert IBAN_PRUEBA not in str(datos)


# --- Admin ----------------------------------------------------------------------------------------
@pytest.fixture
def admin_cliente(client, staff):
    client.force_login(staff)
    return client


def test_admin_muestra_controles_y_libera_con_motivo(
    admin_cliente, socio, asociacion, contrato, staff
):
    perfil_completo(socio)
    pago = _generar(socio, asociacion)
    lista = admin_cliente.get(reverse("admin:comision_recompensa_pago_changelist")).content.decode()
    assert "contrato_aceptado" in lista
    detalle = admin_cliente.get(
        reverse("admin:comision_recompensa_pago_change", args=[pago.id])
    ).content.decode()
    assert "compliance controls" in detalle.lower() and "Not accepted" in detalle
    assert IBAN_PRUEBA not in detalle  # the frozen payout details are never shown

    url = reverse("admin:comision_recompensa_pago_changelist")
    pregunta = admin_cliente.post(url, {"action": "liberar", "_selected_action": [str(pago.id)]})
    assert pregunta.status_code == 200 and "Release held Pagos" in pregunta.content.decode()
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.RETENIDO
    vacio = admin_cliente.post(
        url,
        {"action": "liberar", "_selected_action": [str(pago.id)], "confirmar": "1", "motivo": ""},
    )
    assert vacio.status_code == 200
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.RETENIDO
    hecho = admin_cliente.post(
        url,
        {
            "action": "liberar",
            "_selected_action": [str(pago.id)],
            "confirmar": "1",
            "motivo": "paper contract on file",
        },
    )
    assert hecho.status_code == 302
    assert "1 Pagos released." in [str(m) for m in get_messages(hecho.wsgi_request)]
    pago.refresh_from_db()
    assert (pago.estado, pago.liberado_por_id) == (EstadoPago.PENDIENTE, staff.pk)


def test_admin_revisar_controles(admin_cliente, socio, asociacion, contrato):
    perfil_completo(socio)
    pago = _generar(socio, asociacion)
    contrato_aceptar(contrato_id=contrato.id, socio_id=socio.id, usuario_id=None, ip_hash="")
    r = admin_cliente.post(
        reverse("admin:comision_recompensa_pago_changelist"),
        {"action": "revisar_controles", "_selected_action": [str(pago.id)]},
    )
    assert "Controls re-checked (pendiente: 1)." in [str(m) for m in get_messages(r.wsgi_request)]
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PENDIENTE
    assert Comision.objects.get(pago=pago).estado == EstadoCredito.APROBADA
