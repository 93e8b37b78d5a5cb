"""The daily rollup behind the reports: rebuilt idempotently, read only while current,
invalidated by attribution and credit signals, and always giving the live numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from alpespartners.alcance import Alcance
from comision_recompensa import signals
from comision_recompensa.models import (
    Comision,
    DiaResumido,
    EstadoCredito,
    ResumenDiario,
    ResumenDinero,
)
from comision_recompensa.reportes import selectors as reportes
from comision_recompensa.reportes.resumen_diario import (
    dias_por_refrescar,
    resumen_dia_refrescar,
    resumen_refrescar,
)
from comision_recompensa.reportes.tasks import refrescar_resumen_diario
from comision_recompensa.tests.factories import ComisionFactory
from eventos_medios.models import EstadoAtribucion, TipoEvento
from eventos_medios.tests.factories import (
    EventoFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

# Date-sensitive: days relative to today, and today is never summarised (make test-reloj).
pytestmark = [pytest.mark.django_db, pytest.mark.reloj]

UTC = dt.UTC
STAFF = Alcance(es_staff=True, marca_ids=frozenset(), socio_id=None)


def _dia(n: int) -> dt.date:
    """n days before today (UTC)."""
    return timezone.now().astimezone(UTC).date() - dt.timedelta(days=n)


def _a_las(dia: dt.date, hora: int) -> dt.datetime:
    return dt.datetime.combine(dia, dt.time(hora), tzinfo=UTC)


@pytest.fixture
def datos(db):
    socio = SocioFactory()
    pub = PublicacionFactory(medio=MedioMarketingFactory(socio=socio))
    for n, hora, visitante in ((3, 9, "a"), (3, 10, "a"), (3, 11, "b"), (2, 9, "a"), (0, 0, "a")):
        EventoFactory(
            publicacion=pub, tipo=TipoEvento.CLICK, ocurrido_en=_a_las(_dia(n), hora),
            visitante_id=visitante,
        )  # fmt: skip
    venta = EventoFactory(
        publicacion=pub,
        tipo=TipoEvento.VENTA,
        ocurrido_en=_a_las(_dia(2), 12),
        valor=Decimal("80.00"),
        moneda="EUR",
        estado_atribucion=EstadoAtribucion.ATRIBUIDO,
    )
    comision = ComisionFactory(evento=venta, monto=Decimal("8.00"))
    return socio, pub, venta, comision


def _resumen(**filtros):
    d = reportes.totales(alcance=STAFF, **filtros)
    return d["eventos"]["click"], d["clicks_unicos"], d["comisiones"]["cantidad"], d["dinero"]


def test_rollup_da_lo_mismo_que_en_vivo_y_es_idempotente(datos):
    en_vivo = _resumen()
    # Unique per day: day −3 a, b; day −2 a; today a.
    assert en_vivo[:2] == (5, 4)
    primero = resumen_refrescar()
    assert primero["dias"] == 3  # days −3, −2, −1 (today is never summarised)
    filas = (ResumenDiario.objects.count(), ResumenDinero.objects.count())
    assert resumen_refrescar()["dias"] >= 1  # the window is rebuilt again…
    assert (ResumenDiario.objects.count(), ResumenDinero.objects.count()) == filas  # …not added
    assert _resumen() == en_vivo
    # A period with partial days at both ends: edges live, the middle from the rollup.
    desde, hasta = _a_las(_dia(3), 10), _a_las(_dia(0), 12)
    assert _resumen(desde=desde, hasta=hasta)[:2] == (4, 4)
    tablero = reportes.tablero(alcance=STAFF, desde=_a_las(_dia(3), 0), hasta=_a_las(_dia(-1), 0))
    assert tablero["eventos_por_dia"]["click"] == [3, 1, 0, 1]
    assert [(f["monto"], f["moneda"]) for f in tablero["top_socios"]] == [(Decimal("8.00"), "EUR")]


def test_hoy_nunca_se_resume(datos):
    with pytest.raises(ValueError):
        resumen_dia_refrescar(dia=_dia(0))
    assert _dia(0) not in dias_por_refrescar()
    assert resumen_refrescar(dias=[_dia(0)]) == {"dias": 0, "filas": 0, "omitidos": 1}


def test_atribucion_invalida_el_dia_y_el_informe_sigue_exacto(
    datos, django_capture_on_commit_callbacks
):
    *_, venta, _ = datos
    otro = SocioFactory()
    resumen_refrescar()
    alcance_otro = Alcance(es_staff=False, marca_ids=frozenset(), socio_id=otro.id)
    assert reportes.totales(alcance=alcance_otro)["eventos_total"] == 0
    # Attribution credits the venta to another partner (sets Evento.socio) and says so.
    type(venta).objects.filter(id=venta.id).update(socio=otro)
    # The invalidation runs once the change commits (`receptor_al_confirmar`).
    with django_capture_on_commit_callbacks(execute=True):
        signals.eventos_atribuidos.send(sender=None, evento_ids=[venta.id])
    assert not DiaResumido.objects.filter(dia=_dia(2)).exists()
    assert reportes.totales(alcance=alcance_otro)["eventos"]["venta"] == 1  # live
    resumen_refrescar()
    assert DiaResumido.objects.filter(dia=_dia(2), refrescado_en__isnull=False).exists()
    assert reportes.totales(alcance=alcance_otro)["eventos"]["venta"] == 1  # rollup


def test_cambio_de_estado_de_un_credito_invalida_su_dia(datos, django_capture_on_commit_callbacks):
    *_, comision = datos
    resumen_refrescar()
    Comision.objects.filter(id=comision.id).update(estado=EstadoCredito.APROBADA)
    with django_capture_on_commit_callbacks(execute=True):
        signals.comision_aprobada.send(sender=Comision, credito_id=comision.id)
    assert not DiaResumido.objects.filter(dia=_dia(2)).exists()
    cantidad, dinero = _resumen()[2:]
    assert cantidad[EstadoCredito.APROBADA] == 1
    assert dinero["EUR"][EstadoCredito.APROBADA] == Decimal("8.00")
    refrescar_resumen_diario()  # the beat task
    assert _resumen()[2][EstadoCredito.APROBADA] == 1


def test_comando_refrescar_resumen(datos, capsys):
    call_command(
        "refrescar_resumen", "--desde", _dia(3).isoformat(), "--hasta", _dia(0).isoformat()
    )
    assert set(DiaResumido.objects.values_list("dia", flat=True)) == {_dia(3), _dia(2), _dia(1)}
    assert "3 days refreshed" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--hasta"):
        call_command("refrescar_resumen", "--desde", "2026-03-05", "--hasta", "2026-03-01")
    with pytest.raises(CommandError, match="--desde"):
        call_command("refrescar_resumen", "--desde", "ayer", "--hasta", "2026-03-01")
    with pytest.raises(CommandError, match="together"):
        call_command("refrescar_resumen", "--desde", "2026-03-01")
