"""`reatribuir`: dry run, a real run after a model switch, paid items, idempotency, resuming."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max, Min
from django.utils import timezone

from comision_recompensa.atribucion.reatribucion import (
    ParametrosReatribucion,
    reatribucion_ejecutar,
)
from comision_recompensa.atribucion.services import eventos_atribuir
from comision_recompensa.management.commands.reatribuir import Command, leer_fecha
from comision_recompensa.models import (
    Ajuste,
    CambioAtribucion,
    Comision,
    EjecucionReatribucion,
    EstadoCredito,
    Recompensa,
)
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from eventos_medios.models import TIPOS_CONVERSION, EstadoAtribucion, Evento, TipoEvento
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

# Date-sensitive: the runs cover days, the events are minutes or hours old (make test-reloj).
pytestmark = [pytest.mark.django_db, pytest.mark.reloj]
D = Decimal
AHORA: dt.datetime  # the (pinned) instant each test runs at, set by _ahora


@pytest.fixture(autouse=True)
def _ahora():
    global AHORA  # the helpers below place events relative to it
    AHORA = timezone.now().replace(microsecond=0)


def dias_de_las_conversiones() -> tuple[str, str]:
    """First and last day (YYYY-MM-DD) with a conversion: the range a run must cover, taken
    from the events themselves, so a venta minutes old is inside it at any hour."""
    rango = Evento.objects.filter(tipo__in=TIPOS_CONVERSION).aggregate(
        desde=Min("ocurrido_en"), hasta=Max("ocurrido_en")
    )
    return rango["desde"].date().isoformat(), rango["hasta"].date().isoformat()


def socio_con_publicacion(marca):
    socio = SocioFactory()
    pub = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=socio))
    ReglaPagoFactory(asociacion=AsociacionFactory(marca=marca, socio=socio))  # 10 % of ventas
    return socio, pub


def click(pub, visitante, horas_antes):
    return EventoFactory(
        tipo=TipoEvento.CLICK,
        publicacion=pub,
        visitante_id=visitante,
        ocurrido_en=AHORA - dt.timedelta(hours=horas_antes),
    )


def venta(marca, visitante, valor="100.00", minutos_antes=0):
    return EventoFactory(
        tipo=TipoEvento.VENTA,
        publicacion=None,
        socio=None,
        marca=marca,
        visitante_id=visitante,
        valor=D(valor),
        moneda="EUR",
        ocurrido_en=AHORA - dt.timedelta(minutes=minutos_antes),
    )


def estado_dinero():
    """A snapshot of every credit, adjustment and audit row (to prove nothing changed)."""
    creditos = sorted(
        (str(c.id), c.estado, c.participacion, c.monto, c.socio_id)
        for m in (Comision, Recompensa)
        for c in m.objects.all()
    )
    return (
        creditos,
        sorted((str(a.id), a.monto) for a in Ajuste.objects.all()),
        CambioAtribucion.objects.count(),
    )


@pytest.fixture
def escenario():
    """Marca on last-click; visitors v1..v3 each touched A (3 h before) then B (1 h before)."""
    marca = MarcaFactory(modelo_atribucion="ultimo_clic")
    a, pub_a = socio_con_publicacion(marca)
    b, pub_b = socio_con_publicacion(marca)
    ventas = []
    for i in range(3):
        v = f"v{i}"
        click(pub_a, v, 3)
        click(pub_b, v, 1)
        ventas.append(venta(marca, v, minutos_antes=i))
    eventos_atribuir(evento_ids=[x.id for x in ventas])
    assert Comision.objects.filter(socio=b, monto=D("10.00")).count() == 3
    return marca, a, b, ventas


def ejecutar(**kw):
    cmd = Command(stdout=StringIO(), stderr=StringIO())
    desde, hasta = dias_de_las_conversiones()
    opciones = {"desde": desde, "hasta": hasta, "sin_progreso": True, **kw}
    ejecucion, resumen, _ = cmd.handle_one(**opciones)
    return ejecucion, resumen


def test_leer_fecha_dia_inclusivo_e_iso():
    assert leer_fecha("2026-11-03", fin_del_dia=True).time() == dt.time.max
    assert leer_fecha("2026-11-03", fin_del_dia=False).hour == 0
    assert leer_fecha("2026-11-03T10:15:00+00:00", fin_del_dia=True).minute == 15
    with pytest.raises(CommandError):
        leer_fecha("ayer", fin_del_dia=False)


def test_sin_cambios_de_politica_no_cambia_nada(escenario):
    antes = estado_dinero()
    ejecucion, resumen = ejecutar()
    assert resumen.eventos == 3 and resumen.cambios == 0
    assert estado_dinero() == antes
    assert ejecucion.terminada_en is not None


def test_dry_run_no_cambia_nada(escenario):
    marca, _a, b, _ = escenario
    marca.modelo_atribucion = "lineal"
    marca.save()
    antes = estado_dinero()
    ejecucion, resumen = ejecutar(dry_run=True)
    assert ejecucion is None
    # It reports what a real run would do: 3 changed (B 10 → 5) and 3 created (A 5).
    assert (resumen.cambiados, resumen.creados) == (3, 3)
    assert resumen.por_socio[str(b.id)]["delta"] == {"EUR": "-15.00"}
    assert estado_dinero() == antes
    assert not EjecucionReatribucion.objects.exists()


def test_modelo_es_un_what_if_que_no_escribe(escenario):
    _marca, a, _b, _ = escenario
    antes = estado_dinero()
    _, resumen = ejecutar(modelo="primer_clic")
    assert resumen.por_socio[str(a.id)]["creados"] == 3
    assert resumen.revertidos == 3
    assert estado_dinero() == antes
    with pytest.raises(Exception, match="dry run"):
        ParametrosReatribucion(desde=AHORA, hasta=AHORA, modelo="lineal").validar()


def test_cambio_de_modelo_cambia_solo_lo_no_pagado_y_repetir_no_cambia_nada(escenario):
    marca, a, b, ventas = escenario
    pagada = Comision.objects.get(evento=ventas[0], socio=b)
    pagada.estado = EstadoCredito.PAGADA
    pagada.pagado_en = AHORA
    pagada.save()
    aprobada = Comision.objects.get(evento=ventas[1], socio=b)
    aprobada.estado = EstadoCredito.APROBADA
    aprobada.save()
    marca.modelo_atribucion = "lineal"
    marca.save()

    ejecucion, resumen = ejecutar()
    assert (resumen.creados, resumen.cambiados, resumen.ajustes, resumen.revertidos) == (3, 2, 1, 0)
    # Unpaid credits of B went from 10.00 to 5.00 in place (the approved one stays approved).
    aprobada.refresh_from_db()
    assert (aprobada.estado, aprobada.participacion, aprobada.monto) == (
        "aprobada",
        D("0.5"),
        D("5.00"),
    )
    assert aprobada.detalle_atribucion["modelo"] == "lineal"
    # The paid one is untouched; an adjustment of -5.00 goes to B's next payout.
    pagada.refresh_from_db()
    assert (pagada.estado, pagada.monto) == ("pagada", D("10.00"))
    ajuste = Ajuste.objects.get(comision=pagada)
    assert (ajuste.socio_id, ajuste.monto) == (b.id, D("-5.00"))
    # A is now credited 5.00 on each sale.
    assert (
        sorted(Comision.objects.filter(socio=a).values_list("monto", flat=True)) == [D("5.00")] * 3
    )
    # Every change is in the audit trail, linked to the run.
    acciones = sorted(ejecucion.cambios.values_list("accion", flat=True))
    assert acciones == ["ajuste", "cambiada", "cambiada", "creada", "creada", "creada"]
    assert resumen.por_socio[str(b.id)]["delta"] == {"EUR": "-15.00"}
    assert resumen.por_socio[str(a.id)]["delta"] == {"EUR": "15.00"}

    antes = estado_dinero()
    _, segundo = ejecutar()
    assert segundo.cambios == 0
    assert estado_dinero() == antes


def test_socio_que_pierde_el_credito_se_revierte(escenario):
    marca, a, b, _ventas = escenario
    marca.modelo_atribucion = "primer_clic"
    marca.save()
    _, resumen = ejecutar()
    assert (resumen.creados, resumen.revertidos) == (3, 3)
    assert set(Comision.objects.filter(socio=b).values_list("estado", flat=True)) == {"revertida"}
    assert Comision.objects.filter(socio=a, estado="pendiente", monto=D("10.00")).count() == 3


def test_filtro_socio_solo_toca_a_ese_socio(escenario):
    marca, a, b, _ = escenario
    marca.modelo_atribucion = "lineal"
    marca.save()
    _, resumen = ejecutar(socio=str(a.id))
    assert (resumen.creados, resumen.cambiados) == (3, 0)
    assert Comision.objects.filter(socio=b, monto=D("10.00")).count() == 3


def test_evento_sin_atribucion_pasa_a_atribuido(escenario):
    marca, a, _b, _ = escenario
    huerfana = venta(marca, "v-nuevo", minutos_antes=30)
    eventos_atribuir(evento_ids=[huerfana.id])
    huerfana.refresh_from_db()
    assert huerfana.estado_atribucion == EstadoAtribucion.SIN_ATRIBUCION
    # A click that arrived late (ingestion delay) is found by the re-attribution.
    click(PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=a)), "v-nuevo", 2)
    _, resumen = ejecutar()
    assert resumen.creados == 1
    huerfana.refresh_from_db()
    assert huerfana.estado_atribucion == EstadoAtribucion.ATRIBUIDO


def test_reanudable_tras_interrupcion(escenario):
    marca, a, b, _ventas = escenario
    marca.modelo_atribucion = "lineal"
    marca.save()
    parametros = ParametrosReatribucion(
        desde=AHORA - dt.timedelta(days=1), hasta=AHORA + dt.timedelta(days=1)
    )
    ejecucion, parcial = reatribucion_ejecutar(parametros=parametros, tamano=1, max_lotes=2)
    assert parcial.eventos == 2 and ejecucion.terminada_en is None
    ejecucion.refresh_from_db()
    assert ejecucion.eventos_procesados == 2 and ejecucion.cursor_evento_id is not None
    # Resume through the command, by id.
    out = StringIO()
    call_command("reatribuir", reanudar=str(ejecucion.pk), sin_progreso=True, stdout=out)
    ejecucion.refresh_from_db()
    assert ejecucion.terminada_en is not None and ejecucion.eventos_procesados == 3
    assert ejecucion.balance["creados"] == 3 and ejecucion.balance["cambiados"] == 3
    assert Comision.objects.filter(socio=a, monto=D("5.00")).count() == 3
    assert Comision.objects.filter(socio=b, monto=D("5.00")).count() == 3
    assert "created: 3" in out.getvalue()


def test_comando_imprime_resumen_por_socio(escenario):
    marca, a, _b, _ = escenario
    marca.modelo_atribucion = "lineal"
    marca.save()
    out, err = StringIO(), StringIO()
    desde, hasta = dias_de_las_conversiones()
    call_command(
        "reatribuir", desde=desde, hasta=hasta, dry_run=True, progreso=True, stdout=out, stderr=err
    )
    texto = out.getvalue()
    assert "DRY RUN" in texto and a.nombre in texto and "-15.00 EUR" in texto
    assert "reatribuir" in err.getvalue()  # the (forced) progress bar goes to stderr


def test_comando_valida_argumentos():
    with pytest.raises(CommandError):
        call_command("reatribuir", desde="2026-01-02")
    with pytest.raises(CommandError):
        call_command("reatribuir", desde="2026-01-02", hasta="2026-01-01")
    with pytest.raises(CommandError):
        call_command("reatribuir", desde="2026-01-01", hasta="2026-01-02", marca="nope")


def test_reatribuir_actualiza_el_socio_del_evento(escenario):
    """Last click credited B alone (socio = B); linear splits A/B (socio cleared); first click
    credits A alone (socio = A); an identical second run changes nothing."""
    marca, a, b, ventas = escenario
    assert {Evento.objects.get(pk=v.pk).socio_id for v in ventas} == {b.id}
    marca.modelo_atribucion = "lineal"
    marca.save()
    ejecutar()
    assert {Evento.objects.get(pk=v.pk).socio_id for v in ventas} == {None}
    marca.modelo_atribucion = "primer_clic"
    marca.save()
    ejecutar()
    assert {Evento.objects.get(pk=v.pk).socio_id for v in ventas} == {a.id}
    _, segundo = ejecutar()
    assert segundo.cambios == 0
    assert {Evento.objects.get(pk=v.pk).socio_id for v in ventas} == {a.id}
