"""Lifecycle of commissions and rewards: every transition, legal and illegal (PRODUCT.md §4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from alpespartners.errors import Conflicto
from comision_recompensa import signals
from comision_recompensa.creditos.services import (
    credito_aprobar,
    credito_revertir,
    creditos_aprobar,
    creditos_aprobar_vencidos,
    creditos_revertir,
    evento_reembolsar,
)
from comision_recompensa.creditos.tasks import aprobar_creditos_vencidos
from comision_recompensa.models import Ajuste, CambioAtribucion, EstadoCredito
from comision_recompensa.tests.factories import (
    AsociacionFactory,
    ComisionFactory,
    PagoFactory,
    RecompensaFactory,
)
from eventos_medios.models import EstadoAtribucion, TipoEvento, TipoSocio
from eventos_medios.tests.factories import EventoFactory, SocioFactory

pytestmark = pytest.mark.django_db

FACTORIES = [
    pytest.param(ComisionFactory, "comision", id="comision"),
    pytest.param(RecompensaFactory, "recompensa", id="recompensa"),
]


@pytest.fixture
def recibidas():
    """Record every lifecycle signal sent: (signal name, kwargs)."""
    registro: list[tuple[str, dict]] = []
    nombres = [
        "comision_aprobada",
        "recompensa_aprobada",
        "comision_revertida",
        "recompensa_revertida",
    ]
    receptores = []
    for nombre in nombres:

        def receptor(sender, nombre=nombre, **kwargs):
            kwargs.pop("signal", None)
            registro.append((nombre, kwargs))

        getattr(signals, nombre).connect(receptor, weak=False)
        receptores.append((nombre, receptor))
    yield registro
    for nombre, receptor in receptores:
        getattr(signals, nombre).disconnect(receptor)


def _pagada(factory, **kwargs):
    pago = PagoFactory()
    return factory(
        estado=EstadoCredito.PAGADA,
        pago=pago,
        aprobado_en=timezone.now(),
        pagado_en=timezone.now(),
        **kwargs,
    )


# --- approve ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("factory", "nombre"), FACTORIES)
def test_aprobar_pendiente(factory, nombre, recibidas, django_capture_on_commit_callbacks):
    credito = factory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        credito_aprobar(credito=credito)
        assert recibidas == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    credito.refresh_from_db()
    assert credito.estado == EstadoCredito.APROBADA
    assert credito.aprobado_en is not None
    assert recibidas == [(f"{nombre}_aprobada", {"credito_id": credito.pk})]


@pytest.mark.parametrize(("factory", "nombre"), FACTORIES)
@pytest.mark.parametrize(
    ("estado", "razon"),
    [
        (EstadoCredito.APROBADA, "already approved"),
        (EstadoCredito.PAGADA, "already paid"),
        (EstadoCredito.REVERTIDA, "reversed"),
    ],
)
def test_aprobar_ilegal_es_conflicto(
    factory, nombre, estado, razon, recibidas, django_capture_on_commit_callbacks
):
    credito = factory(estado=estado)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflicto) as exc:
        credito_aprobar(credito=credito)
    assert razon in exc.value.mensaje
    assert exc.value.status_code == 409
    assert exc.value.extra == {"estado_actual": estado}
    credito.refresh_from_db()
    assert credito.estado == estado
    assert recibidas == []


def test_aprobar_dos_veces_con_objeto_obsoleto_es_conflicto():
    """Two approvals with the same stale in-memory object: the conditional UPDATE lets one win."""
    credito = ComisionFactory()
    copia = type(credito).objects.get(pk=credito.pk)
    credito_aprobar(credito=credito)
    with pytest.raises(Conflicto, match="already approved"):
        credito_aprobar(credito=copia)


# --- reverse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("factory", "nombre"), FACTORIES)
@pytest.mark.parametrize("estado", [EstadoCredito.PENDIENTE, EstadoCredito.APROBADA])
def test_revertir_no_pagada_sin_ajuste(
    factory, nombre, estado, recibidas, django_capture_on_commit_callbacks
):
    credito = factory(estado=estado)
    with django_capture_on_commit_callbacks(execute=True):
        credito_revertir(credito=credito, motivo="Fraud")
    credito.refresh_from_db()
    assert credito.estado == EstadoCredito.REVERTIDA
    assert credito.motivo_reversion == "Fraud"
    assert credito.revertido_en is not None
    assert Ajuste.objects.count() == 0
    assert recibidas == [(f"{nombre}_revertida", {"credito_id": credito.pk, "motivo": "Fraud"})]
    cambio = CambioAtribucion.objects.get()
    assert cambio.accion == CambioAtribucion.Accion.REVERTIDA
    assert cambio.monto_anterior == credito.monto
    assert cambio.monto_nuevo == 0
    assert cambio.detalle["estado_anterior"] == estado


@pytest.mark.parametrize(("factory", "nombre"), FACTORIES)
def test_revertir_pagada_crea_clawback(factory, nombre, django_capture_on_commit_callbacks):
    credito = _pagada(factory, monto=Decimal("12.34"), moneda="EUR")
    with django_capture_on_commit_callbacks(execute=True):
        credito_revertir(credito=credito, motivo="Chargeback")
    credito.refresh_from_db()
    assert credito.estado == EstadoCredito.REVERTIDA
    ajuste = Ajuste.objects.get()
    assert ajuste.socio_id == credito.socio_id
    assert ajuste.monto == Decimal("-12.34")
    assert ajuste.moneda == "EUR"
    assert ajuste.pago is None  # waits for the partner's next Pago
    assert getattr(ajuste, nombre) == credito
    assert "Chargeback" in ajuste.motivo
    assert CambioAtribucion.objects.get().detalle["ajuste_id"] == str(ajuste.pk)


def test_revertir_aprobada_ya_reclamada_por_un_pago_crea_clawback():
    """An approved item already claimed by a Pago in flight: its money is committed, so the
    reversal is recovered from the next Pago too."""
    credito = ComisionFactory(estado=EstadoCredito.APROBADA, pago=PagoFactory())
    credito_revertir(credito=credito, motivo="Refund")
    assert Ajuste.objects.get().monto == -credito.monto


def test_revertir_pagada_de_monto_cero_no_crea_ajuste():
    credito = _pagada(ComisionFactory, monto=Decimal("0.00"), moneda="")
    credito_revertir(credito=credito, motivo="x")
    assert Ajuste.objects.count() == 0


@pytest.mark.parametrize(("factory", "nombre"), FACTORIES)
def test_revertir_dos_veces_es_conflicto(factory, nombre, recibidas):
    credito = factory()
    credito_revertir(credito=credito, motivo="once")
    with pytest.raises(Conflicto, match="already reversed") as exc:
        credito_revertir(credito=credito, motivo="twice")
    assert exc.value.extra == {"estado_actual": EstadoCredito.REVERTIDA}
    credito.refresh_from_db()
    assert credito.motivo_reversion == "once"
    assert CambioAtribucion.objects.count() == 1


def test_revertida_no_se_puede_aprobar_y_libera_el_hueco_unico():
    """After a reversal the (evento, socio) slot is free: a new live credit may be created."""
    credito = ComisionFactory()
    credito_revertir(credito=credito, motivo="x")
    with pytest.raises(Conflicto):
        credito_aprobar(credito=credito)
    nuevo = ComisionFactory(evento=credito.evento, socio=credito.socio)
    assert nuevo.estado == EstadoCredito.PENDIENTE


# --- many (admin actions) ---------------------------------------------------------------------


def test_creditos_aprobar_informa_cambiados_y_rechazados():
    pendientes = ComisionFactory.create_batch(2)
    aprobada = ComisionFactory(estado=EstadoCredito.APROBADA)
    revertida = ComisionFactory(estado=EstadoCredito.REVERTIDA)
    resultado = creditos_aprobar(creditos=[*pendientes, aprobada, revertida])
    assert {c.pk for c in resultado.cambiados} == {c.pk for c in pendientes}
    assert [(c.pk, "already approved" in m) for c, m in resultado.rechazados] == [
        (aprobada.pk, True),
        (revertida.pk, False),
    ]
    assert "reversed" in resultado.rechazados[1][1]


def test_creditos_revertir_en_lote():
    pendiente = RecompensaFactory()
    revertida = RecompensaFactory(estado=EstadoCredito.REVERTIDA)
    resultado = creditos_revertir(creditos=[pendiente, revertida], motivo="bulk")
    assert [c.pk for c in resultado.cambiados] == [pendiente.pk]
    assert [c.pk for c, _ in resultado.rechazados] == [revertida.pk]


# --- refund -----------------------------------------------------------------------------------


def _venta_atribuida(**kwargs):
    return EventoFactory(
        tipo=TipoEvento.VENTA,
        valor=Decimal("120.00"),
        moneda="EUR",
        estado_atribucion=EstadoAtribucion.ATRIBUIDO,
        **kwargs,
    )


def test_reembolso_revierte_todo_lo_que_gano_la_venta(
    recibidas, django_capture_on_commit_callbacks
):
    venta = _venta_atribuida()
    otro = SocioFactory(tipo=TipoSocio.INFLUENCER)
    tercero = SocioFactory()
    pendiente = ComisionFactory(evento=venta)
    pagada = _pagada(RecompensaFactory, evento=venta, socio=otro, monto=Decimal("3.00"))
    aprobada = ComisionFactory(evento=venta, socio=tercero, estado=EstadoCredito.APROBADA)
    ya_revertida = ComisionFactory(
        evento=venta, socio=SocioFactory(), estado=EstadoCredito.REVERTIDA
    )
    ajena = ComisionFactory()  # another event's credit is untouched

    with django_capture_on_commit_callbacks(execute=True):
        revertidos = evento_reembolsar(evento=venta, motivo="Order refunded")

    assert {c.pk for c in revertidos} == {pendiente.pk, pagada.pk, aprobada.pk}
    for credito in (pendiente, pagada, aprobada):
        credito.refresh_from_db()
        assert credito.estado == EstadoCredito.REVERTIDA
        assert credito.motivo_reversion == "Order refunded"
    ajena.refresh_from_db()
    assert ajena.estado == EstadoCredito.PENDIENTE
    ya_revertida.refresh_from_db()
    assert ya_revertida.motivo_reversion == ""
    ajuste = Ajuste.objects.get()  # only the paid one is clawed back
    assert (ajuste.recompensa_id, ajuste.monto) == (pagada.pk, Decimal("-3.00"))
    assert sorted(n for n, _ in recibidas) == [
        "comision_revertida",
        "comision_revertida",
        "recompensa_revertida",
    ]


def test_reembolso_dos_veces_es_conflicto():
    venta = _venta_atribuida()
    ComisionFactory(evento=venta)
    evento_reembolsar(evento=venta, motivo="")
    with pytest.raises(Conflicto, match="already refunded"):
        evento_reembolsar(evento=venta, motivo="")


def test_reembolso_todo_o_nada(monkeypatch):
    """If one credit cannot be reversed mid-way, nothing is reversed."""
    from comision_recompensa.creditos import services as ciclo_vida

    venta = _venta_atribuida()
    pagada = _pagada(ComisionFactory, evento=venta)
    segunda = ComisionFactory(evento=venta, socio=SocioFactory())
    original = ciclo_vida.credito_revertir
    llamadas = []

    def revertir_y_fallar_en_la_segunda(**kwargs):
        llamadas.append(kwargs["credito"].pk)
        if len(llamadas) == 2:
            raise Conflicto("boom")
        return original(**kwargs)

    monkeypatch.setattr(ciclo_vida, "credito_revertir", revertir_y_fallar_en_la_segunda)
    with pytest.raises(Conflicto, match="boom"):
        evento_reembolsar(evento=venta, motivo="refund")
    assert len(llamadas) == 2
    pagada.refresh_from_db()
    segunda.refresh_from_db()
    assert (pagada.estado, segunda.estado) == (EstadoCredito.PAGADA, EstadoCredito.PENDIENTE)
    assert Ajuste.objects.count() == 0
    assert CambioAtribucion.objects.count() == 0


def test_reembolso_de_un_evento_que_no_es_venta_es_conflicto():
    lead = EventoFactory(tipo=TipoEvento.LEAD, estado_atribucion=EstadoAtribucion.ATRIBUIDO)
    with pytest.raises(Conflicto, match="Only a venta"):
        evento_reembolsar(evento=lead, motivo="")


def test_reembolso_de_venta_aun_sin_atribuir_es_conflicto():
    venta = EventoFactory(tipo=TipoEvento.VENTA, valor=Decimal("1.00"), moneda="EUR")
    assert venta.estado_atribucion == EstadoAtribucion.PENDIENTE
    with pytest.raises(Conflicto, match="not been attributed yet"):
        evento_reembolsar(evento=venta, motivo="")


def test_reembolso_de_venta_sin_atribucion_no_revierte_nada():
    venta = _venta_atribuida()
    venta.estado_atribucion = EstadoAtribucion.SIN_ATRIBUCION
    venta.save()
    assert evento_reembolsar(evento=venta, motivo="") == []


# --- approval after the hold period -----------------------------------------------------------


def _credito_con_retencion(factory, *, dias_retencion, hace_dias, **kwargs):
    evento = EventoFactory(
        tipo=TipoEvento.VENTA,
        valor=Decimal("100.00"),
        moneda="EUR",
        ocurrido_en=timezone.now() - dt.timedelta(days=hace_dias),
    )
    asociacion = AsociacionFactory(
        marca=evento.marca, socio=evento.socio, dias_retencion=dias_retencion
    )
    return factory(evento=evento, asociacion=asociacion, **kwargs)


@pytest.mark.reloj  # hold periods counted back from now
def test_aprobar_vencidos_respeta_la_retencion_de_cada_asociacion(
    recibidas, django_capture_on_commit_callbacks
):
    vencida = _credito_con_retencion(ComisionFactory, dias_retencion=30, hace_dias=31)
    retenida = _credito_con_retencion(ComisionFactory, dias_retencion=30, hace_dias=29)
    corta = _credito_con_retencion(RecompensaFactory, dias_retencion=7, hace_dias=8)
    sin_retencion = _credito_con_retencion(ComisionFactory, dias_retencion=0, hace_dias=0)
    ya_aprobada = _credito_con_retencion(
        ComisionFactory, dias_retencion=1, hace_dias=5, estado=EstadoCredito.APROBADA
    )
    revertida = _credito_con_retencion(
        ComisionFactory, dias_retencion=1, hace_dias=5, estado=EstadoCredito.REVERTIDA
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert creditos_aprobar_vencidos() == 3

    estados = {}
    for c in (vencida, retenida, corta, sin_retencion, ya_aprobada, revertida):
        c.refresh_from_db()
        estados[c.pk] = c.estado
    assert estados == {
        vencida.pk: EstadoCredito.APROBADA,
        retenida.pk: EstadoCredito.PENDIENTE,
        corta.pk: EstadoCredito.APROBADA,
        sin_retencion.pk: EstadoCredito.APROBADA,
        ya_aprobada.pk: EstadoCredito.APROBADA,
        revertida.pk: EstadoCredito.REVERTIDA,
    }
    assert sorted((n, k["credito_id"]) for n, k in recibidas) == sorted(
        [
            ("comision_aprobada", vencida.pk),
            ("comision_aprobada", sin_retencion.pk),
            ("recompensa_aprobada", corta.pk),
        ]
    )
    # A second run changes nothing.
    assert creditos_aprobar_vencidos() == 0


@pytest.mark.reloj  # hold periods counted back from now
def test_aprobar_vencidos_en_lotes_pequenos():
    creditos = [
        _credito_con_retencion(ComisionFactory, dias_retencion=1, hace_dias=2) for _ in range(5)
    ]
    assert creditos_aprobar_vencidos(lote=2) == 5
    assert all(type(c).objects.get(pk=c.pk).estado == EstadoCredito.APROBADA for c in creditos)


@pytest.mark.reloj  # hold periods counted back from now
def test_aprobar_vencidos_sin_asociacion_usa_30_dias():
    viejo = ComisionFactory(
        evento__ocurrido_en=timezone.now() - dt.timedelta(days=31), monto=Decimal("0.00")
    )
    nuevo = ComisionFactory(evento__ocurrido_en=timezone.now() - dt.timedelta(days=2))
    assert creditos_aprobar_vencidos() == 1
    viejo.refresh_from_db()
    nuevo.refresh_from_db()
    assert (viejo.estado, nuevo.estado) == (EstadoCredito.APROBADA, EstadoCredito.PENDIENTE)


@pytest.mark.reloj  # hold periods counted back from now
def test_tarea_aprobar_creditos_vencidos():
    credito = _credito_con_retencion(ComisionFactory, dias_retencion=1, hace_dias=3)
    assert aprobar_creditos_vencidos.name == "comision_recompensa.tasks.aprobar_creditos_vencidos"
    assert aprobar_creditos_vencidos.apply().get() == 1
    credito.refresh_from_db()
    assert credito.estado == EstadoCredito.APROBADA


# --- races (PostgreSQL: real row locks) -------------------------------------------------------


def _en_paralelo(funciones):
    """Run callables at once in threads (own connections); return their results or errors."""
    import threading

    from django.db import connection

    barrera = threading.Barrier(len(funciones))
    resultados: list = [None] * len(funciones)

    def correr(i, funcion):
        try:
            barrera.wait(timeout=10)
            resultados[i] = funcion()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            resultados[i] = exc
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr, args=(i, f)) for i, f in enumerate(funciones)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join(timeout=30)
    return resultados


@pytest.mark.postgres  # row locks
@pytest.mark.django_db(transaction=True)
def test_carrera_gana_una_sola_transicion():
    for _ in range(5):
        credito = ComisionFactory(estado=EstadoCredito.PAGADA, pago=PagoFactory())
        copias = [type(credito).objects.get(pk=credito.pk) for _ in range(3)]
        resultados = _en_paralelo(
            [lambda c=c: credito_revertir(credito=c, motivo="race") for c in copias]
        )
        errores = [r for r in resultados if isinstance(r, Exception)]
        assert len(errores) == 2 and all(isinstance(e, Conflicto) for e in errores), resultados
        assert Ajuste.objects.filter(comision=credito).count() == 1  # one clawback, not three

        pendiente = RecompensaFactory()
        copias_r = [type(pendiente).objects.get(pk=pendiente.pk) for _ in range(3)]
        resultados = _en_paralelo([lambda c=c: credito_aprobar(credito=c) for c in copias_r])
        assert sum(isinstance(r, Conflicto) for r in resultados) == 2, resultados


@pytest.mark.postgres  # SKIP LOCKED
@pytest.mark.reloj  # hold periods counted back from now
@pytest.mark.django_db(transaction=True)
def test_carrera_aprobar_vencidos_no_aprueba_dos_veces():
    creditos = [
        _credito_con_retencion(ComisionFactory, dias_retencion=1, hace_dias=2) for _ in range(20)
    ]
    aprobadas: list = []

    def contar(sender, credito_id, **kwargs):
        aprobadas.append(credito_id)

    signals.comision_aprobada.connect(contar, weak=False)
    try:
        resultados = _en_paralelo([lambda: creditos_aprobar_vencidos(lote=3) for _ in range(3)])
    finally:
        signals.comision_aprobada.disconnect(contar)
    assert sum(resultados) == 20, resultados
    assert sorted(aprobadas) == sorted(c.pk for c in creditos)  # each signalled exactly once
