"""Issue 11, end to end with real processes: a partner without an accepted contract nor a
payout profile → `generar_pagos` → its Pago is `retenido` and the partner reads why through the
API → it accepts the contract and fills its profile (its own token, against gunicorn) → the
next periodic re-check, run by a real Celery worker, releases the Pago, the worker delivers it
(signed) to the payments simulator, whose signed callback to the server marks it `pagado`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest

from comision_recompensa.contratos.services import contrato_publicar_version
from comision_recompensa.models import Comision, EstadoCredito, EstadoPago, Pago
from comision_recompensa.pagos.desarrollo.simulador import SimuladorPagos
from comision_recompensa.pagos.services import pagos_generar
from comision_recompensa.tests.factories import AsociacionFactory, ComisionFactory
from conftest import token_para
from eventos_medios.tests.factories import MarcaFactory, SocioFactory, UsuarioFactory
from tests.procesos import esperar

pytestmark = pytest.mark.integration

SECRETO = "secreto-extremo-a-extremo"


def _api(base: str, token: str, metodo: str, ruta: str, datos: dict | None = None):
    peticion = urllib.request.Request(
        f"{base}/api/v1/{ruta}",
        method=metodo,
        data=json.dumps(datos).encode() if datos is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(peticion, timeout=15) as respuesta:
            return respuesta.status, json.loads(respuesta.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_de_retenido_a_pagado_con_procesos_reales(entorno_procesos, settings):
    settings.PAGOS_URL = ""  # the test process itself never delivers: the worker does
    servidor = entorno_procesos.servidor(PAGOS_SECRETO=SECRETO)
    simulador = SimuladorPagos(callback_base=servidor.url, secreto=SECRETO).iniciar()
    try:
        worker = entorno_procesos.worker(PAGOS_URL=simulador.url, PAGOS_SECRETO=SECRETO)

        marca = MarcaFactory(nombre="Alpes Outdoor")
        socio = SocioFactory(usuario=UsuarioFactory())
        asociacion = AsociacionFactory(marca=marca, socio=socio)
        contrato = contrato_publicar_version(
            asociacion_id=asociacion.id, texto="Programme terms v1", por=None, origen="test"
        )
        credito = ComisionFactory(
            socio=socio,
            asociacion=asociacion,
            evento__publicacion__marca=marca,
            estado=EstadoCredito.APROBADA,
            monto=Decimal("80.00"),
        )
        token = token_para(socio.usuario)

        (pago,) = pagos_generar(origen="comando:generar_pagos")
        assert pago.estado == EstadoPago.RETENIDO

        estado, visto = _api(servidor.url, token, "GET", f"pagos/{pago.id}/")
        assert estado == 200 and visto["estado"] == "retenido"
        fallidos = {c["control"] for c in visto["controles"] if not c["paso"]}
        assert fallidos == {"contrato_aceptado", "datos_pago"}

        estado, _ = _api(servidor.url, token, "POST", f"contratos/{contrato.id}/aceptar/")
        assert estado == 201
        perfil = {
            "titular": socio.nombre,
            "metodo": "transferencia",
            "referencia": "ES91 2100 0418 4502 0005 1332",
            "pais": "ES",
            "identificacion_fiscal": "12345678Z",
        }
        estado, guardado = _api(servidor.url, token, "PUT", "perfil-pago/", perfil)
        assert estado == 200 and guardado["completo"] is True

        # The next periodic re-check (beat's task, run by the real worker).
        worker.enviar("comision_recompensa.tasks.revisar_pagos_retenidos", cola="pagos")
        esperar(
            lambda: Pago.objects.get(id=pago.id).estado == EstadoPago.PAGADO,
            timeout=60,
            intervalo=0.1,
            mensaje="the held Pago is delivered and confirmed",
        )
    finally:
        simulador.detener()

    pago.refresh_from_db()
    credito.refresh_from_db()
    assert pago.enviado_en is not None and pago.confirmado_en is not None
    assert credito.estado == EstadoCredito.PAGADA
    assert Comision.objects.filter(pago=pago).count() == 1
    assert list(simulador.aceptados) == [str(pago.id)]
    assert simulador.firmas_invalidas == 0 and simulador.callbacks_ok == 1
    entregado = json.loads(simulador.aceptados[str(pago.id)])
    assert (entregado["monto"], entregado["moneda"]) == ("80.00", "EUR")
    assert entregado["beneficiario"]["referencia"] == "ES9121000418450200051332"
    estado, visto = _api(servidor.url, token, "GET", f"pagos/{pago.id}/")
    assert visto["estado"] == "pagado"
    assert all(c["paso"] for c in visto["controles"])
