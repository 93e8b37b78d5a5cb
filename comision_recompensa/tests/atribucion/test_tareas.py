"""Attribution tasks: the on-commit receiver, the debounced drain, the sweep, and concurrency."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from alpespartners.senales import enviar_al_confirmar
from comision_recompensa.atribucion import tasks as tareas
from comision_recompensa.atribucion.services import eventos_atribuir, eventos_pendientes_atribuir
from comision_recompensa.models import Comision
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from eventos_medios.models import EstadoAtribucion, TipoEvento
from eventos_medios.signals import eventos_registrados
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

D = Decimal


@pytest.fixture(autouse=True)
def celery_en_proceso(settings):
    """Run tasks in process. (With REDIS_URL set, settings are imported before the root
    conftest can default CELERY_TASK_ALWAYS_EAGER, so force it here for these unit tests.)"""
    from alpespartners.celery import app

    anterior = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = anterior


def programa():
    marca = MarcaFactory()
    socio = SocioFactory()
    pub = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=socio))
    ReglaPagoFactory(asociacion=AsociacionFactory(marca=marca, socio=socio))
    return marca, socio, pub


def ventas(pub, n, **kw):
    return [
        EventoFactory(
            tipo=TipoEvento.VENTA,
            publicacion=pub,
            valor=D("100.00"),
            moneda="EUR",
            referencia_externa=f"pedido-{i}",
            **kw,
        )
        for i in range(n)
    ]


def test_opciones_de_las_tareas():
    for tarea in (
        tareas.atribuir_eventos,
        tareas.atribuir_pendientes,
        tareas.barrer_eventos_pendientes,
    ):
        assert tarea.name.startswith("comision_recompensa.tasks.")
        assert tarea.acks_late and tarea.reject_on_worker_lost
        assert tarea.queue == "atribucion"
        assert set(tarea.autoretry_for) == {OperationalError, InterfaceError}


@pytest.mark.django_db
def test_barrido_atribuye_eventos_perdidos_y_deja_los_recientes(settings):
    settings.BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS = 10
    _, socio, pub = programa()
    hace_un_minuto = timezone.now() - dt.timedelta(minutes=1)
    perdidos = ventas(pub, 3, recibido_en=hace_un_minuto)
    [reciente] = EventoFactory.create_batch(1, publicacion=pub)  # a click received just now
    assert tareas.barrer_eventos_pendientes() == 3
    assert Comision.objects.filter(evento__in=perdidos, socio=socio).count() == 3
    reciente.refresh_from_db()
    assert reciente.estado_atribucion == EstadoAtribucion.PENDIENTE
    assert tareas.barrer_eventos_pendientes() == 0  # nothing left to sweep


@pytest.mark.django_db
def test_receptor_atribuye_al_confirmar(django_capture_on_commit_callbacks):
    _, socio, pub = programa()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        evs = ventas(pub, 2)
        enviar_al_confirmar(eventos_registrados, sender=None, evento_ids=[e.id for e in evs])
        # Nothing happens before the commit.
        assert not Comision.objects.exists()
    assert Comision.objects.filter(socio=socio).count() == 2


@pytest.mark.django_db
def test_drenado_con_broker_publica_una_vez_y_sobrevive_a_su_caida(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from django.core.cache import cache

    cache.delete(tareas.CLAVE_DRENADO_EN_COLA)
    monkeypatch.setattr(tareas, "_programado_hasta", 0.0)
    publicadas = []
    monkeypatch.setattr(
        tareas.atribuir_pendientes, "apply_async", lambda *a, **k: publicadas.append(1)
    )
    tareas.programar_atribucion(evento_ids=["a"])
    tareas.programar_atribucion(evento_ids=["b"])
    assert len(publicadas) == 1  # the second registration sees a drain already queued
    # The drain starts: the key is cleared, so the next registration queues another drain.
    _, _socio, pub = programa()
    evs = ventas(pub, 2)
    assert tareas.atribuir_pendientes() >= 2
    assert Comision.objects.filter(evento__in=evs).count() == 2
    monkeypatch.setattr(tareas, "_programado_hasta", 0.0)  # this process's window is over
    tareas.programar_atribucion(evento_ids=["c"])
    assert len(publicadas) == 2

    # Broker down: publishing fails fast, is swallowed (logged) and the key is released.
    cache.delete(tareas.CLAVE_DRENADO_EN_COLA)

    def caido(*a, **k):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tareas.atribuir_pendientes, "apply_async", caido)
    tareas.programar_atribucion(evento_ids=["d"])  # does not raise
    assert cache.get(tareas.CLAVE_DRENADO_EN_COLA) is None


@pytest.mark.django_db
def test_drenado_procesa_en_lotes_hasta_vaciar(settings):
    settings.ATRIBUCION_LOTE = 2
    _, _socio, pub = programa()
    evs = ventas(pub, 5)
    assert tareas.atribuir_pendientes() == 5
    assert Comision.objects.filter(evento__in=evs).count() == 5


# --- Concurrency against the real database -------------------------------------------------
def _en_paralelo(funciones):
    barrera = threading.Barrier(len(funciones))
    errores = []
    resultados = [None] * len(funciones)

    def correr(i, f):
        try:
            barrera.wait(timeout=10)
            resultados[i] = f()
        except Exception as exc:  # noqa: BLE001 — reported below
            errores.append(exc)
        finally:
            connection.close()

    hilos = [threading.Thread(target=correr, args=(i, f)) for i, f in enumerate(funciones)]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join(timeout=60)
    assert not errores, errores
    return resultados


@pytest.mark.postgres  # SELECT … FOR UPDATE SKIP LOCKED
@pytest.mark.django_db(transaction=True)
def test_dos_workers_concurrentes_acreditan_cada_evento_una_vez():
    marca, _socio, pub = programa()
    otro = SocioFactory()
    pub_otro = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=otro))
    ReglaPagoFactory(asociacion=AsociacionFactory(marca=marca, socio=otro))
    evs = ventas(pub, 40)
    for i in range(40):
        EventoFactory(tipo=TipoEvento.CLICK, publicacion=pub_otro, visitante_id=f"x{i}")
        EventoFactory(
            tipo=TipoEvento.CONVERSION,
            publicacion=None,
            socio=None,
            marca=marca,
            visitante_id=f"x{i}",
        )
    ids = [e.id for e in evs]

    def drenar():
        total = 0
        while (r := eventos_pendientes_atribuir(lote=7)).reclamados:
            total += r.reclamados
        return total

    # Two drains, a task with explicit ids and a sweep-like duplicate all race each other.
    resultados = _en_paralelo(
        [
            drenar,
            drenar,
            lambda: eventos_atribuir(evento_ids=ids, lote=5).reclamados,
            lambda: eventos_atribuir(evento_ids=ids, lote=5).reclamados,
        ]
    )
    assert sum(resultados) == 120  # every event claimed exactly once
    assert Comision.objects.filter(evento__in=evs).count() == 40
    assert Comision.objects.filter(socio=otro).count() == 40
    assert (
        Comision.objects.values("evento_id", "socio_id").distinct().count()
        == Comision.objects.count()
    )
    from eventos_medios.models import Evento

    assert not Evento.objects.filter(estado_atribucion=EstadoAtribucion.PENDIENTE).exists()


@pytest.mark.postgres  # advisory locks between workers
@pytest.mark.django_db(transaction=True)
def test_leads_del_mismo_visitante_en_workers_concurrentes_pagan_una_vez():
    marca, socio, pub = programa()
    asociacion = AsociacionFactory(marca=marca, socio=SocioFactory())
    ReglaPagoFactory(
        asociacion=AsociacionFactory._meta.model.objects.get(marca=marca, socio=socio),
        tipo_evento="lead",
        modalidad="fijo",
        valor=D("3.00"),
    )
    del asociacion
    leads = [
        EventoFactory(tipo=TipoEvento.LEAD, publicacion=pub, visitante_id="mismo") for _ in range(6)
    ]
    # Six workers, one lead each, all at once.
    _en_paralelo([lambda e=e: eventos_atribuir(evento_ids=[e.id]).reclamados for e in leads])
    montos = sorted(Comision.objects.filter(evento__in=leads).values_list("monto", flat=True))
    assert montos == [D("0.00")] * 5 + [D("3.00")]
