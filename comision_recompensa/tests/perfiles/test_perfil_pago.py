"""Payout profile (PRODUCT.md §9, issue 11 item 2): the partner edits its own, validation names
the field, the reference is masked everywhere (API, admin, logs, signals) and only staff reveal
it, deliberately and on the record."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from comision_recompensa import signals
from comision_recompensa.models import PerfilPago
from comision_recompensa.perfiles.validacion import referencia_enmascarar
from comision_recompensa.tests.pagos_helpers import IBAN_ENMASCARADO, IBAN_PRUEBA, perfil_completo
from conftest import cliente_para
from eventos_medios.tests.factories import SocioFactory, UsuarioFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/perfil-pago/"
COMPLETO = {
    "titular": "Ana Pérez",
    "metodo": "transferencia",
    "referencia": "es91 2100 0418 4502 0005 1332",
    "pais": "es",
    "identificacion_fiscal": "12345678Z",
}


def _staff_url(socio, revelar: bool = False) -> str:
    return f"/api/v1/socios/{socio.id}/perfil-pago/" + ("revelar/" if revelar else "")


@pytest.fixture
def capturadas():
    recibidas: list[tuple[str, dict]] = []

    def receptor(sender, signal, **kwargs):
        recibidas.append(
            ("cambiado" if signal is signals.perfil_pago_cambiado else "revelado", kwargs)
        )

    for senal in (signals.perfil_pago_cambiado, signals.perfil_pago_revelado):
        senal.connect(receptor, weak=False, dispatch_uid=f"test-perfil-{id(senal)}")
    yield recibidas
    for senal in (signals.perfil_pago_cambiado, signals.perfil_pago_revelado):
        senal.disconnect(dispatch_uid=f"test-perfil-{id(senal)}")


def test_sin_perfil_se_ve_vacio_e_incompleto(cliente_socio, socio):
    datos = cliente_socio.get(URL).json()
    assert datos["socio"] == str(socio.id)
    assert datos["completo"] is False
    assert datos["faltan"] == ["titular", "metodo", "referencia", "pais", "identificacion_fiscal"]
    assert not PerfilPago.objects.exists()


def test_el_socio_rellena_su_perfil_y_lo_ve_enmascarado(cliente_socio, socio, capturadas):
    r = cliente_socio.put(URL, COMPLETO, format="json")
    assert r.status_code == 200, r.content
    datos = r.json()
    assert datos["referencia_enmascarada"] == IBAN_ENMASCARADO
    assert "referencia" not in datos
    assert IBAN_PRUEBA not in r.content.decode()
    assert (datos["pais"], datos["completo"], datos["faltan"]) == ("ES", True, [])
    perfil = PerfilPago.objects.get(socio=socio)
    assert perfil.referencia == IBAN_PRUEBA  # normalised: no spaces, upper case
    assert cliente_socio.get(URL).json() == datos
    # The change is signalled with masked values only, and who did it.
    ((nombre, kwargs),) = capturadas
    assert nombre == "cambiado"
    assert kwargs["socio_id"] == socio.id and kwargs["por"] == socio.usuario_id
    assert kwargs["origen"] == "api"
    assert kwargs["antes"]["referencia"] == ""
    assert kwargs["despues"]["referencia"] == IBAN_ENMASCARADO
    assert IBAN_PRUEBA not in str(kwargs)


def test_put_sin_cambios_no_senala(cliente_socio, capturadas):
    cliente_socio.put(URL, COMPLETO, format="json")
    cliente_socio.put(URL, COMPLETO, format="json")
    assert len(capturadas) == 1


@pytest.mark.parametrize(
    ("cambio", "campo"),
    [
        ({"referencia": "ES9121000418450200051333"}, "referencia"),  # check digits
        ({"referencia": "ES91210004184502"}, "referencia"),  # length
        ({"metodo": "paypal", "referencia": "no-es-un-email"}, "referencia"),
        ({"metodo": "bitcoin"}, "metodo"),
        ({"pais": "XX"}, "pais"),
        ({"pais": "ESP"}, "pais"),
        ({"identificacion_fiscal": "<script>"}, "identificacion_fiscal"),
        ({"titular": "x" * 201}, "titular"),
        ({"titular": {"a": 1}}, "titular"),
        ({"metodo": "", "referencia": IBAN_PRUEBA}, "metodo"),
        ({"banco": "X"}, "banco"),
    ],
)
def test_datos_invalidos_son_400_nombrando_el_campo(cliente_socio, cambio, campo):
    r = cliente_socio.put(URL, {**COMPLETO, **cambio}, format="json")
    assert r.status_code == 400, r.content
    assert campo in r.json()["errors"]
    assert not PerfilPago.objects.exists()


def test_patch_cambia_solo_lo_enviado_y_valida_el_conjunto(cliente_socio, socio):
    cliente_socio.put(URL, COMPLETO, format="json")
    r = cliente_socio.patch(URL, {"titular": "Ana P."}, format="json")
    assert r.status_code == 200 and r.json()["titular"] == "Ana P."
    assert PerfilPago.objects.get().referencia == IBAN_PRUEBA
    # Switching to PayPal without a new reference: the IBAN is not an e-mail.
    r = cliente_socio.patch(URL, {"metodo": "paypal"}, format="json")
    assert r.status_code == 400 and "referencia" in r.json()["errors"]
    r = cliente_socio.patch(
        URL, {"metodo": "paypal", "referencia": "Ana.Perez@Example.COM"}, format="json"
    )
    assert r.status_code == 200
    assert r.json()["referencia_enmascarada"] == "A***@example.com"
    assert PerfilPago.objects.get().referencia == "Ana.Perez@example.com"
    # PUT replaces: what is not sent becomes empty (an incomplete profile is allowed).
    r = cliente_socio.put(URL, {"titular": "Solo titular"}, format="json")
    assert r.status_code == 200
    assert r.json()["completo"] is False
    assert set(r.json()["faltan"]) == {"metodo", "referencia", "pais", "identificacion_fiscal"}


def test_cuerpo_que_no_es_objeto_es_400(cliente_socio):
    assert cliente_socio.put(URL, [1, 2], format="json").status_code == 400


def test_quien_no_es_socio_no_tiene_perfil_propio(cliente_marca, cliente_staff, cliente_anonimo):
    for cliente in (cliente_marca, cliente_staff):
        r = cliente.get(URL)
        assert r.status_code == 403
        assert cliente.put(URL, COMPLETO, format="json").status_code == 403
    assert cliente_anonimo.get(URL).status_code == 401
    assert not PerfilPago.objects.exists()


def test_staff_lee_y_edita_el_de_cualquier_socio(cliente_staff, staff, capturadas):
    socio = SocioFactory()
    r = cliente_staff.put(_staff_url(socio), COMPLETO, format="json")
    assert r.status_code == 200
    assert r.json()["referencia_enmascarada"] == IBAN_ENMASCARADO
    assert cliente_staff.get(_staff_url(socio)).json()["completo"] is True
    assert capturadas[0][1]["por"] == staff.pk
    assert (
        cliente_staff.get(
            "/api/v1/socios/00000000-0000-0000-0000-000000000000/perfil-pago/"
        ).status_code
        == 404
    )
    mal = cliente_staff.get("/api/v1/socios/no-es-uuid/perfil-pago/")
    assert mal.status_code == 404 and mal["Content-Type"].startswith("application/json")


def test_socio_y_marca_no_usan_la_ruta_de_staff(cliente_socio, socio, cliente_marca):
    perfil_completo(socio)
    for cliente in (cliente_socio, cliente_marca):
        assert cliente.get(_staff_url(socio)).status_code == 403
        assert cliente.patch(_staff_url(socio), {"titular": "x"}, format="json").status_code == 403
        assert cliente.post(_staff_url(socio, revelar=True)).status_code == 403
    assert PerfilPago.objects.get().titular != "x"


def test_revelar_solo_staff_y_queda_registrado(cliente_staff, staff, socio, capturadas):
    perfil_completo(socio)
    r = cliente_staff.post(_staff_url(socio, revelar=True), {"motivo": "bank asked"}, format="json")
    assert r.status_code == 200
    assert r.json()["referencia"] == IBAN_PRUEBA
    assert r["Cache-Control"] == "no-store"
    assert capturadas == [
        (
            "revelado",
            {"socio_id": socio.id, "por": staff.pk, "motivo": "bank asked", "origen": "api"},
        )
    ]
    sin_perfil = SocioFactory()
    assert cliente_staff.post(_staff_url(sin_perfil, revelar=True)).status_code == 404


def test_si_la_auditoria_falla_la_referencia_no_se_muestra(cliente_staff, socio):
    perfil_completo(socio)

    def auditoria_rota(sender, **kwargs):
        raise RuntimeError("audit store down")

    signals.perfil_pago_revelado.connect(auditoria_rota, weak=False, dispatch_uid="rota")
    try:
        with pytest.raises(RuntimeError):
            cliente_staff.post(_staff_url(socio, revelar=True))
    finally:
        signals.perfil_pago_revelado.disconnect(dispatch_uid="rota")


def test_la_referencia_nunca_llega_a_los_logs(cliente_socio, cliente_staff, socio, caplog):
    caplog.set_level(logging.DEBUG)
    cliente_socio.put(URL, COMPLETO, format="json")
    cliente_socio.patch(URL, {"titular": "otra"}, format="json")
    cliente_staff.post(_staff_url(socio, revelar=True), {"motivo": "x"}, format="json")
    assert caplog.records  # the reveal and the changes are logged…
    assert IBAN_PRUEBA not in caplog.text  # …without the reference
    assert "2100 0418" not in caplog.text.replace("0418 4502", "")


def test_enmascarado():
    assert referencia_enmascarar("transferencia", IBAN_PRUEBA) == IBAN_ENMASCARADO
    assert referencia_enmascarar("paypal", "x@y.com") == "x***@y.com"
    assert referencia_enmascarar("otro", "wallet-123456789") == "****6789"
    assert referencia_enmascarar("otro", "abc") == "****"
    assert referencia_enmascarar("", "") == ""


# --- Admin ----------------------------------------------------------------------------------------
@pytest.fixture
def admin_cliente(client, staff):
    client.force_login(staff)
    return client


def test_admin_lista_y_formulario_enmascaran(admin_cliente, socio):
    perfil = perfil_completo(socio)
    lista = admin_cliente.get(reverse("admin:comision_recompensa_perfilpago_changelist"))
    cambio = admin_cliente.get(
        reverse("admin:comision_recompensa_perfilpago_change", args=[perfil.id])
    )
    for pagina in (lista, cambio):
        html = pagina.content.decode()
        assert pagina.status_code == 200
        assert IBAN_PRUEBA not in html
        assert IBAN_ENMASCARADO in html


def test_admin_cambia_sin_mostrar_y_conserva_la_referencia(admin_cliente, socio, staff, capturadas):
    perfil = perfil_completo(socio)
    url = reverse("admin:comision_recompensa_perfilpago_change", args=[perfil.id])
    datos = {
        "titular": "Nuevo Titular",
        "metodo": "transferencia",
        "pais": "ES",
        "identificacion_fiscal": "12345678Z",
        "nueva_referencia": "",
    }
    assert admin_cliente.post(url, datos).status_code == 302
    perfil.refresh_from_db()
    assert (perfil.titular, perfil.referencia) == ("Nuevo Titular", IBAN_PRUEBA)
    assert capturadas[-1][1]["por"] == staff.pk and capturadas[-1][1]["origen"] == "admin"
    # A bad new reference is refused on the form.
    r = admin_cliente.post(url, {**datos, "nueva_referencia": "ES00 0000"})
    assert r.status_code == 200 and "not a valid IBAN" in r.content.decode()
    perfil.refresh_from_db()
    assert perfil.referencia == IBAN_PRUEBA


def test_admin_revelar_pide_motivo_y_registra(admin_cliente, socio, staff, capturadas):
    perfil = perfil_completo(socio)
    url = reverse("admin:comision_recompensa_perfilpago_revelar", args=[perfil.id])
    pregunta = admin_cliente.get(url)
    assert pregunta.status_code == 200 and IBAN_PRUEBA not in pregunta.content.decode()
    assert capturadas == []
    sin_motivo = admin_cliente.post(url, {"motivo": ""})
    assert IBAN_PRUEBA not in sin_motivo.content.decode() and capturadas == []
    revelada = admin_cliente.post(url, {"motivo": "payout bounced"})
    assert IBAN_PRUEBA in revelada.content.decode()
    assert "no-store" in revelada["Cache-Control"]
    assert capturadas == [
        (
            "revelado",
            {"socio_id": socio.id, "por": staff.pk, "motivo": "payout bounced", "origen": "admin"},
        )
    ]


def test_admin_alta_de_perfil(admin_cliente):
    socio = SocioFactory(usuario=UsuarioFactory())
    r = admin_cliente.post(
        reverse("admin:comision_recompensa_perfilpago_add"),
        {
            "socio": str(socio.id),
            "titular": "T",
            "metodo": "paypal",
            "pais": "FR",
            "identificacion_fiscal": "FR123",
            "nueva_referencia": "t@example.org",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert PerfilPago.objects.get(socio=socio).referencia == "t@example.org"
    assert cliente_para(socio.usuario).get(URL).json()["completo"] is True


def test_admin_exporta_csv_con_la_referencia_enmascarada(admin_cliente, socio):
    perfil_completo(socio)
    r = admin_cliente.post(
        reverse("admin:comision_recompensa_perfilpago_changelist"),
        {"action": "exportar_csv", "_selected_action": [str(PerfilPago.objects.get().pk)]},
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    texto = r.content.decode()
    assert IBAN_ENMASCARADO in texto and IBAN_PRUEBA not in texto
