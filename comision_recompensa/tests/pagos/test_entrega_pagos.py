"""Outbox delivery against the payments simulator: success, backoff, dead letter, retry,
timeouts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alpespartners import firmas
from comision_recompensa.models import EstadoPago, Pago
from comision_recompensa.pagos.desarrollo.simulador import SimuladorPagos
from comision_recompensa.pagos.entrega import (
    ResultadoEntrega,
    pago_entregar,
    pagos_entregar_pendientes,
    retraso_reintento,
)
from comision_recompensa.pagos.services import pagos_generar
from comision_recompensa.pagos.tasks import (
    barrer_pagos_pendientes,
    enviar_pago,
    generar_pagos_periodico,
)
from comision_recompensa.tests.pagos_helpers import (
    IBAN_PRUEBA,
    ajuste,
    comision_aprobada,
    perfil_completo,
    recompensa_aprobada,
)
from eventos_medios.tests.factories import SocioFactory

pytestmark = pytest.mark.django_db

SECRETO = "secreto-de-prueba"


@pytest.fixture
def simulador():
    # It checks the signature of every delivery, as the real component does.
    with SimuladorPagos(segundos_colgado=5, secreto=SECRETO) as sim:
        yield sim


@pytest.fixture
def pagos_conf(settings, simulador):
    settings.PAGOS_URL = simulador.url
    settings.PAGOS_SECRETO = SECRETO
    settings.PAGOS_TIMEOUT_SEGUNDOS = 0.3
    settings.PAGOS_MAX_INTENTOS = 5
    settings.PAGOS_BACKOFF_BASE_SEGUNDOS = 1.0
    settings.PAGOS_BACKOFF_MAX_SEGUNDOS = 4.0
    return settings


@pytest.fixture
def pago(marca):
    socio = SocioFactory()
    perfil_completo(socio)
    comision_aprobada(socio, "10.00", marca=marca)
    recompensa_aprobada(socio, "2.50", marca=marca)
    ajuste(socio, "-1.25", marca=marca)
    (p,) = pagos_generar()
    assert p.estado == EstadoPago.PENDIENTE
    return p


def _vencer(pago):
    Pago.objects.filter(id=pago.id).update(proximo_intento_en=timezone.now() - dt.timedelta(1))


def test_entrega_con_exito_envia_cuerpo_firmado_e_idempotency_key(pagos_conf, simulador, pago):
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.ENVIADO
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.ENVIADO
    assert pago.enviado_en is not None
    assert pago.intentos == 1
    assert list(simulador.aceptados) == [str(pago.id)]
    cuerpo = simulador.aceptados[str(pago.id)]
    datos = json.loads(cuerpo)
    assert datos["pago_id"] == str(pago.id)
    assert datos["socio_id"] == str(pago.socio_id)
    assert datos["marca_id"] == str(pago.marca_id)
    assert datos["beneficiario"]["referencia"] == IBAN_PRUEBA
    assert datos["monto"] == "11.25"
    assert datos["moneda"] == "EUR"
    assert sorted(i["tipo"] for i in datos["items"]) == ["ajuste", "comision", "recompensa"]
    assert sum(Decimal(i["monto"]) for i in datos["items"]) == Decimal("11.25")
    # Already delivered: nothing more is sent.
    assert pago_entregar(pago_id=pago.id, forzar=True) == ResultadoEntrega.OMITIDO
    assert simulador.recibidos == 1


def test_la_entrega_lleva_la_firma_con_marca_de_tiempo(pagos_conf, simulador, pago):
    """Outgoing deliveries are signed like the callbacks: X-Alpes-Firma: t=…,sha256=…"""
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.ENVIADO
    cabecera = simulador.cabeceras[str(pago.id)]["X-Alpes-Firma"]
    assert cabecera.startswith("t=") and ",sha256=" in cabecera
    cuerpo = simulador.aceptados[str(pago.id)]
    assert firmas.verificar(cabecera, cuerpo, [SECRETO]) > 0
    with pytest.raises(firmas.FirmaInvalida):
        firmas.verificar(cabecera, cuerpo, ["otro"])
    assert simulador.firmas_invalidas == 0


def test_una_entrega_mal_firmada_es_rechazada_por_el_componente(pagos_conf, simulador, pago):
    pagos_conf.PAGOS_SECRETO = "otro-secreto"
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.REINTENTO
    pago.refresh_from_db()
    assert pago.ultimo_error == "HTTP 401 from the payments component"
    assert simulador.firmas_invalidas == 1
    assert simulador.aceptados == {}


def test_sin_pagos_url_los_pagos_esperan_pendientes(settings, pago):
    settings.PAGOS_URL = ""
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.OMITIDO
    assert pagos_entregar_pendientes().total == 0
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PENDIENTE
    assert pago.intentos == 0


def test_retraso_se_duplica_hasta_el_tope():
    retrasos = [retraso_reintento(n, base=1, maximo=8, jitter=0) for n in range(1, 7)]
    assert retrasos == [1, 2, 4, 8, 8, 8]
    for n in range(1, 7):
        r = retraso_reintento(n, base=1, maximo=8, jitter=0.2)
        assert 0.8 * retrasos[n - 1] <= r <= retrasos[n - 1]


def test_500_programa_reintentos_con_backoff_y_luego_dead_letter(pagos_conf, simulador, pago):
    simulador.cambiar_modo("fail")
    esperados = [1.0, 2.0, 4.0, 4.0]
    for n, esperado in enumerate(esperados, start=1):
        _vencer(pago)
        antes = timezone.now()
        assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.REINTENTO
        pago.refresh_from_db()
        assert pago.intentos == n
        assert pago.estado == EstadoPago.PENDIENTE
        assert pago.ultimo_error == "HTTP 500 from the payments component"
        retraso = (pago.proximo_intento_en - antes).total_seconds()
        assert esperado * 0.85 <= retraso <= esperado + 1  # jitter takes up to 10 % off
        # Not due yet: a sweep leaves it alone.
        assert pagos_entregar_pendientes().total == 0
    _vencer(pago)
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.FALLIDO
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.FALLIDO
    assert pago.intentos == 5
    _vencer(pago)
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.OMITIDO
    assert pagos_entregar_pendientes().total == 0
    assert simulador.errores_500 == 5
    assert simulador.aceptados == {}


def _admin(staff):
    cliente = Client()
    cliente.force_login(staff)
    return cliente


def test_accion_admin_reintentar_saca_del_dead_letter(
    pagos_conf, simulador, pago, staff, django_capture_on_commit_callbacks
):
    Pago.objects.filter(id=pago.id).update(
        estado=EstadoPago.FALLIDO, intentos=5, ultimo_error="HTTP 500 from the payments component"
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = _admin(staff).post(
            reverse("admin:comision_recompensa_pago_changelist"),
            {"action": "reintentar_entrega", "_selected_action": [str(pago.id)]},
        )
    assert r.status_code == 302
    pago.refresh_from_db()
    # Back in the outbox with the attempts reset, and the fast-path delivery queued on commit.
    assert pago.estado == EstadoPago.PENDIENTE
    assert pago.intentos == 0
    assert len(callbacks) == 1
    assert enviar_pago(str(pago.id)) == "enviado"
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.ENVIADO
    assert pago.intentos == 1
    assert list(simulador.aceptados) == [str(pago.id)]


def test_accion_admin_reintentar_rechaza_lo_que_no_es_fallido(pagos_conf, pago, staff):
    r = _admin(staff).post(
        reverse("admin:comision_recompensa_pago_changelist"),
        {"action": "reintentar_entrega", "_selected_action": [str(pago.id)]},
        follow=True,
    )
    assert "only fallido Pagos can be retried" in r.content.decode()
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.PENDIENTE


def test_accion_admin_entregar_ahora_ignora_el_backoff(pagos_conf, simulador, pago, staff):
    Pago.objects.filter(id=pago.id).update(
        proximo_intento_en=timezone.now() + dt.timedelta(hours=1), intentos=2
    )
    r = _admin(staff).post(
        reverse("admin:comision_recompensa_pago_changelist"),
        {"action": "entregar_ahora", "_selected_action": [str(pago.id)]},
    )
    assert r.status_code == 302
    pago.refresh_from_db()
    assert pago.estado == EstadoPago.ENVIADO
    assert pago.intentos == 3


def test_admin_muestra_estado_intentos_error_e_items(pagos_conf, pago, staff):
    Pago.objects.filter(id=pago.id).update(intentos=2, ultimo_error="HTTP 500 from the payments")
    cliente = _admin(staff)
    lista = cliente.get(reverse("admin:comision_recompensa_pago_changelist")).content.decode()
    assert "HTTP 500 from the payments" in lista
    detalle = cliente.get(
        reverse("admin:comision_recompensa_pago_change", args=[pago.id])
    ).content.decode()
    assert "comision" in detalle and "recompensa" in detalle and "-1.25" in detalle
    ajustes = cliente.get(reverse("admin:comision_recompensa_ajuste_changelist"))
    assert ajustes.status_code == 200
    assert cliente.get(reverse("admin:comision_recompensa_ajuste_add")).status_code == 403


def test_timeout_cuenta_como_fallo_y_luego_se_entrega(pagos_conf, simulador, pago):
    simulador.cambiar_modo("hang")
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.REINTENTO
    pago.refresh_from_db()
    assert pago.ultimo_error.startswith("timeout")
    assert simulador.colgados == 1
    assert simulador.aceptados == {}
    simulador.cambiar_modo("ok")
    _vencer(pago)
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.ENVIADO
    assert list(simulador.aceptados) == [str(pago.id)]


def test_componente_caido_y_de_vuelta_en_el_mismo_puerto(pagos_conf, simulador, pago):
    puerto = simulador.puerto
    simulador.cambiar_modo("down")
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.REINTENTO
    pago.refresh_from_db()
    assert pago.ultimo_error.startswith("connection failed")
    simulador.cambiar_modo("ok")
    assert simulador.puerto == puerto
    _vencer(pago)
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.ENVIADO


def test_el_error_guardado_no_contiene_secretos(settings, simulador, pago):
    settings.PAGOS_SECRETO = SECRETO
    settings.PAGOS_URL = f"http://usuario:clave-url-secreta@127.0.0.1:{simulador.puerto}/pagos"
    settings.PAGOS_TIMEOUT_SEGUNDOS = 0.3
    simulador.cambiar_modo("down")
    pago_entregar(pago_id=pago.id)
    pago.refresh_from_db()
    assert pago.ultimo_error
    assert "clave-url-secreta" not in pago.ultimo_error
    assert SECRETO not in pago.ultimo_error
    assert "127.0.0.1" not in pago.ultimo_error


def test_reenvio_con_la_misma_clave_no_se_acepta_dos_veces(pagos_conf, simulador, pago):
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.ENVIADO
    # As if the worker died after the POST but before recording it: the row is pendiente again.
    Pago.objects.filter(id=pago.id).update(estado=EstadoPago.PENDIENTE)
    _vencer(pago)
    assert pago_entregar(pago_id=pago.id) == ResultadoEntrega.ENVIADO
    assert simulador.recibidos == 2
    assert len(simulador.aceptados) == 1
    assert simulador.duplicados == 1
    assert simulador.conflictos == 0


def test_tareas_y_comando(pagos_conf, simulador, capsys, marca):
    socio = SocioFactory()
    perfil_completo(socio)
    comision_aprobada(socio, "8.00", marca=marca)
    assert generar_pagos_periodico() == 1
    pago = Pago.objects.get()
    assert enviar_pago(str(pago.id)) == "enviado"

    comision_aprobada(socio, "3.00", marca=marca)
    (otro,) = pagos_generar()
    assert "enviado: 1" in barrer_pagos_pendientes()
    comision_aprobada(socio, "4.00", marca=marca)
    (tercero,) = pagos_generar()
    call_command("enviar_pagos")
    assert "enviado: 1" in capsys.readouterr().out
    assert set(simulador.aceptados) == {str(pago.id), str(otro.id), str(tercero.id)}
