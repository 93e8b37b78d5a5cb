"""pagos_generar: grouping per (socio, marca, moneda), exactly-once claiming, clawbacks,
carry-over. (Per-brand holds and the minimum: test_pagos_por_marca.py, test_pago_minimo.py.)"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from comision_recompensa.models import (
    Ajuste,
    Comision,
    EstadoCredito,
    EstadoPago,
    Pago,
    Recompensa,
)
from comision_recompensa.pagos import tasks as tareas_pagos
from comision_recompensa.pagos.selectors import pago_items
from comision_recompensa.pagos.services import pago_confirmar, pagos_generar
from comision_recompensa.tests.factories import ComisionFactory, PagoFactory
from comision_recompensa.tests.pagos_helpers import (
    ajuste,
    comision_aprobada,
    perfil_completo,
    recompensa_aprobada,
)
from eventos_medios.tests.factories import SocioFactory

pytestmark = pytest.mark.django_db


def test_agrupa_por_socio_y_moneda_y_solo_lo_aprobado_sin_pagar(marca):
    a, b = SocioFactory(), SocioFactory()
    perfil_completo(a)
    perfil_completo(b)
    c1 = comision_aprobada(a, "10.00", marca=marca)
    c2 = comision_aprobada(a, "5.50", marca=marca)
    r1 = recompensa_aprobada(a, "3.00", marca=marca)
    c_usd = comision_aprobada(a, "7.00", "USD", marca=marca)
    c_b = comision_aprobada(b, "4.00", marca=marca)
    # Not payable: pending, reversed, zero, already in a Pago.
    pendiente = ComisionFactory(socio=a, estado=EstadoCredito.PENDIENTE)
    revertida = ComisionFactory(socio=a, estado=EstadoCredito.REVERTIDA)
    cero = ComisionFactory(socio=a, estado=EstadoCredito.APROBADA, monto=Decimal("0.00"))
    otro_pago = PagoFactory(socio=a)
    ya_en_pago = comision_aprobada(a, "99.00", pago=otro_pago, marca=marca)

    pagos = pagos_generar()

    assert len(pagos) == 3
    por_clave = {(p.socio_id, p.moneda): p for p in pagos}
    eur_a = por_clave[(a.id, "EUR")]
    assert eur_a.monto == Decimal("18.50")
    assert eur_a.estado == EstadoPago.PENDIENTE
    assert {i["id"] for i in pago_items(pago=eur_a)} == {c1.id, c2.id, r1.id}
    assert por_clave[(a.id, "USD")].monto == Decimal("7.00")
    assert por_clave[(b.id, "EUR")].monto == Decimal("4.00")
    for credito in (c1, c2, c_usd, c_b):
        credito.refresh_from_db()
    r1.refresh_from_db()
    assert c1.pago_id == c2.pago_id == r1.pago_id == eur_a.id
    assert c_usd.pago_id == por_clave[(a.id, "USD")].id
    for credito in (pendiente, revertida, cero):
        credito.refresh_from_db()
        assert credito.pago_id is None
    ya_en_pago.refresh_from_db()
    assert ya_en_pago.pago_id == otro_pago.id
    # A second run finds nothing left.
    assert pagos_generar() == []
    assert Pago.objects.count() == 4


def test_filtra_por_socio():
    a, b = SocioFactory(), SocioFactory()
    comision_aprobada(a)
    cb = comision_aprobada(b)
    pagos = pagos_generar(socio_id=a.id)
    assert [p.socio_id for p in pagos] == [a.id]
    cb.refresh_from_db()
    assert cb.pago_id is None


def test_reversion_tras_pago_entra_como_ajuste_negativo_en_el_siguiente_pago(marca):
    from comision_recompensa.creditos.services import credito_revertir

    socio = SocioFactory()
    pagada = comision_aprobada(socio, "40.00", marca=marca)
    (primero,) = pagos_generar()
    Pago.objects.filter(id=primero.id).update(estado=EstadoPago.ENVIADO)
    pago_confirmar(pago_id=primero.id, estado="pagado", monto="40.00", moneda="EUR")
    pagada.refresh_from_db()
    assert pagada.estado == EstadoCredito.PAGADA

    credito_revertir(credito=pagada, motivo="refund")
    clawback = Ajuste.objects.get(socio=socio, pago__isnull=True)
    assert clawback.monto == Decimal("-40.00")
    nueva = comision_aprobada(socio, "100.00", marca=marca)

    (segundo,) = pagos_generar()
    assert segundo.monto == Decimal("60.00")
    items = {(i["tipo"], i["id"]): i["monto"] for i in pago_items(pago=segundo)}
    assert items == {
        ("comision", nueva.id): Decimal("100.00"),
        ("ajuste", clawback.id): Decimal("-40.00"),
    }
    clawback.refresh_from_db()
    assert clawback.pago_id == segundo.id


def test_grupo_con_total_no_positivo_se_arrastra_al_siguiente_pago(marca):
    socio = SocioFactory()
    deuda = ajuste(socio, "-30.00", marca=marca)
    c1 = comision_aprobada(socio, "10.00", marca=marca)

    assert pagos_generar() == []
    c1.refresh_from_db()
    deuda.refresh_from_db()
    assert c1.pago_id is None and deuda.pago_id is None
    assert Pago.objects.count() == 0

    comision_aprobada(socio, "25.00", marca=marca)
    (pago,) = pagos_generar()
    assert pago.monto == Decimal("5.00")
    assert len(pago_items(pago=pago)) == 3


def test_solo_ajustes_no_generan_pago(marca):
    socio = SocioFactory()
    ajuste(socio, "-5.00", marca=marca)
    ajuste(socio, "2.00", marca=marca)
    assert pagos_generar() == []
    assert Ajuste.objects.filter(pago__isnull=True).count() == 2


def test_comando_generar_pagos_resume(capsys, marca):
    a = SocioFactory()
    comision_aprobada(a, "12.00", marca=marca)
    comision_aprobada(SocioFactory(), "3.00", "USD")
    call_command("generar_pagos")
    salida = capsys.readouterr().out
    assert "2 Pagos generated: 12.00 EUR, 3.00 USD." in salida

    comision_aprobada(a, "1.00", marca=marca)
    call_command("generar_pagos", "--socio", str(a.id))
    assert "1 Pagos generated: 1.00 EUR." in capsys.readouterr().out


def test_generacion_encola_envio_al_confirmar(django_capture_on_commit_callbacks, monkeypatch):
    encolados: list[str] = []
    monkeypatch.setattr(tareas_pagos.enviar_pago, "delay", encolados.append)
    socio = SocioFactory()
    perfil_completo(socio)
    comision_aprobada(socio)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (pago,) = pagos_generar()
    # One callback: pago_generado's receiver, deferred to the commit, queues the fast path.
    assert len(callbacks) == 1 and encolados == []
    callbacks[0]()
    assert encolados == [str(pago.id)]
    assert pago.estado == EstadoPago.PENDIENTE


@pytest.mark.postgres  # row locks
@pytest.mark.django_db(transaction=True)
def test_dos_ejecuciones_concurrentes_no_reparten_un_item_dos_veces(marca):
    socios = [SocioFactory() for _ in range(6)]
    for s in socios:
        for i in range(6):
            comision_aprobada(s, f"{i + 1}.00", marca=marca)
        recompensa_aprobada(s, "2.50", marca=marca)
        comision_aprobada(s, "4.00", "USD", marca=marca)
    esperado = sum(Comision.objects.values_list("monto", flat=True)) + sum(
        Recompensa.objects.values_list("monto", flat=True)
    )

    for _ronda in range(3):
        barrera = threading.Barrier(2)
        resultados: list[list[Pago]] = []
        errores: list[BaseException] = []

        def correr(barrera=barrera, resultados=resultados, errores=errores):
            try:
                barrera.wait()
                resultados.append(pagos_generar())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errores.append(exc)
            finally:
                connection.close()

        hilos = [threading.Thread(target=correr) for _ in range(2)]
        for h in hilos:
            h.start()
        for h in hilos:
            h.join(timeout=60)
        assert not errores
        # Add more work for the next round.
        for s in socios[:3]:
            comision_aprobada(s, "1.00", marca=marca)
        esperado += Decimal("3.00")
    pagos_generar()

    assert Comision.objects.filter(pago__isnull=True).count() == 0
    assert Recompensa.objects.filter(pago__isnull=True).count() == 0
    total_pagos = sum(Pago.objects.values_list("monto", flat=True))
    assert total_pagos == esperado
    for pago in Pago.objects.all():
        assert pago.monto == sum(i["monto"] for i in pago_items(pago=pago))


def test_el_monto_del_pago_tiene_dos_decimales(marca):
    """SQLite sums decimals as floats; the Pago (in memory and stored) is exactly 24.99."""
    socio = SocioFactory()
    for monto in ("8.33", "8.33", "8.33"):
        comision_aprobada(socio, monto, marca=marca)

    (pago,) = pagos_generar(socio_id=socio.id)

    assert str(pago.monto) == "24.99"
    pago.refresh_from_db()
    assert str(pago.monto) == "24.99"
