"""Races on PostgreSQL (issue 11, "How it is checked"): a contract version published while a
Pago is being checked, concurrent generation with a fraud hold arriving, and two acceptances of
one version at once. Real connections in threads; no timing assumptions (events and polling
with a deadline)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from comision_recompensa.contratos.services import contrato_aceptar, contrato_publicar_version
from comision_recompensa.models import (
    AceptacionContrato,
    Comision,
    ControlCumplimiento,
    EstadoCredito,
    EstadoPago,
    Pago,
)
from comision_recompensa.pagos import controles as registro
from comision_recompensa.pagos.controles import ResultadoControl, control
from comision_recompensa.pagos.cumplimiento import pago_aplicar_controles
from comision_recompensa.pagos.desarrollo.simulador import SimuladorPagos
from comision_recompensa.pagos.entrega import ResultadoEntrega, pago_entregar
from comision_recompensa.pagos.services import pagos_generar
from comision_recompensa.tests.factories import AsociacionFactory, ComisionFactory
from comision_recompensa.tests.pagos_helpers import comision_aprobada, perfil_completo
from eventos_medios.tests.factories import MarcaFactory, SocioFactory
from tests.procesos import esperar

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECRETO = "secreto-carreras"


class Hilo(threading.Thread):
    """Runs `funcion` on its own database connection; keeps its result or error."""

    def __init__(self, funcion, nombre: str) -> None:
        super().__init__(name=nombre, daemon=True)
        self.funcion = funcion
        self.resultado = None
        self.error: BaseException | None = None
        self.pid: int | None = None

    def run(self) -> None:
        try:
            connection.ensure_connection()
            self.pid = connection.connection.info.backend_pid
            self.resultado = self.funcion()
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            self.error = exc
        finally:
            connection.close()


def _esperando_un_cerrojo(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        fila = cursor.fetchone()
    return bool(fila and fila[0] == "Lock")


def test_una_version_publicada_durante_el_control_se_ve_entera_o_no_se_ve():
    socio = SocioFactory()
    perfil_completo(socio)
    asociacion = AsociacionFactory(socio=socio)
    v1 = contrato_publicar_version(asociacion_id=asociacion.id, texto="v1", por=None, origen="t")
    contrato_aceptar(contrato_id=v1.id, socio_id=socio.id, usuario_id=None, ip_hash="")
    comision_aprobada(socio, "60.00", marca=asociacion.marca, asociacion=asociacion)
    (pago,) = pagos_generar()
    assert pago.estado == EstadoPago.PENDIENTE

    dentro, seguir = threading.Event(), threading.Event()

    @control("pausa_de_prueba")
    def pausa(contexto):
        dentro.set()  # the other controls ran; the agreement's row is locked by this check
        assert seguir.wait(60)
        return ResultadoControl(True, "paused")

    try:
        chequeo = Hilo(lambda: pago_aplicar_controles(pago_id=pago.id, origen="t"), "chequeo")
        chequeo.start()
        assert dentro.wait(60)
        publicacion = Hilo(
            lambda: contrato_publicar_version(
                asociacion_id=asociacion.id, texto="v2", por=None, origen="t"
            ),
            "publicacion",
        )
        publicacion.start()
        # The publication waits for the check to finish (same row lock), it does not interleave.
        esperar(lambda: publicacion.pid and _esperando_un_cerrojo(publicacion.pid), timeout=30)
        assert publicacion.is_alive()
        seguir.set()
        chequeo.join(60)
        publicacion.join(60)
    finally:
        seguir.set()
        registro.CONTROLES.pop("pausa_de_prueba", None)
    assert chequeo.error is None and publicacion.error is None, (chequeo.error, publicacion.error)

    # The check saw the contract entirely before v2 existed: v1, accepted, passes.
    resultado = ControlCumplimiento.objects.get(pago=pago, control="contrato_aceptado")
    assert resultado.paso and "v1" in resultado.detalle
    assert Pago.objects.get(id=pago.id).estado == EstadoPago.PENDIENTE
    # The next check (the delivery claim, the periodic re-check) sees v2 entirely.
    assert pago_aplicar_controles(pago_id=pago.id, origen="t").estado == EstadoPago.RETENIDO
    resultado.refresh_from_db()
    assert not resultado.paso and "version 2" in resultado.detalle


def test_generar_en_paralelo_con_una_retencion_llegando(settings):
    """Two concurrent generations while fraud holds arrive: every item lands in exactly one
    Pago, and no Pago of a partner under review with that brand is delivered, whichever came
    first (a Pago checked before the hold is held again by the delivery claim)."""
    marca = MarcaFactory()
    socios = [SocioFactory() for _ in range(5)]
    en_revision = []
    for socio in socios:
        perfil_completo(socio)
        for i in range(6):
            comision_aprobada(socio, f"{20 + i}.00", marca=marca)
        en_revision.append(
            ComisionFactory(
                socio=socio, estado=EstadoCredito.PENDIENTE, evento__publicacion__marca=marca
            )
        )
    esperado = sum(
        Comision.objects.filter(estado=EstadoCredito.APROBADA).values_list("monto", flat=True)
    )
    barrera = threading.Barrier(3)

    def generar():
        barrera.wait(30)
        return pagos_generar()

    def retener():
        barrera.wait(30)
        for credito in en_revision:  # what the review workflow does: pendiente → en_revision
            Comision.objects.filter(id=credito.id, estado=EstadoCredito.PENDIENTE).update(
                estado=EstadoCredito.EN_REVISION
            )

    hilos = [Hilo(generar, "generar-1"), Hilo(generar, "generar-2"), Hilo(retener, "retener")]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(120)
    assert all(h.error is None for h in hilos), [h.error for h in hilos]
    pagos_generar()  # whatever a skipped lock left behind

    aprobadas = Comision.objects.filter(estado=EstadoCredito.APROBADA)
    assert not aprobadas.filter(pago__isnull=True).exists()
    pagos = list(Pago.objects.all())
    assert sum((p.monto for p in pagos), Decimal("0")) == esperado
    for pago in pagos:
        assert pago.monto == sum(aprobadas.filter(pago=pago).values_list("monto", flat=True))

    with SimuladorPagos(secreto=SECRETO) as simulador:
        settings.PAGOS_URL, settings.PAGOS_SECRETO = simulador.url, SECRETO
        resultados = {pago_entregar(pago_id=p.id, forzar=True) for p in pagos}
        assert simulador.recibidos == 0
    assert resultados <= {ResultadoEntrega.RETENIDO, ResultadoEntrega.OMITIDO}
    assert set(Pago.objects.values_list("estado", flat=True)) == {EstadoPago.RETENIDO}


def test_dos_aceptaciones_a_la_vez_son_una():
    socio = SocioFactory()
    asociacion = AsociacionFactory(socio=socio)
    v1 = contrato_publicar_version(asociacion_id=asociacion.id, texto="v1", por=None, origen="t")
    barrera = threading.Barrier(2)

    def aceptar():
        barrera.wait(30)
        return contrato_aceptar(contrato_id=v1.id, socio_id=socio.id, usuario_id=None, ip_hash="")

    hilos = [Hilo(aceptar, f"aceptar-{i}") for i in range(2)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(60)
    assert all(h.error is None for h in hilos), [h.error for h in hilos]
    assert AceptacionContrato.objects.count() == 1
    ids = {h.resultado[0].id for h in hilos}
    assert len(ids) == 1
    assert sorted(h.resultado[1] for h in hilos) == [False, True]
