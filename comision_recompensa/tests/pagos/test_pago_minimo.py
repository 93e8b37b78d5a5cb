"""PAGO_MINIMO (PRODUCT.md §9, issue 11 item 3): no Pago under the minimum of its currency; the
balance waits, nothing claimed. Today's probe (a 0.01 EUR payout) cannot happen any more."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from comision_recompensa.models import Ajuste, Comision, Pago
from comision_recompensa.pagos.services import pago_minimo, pagos_generar
from comision_recompensa.tests.pagos_helpers import ajuste, comision_aprobada, perfil_completo
from eventos_medios.tests.factories import SocioFactory

pytestmark = pytest.mark.django_db

RAIZ = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _minimo_por_defecto(settings):
    """The real defaults (this directory's conftest lowers the minimum for other tests)."""
    settings.PAGO_MINIMO = Decimal("50.00")
    settings.PAGO_MINIMO_POR_MONEDA = {"JPY": Decimal("5000.00")}


@pytest.fixture
def payable(marca):
    socio = SocioFactory()
    perfil_completo(socio)
    return socio


def test_la_sonda_de_un_centimo_ya_no_genera_pago(payable, marca):
    centimo = comision_aprobada(payable, "0.01", marca=marca)
    assert pagos_generar() == []
    assert not Pago.objects.exists()
    centimo.refresh_from_db()
    assert centimo.pago_id is None  # nothing claimed: it waits

    comision_aprobada(payable, "49.98", marca=marca)
    assert pagos_generar() == []  # 49.99
    comision_aprobada(payable, "0.01", marca=marca)
    (pago,) = pagos_generar()  # 50.00: exactly the minimum
    assert pago.monto == Decimal("50.00")
    assert not Comision.objects.filter(pago__isnull=True).exists()


def test_minimo_por_moneda(payable, marca):
    comision_aprobada(payable, "4999.00", "JPY", marca=marca)
    comision_aprobada(payable, "49.00", "USD", marca=marca)
    assert pagos_generar() == []
    comision_aprobada(payable, "1.00", "JPY", marca=marca)
    comision_aprobada(payable, "1.00", "USD", marca=marca)
    assert sorted((p.moneda, p.monto) for p in pagos_generar()) == [
        ("JPY", Decimal("5000.00")),
        ("USD", Decimal("50.00")),
    ]
    assert pago_minimo("JPY") == Decimal("5000.00")
    assert pago_minimo("EUR") == Decimal("50.00")


def test_el_minimo_se_mide_tras_los_ajustes(payable, marca):
    comision_aprobada(payable, "60.00", marca=marca)
    deuda = ajuste(payable, "-20.00", marca=marca)
    assert pagos_generar() == []  # 40.00 net
    deuda.refresh_from_db()
    assert deuda.pago_id is None
    comision_aprobada(payable, "10.00", marca=marca)
    (pago,) = pagos_generar()
    assert pago.monto == Decimal("50.00")
    assert Ajuste.objects.get().pago_id == pago.id


def test_el_minimo_es_por_marca(payable, marca):
    """30 + 30 EUR of two brands are two balances under the minimum: no Pago mixes them."""
    from eventos_medios.tests.factories import MarcaFactory

    comision_aprobada(payable, "30.00", marca=marca)
    comision_aprobada(payable, "30.00", marca=MarcaFactory())
    assert pagos_generar() == []


def _arrancar(**variables: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    entorno = {**base, "DJANGO_SETTINGS_MODULE": "alpespartners.settings", "DEBUG": "true"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(settings.PAGO_MINIMO, sorted(settings.PAGO_MINIMO_POR_MONEDA.items()))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**entorno, **variables},
        cwd=RAIZ,
    )


@pytest.mark.parametrize(
    ("variables", "mensaje"),
    [
        ({"PAGO_MINIMO": "abc"}, "PAGO_MINIMO='abc' is not a valid amount"),
        ({"PAGO_MINIMO": "0"}, "PAGO_MINIMO='0' is not a valid amount"),
        ({"PAGO_MINIMO": "1e3"}, "PAGO_MINIMO='1e3' is not a valid amount"),
        ({"PAGO_MINIMO_POR_MONEDA": "JPY=5000"}, "must be <ISO 4217 code>:<amount>"),
        ({"PAGO_MINIMO_POR_MONEDA": "ZZZ:5"}, "must be <ISO 4217 code>:<amount>"),
        ({"PAGO_MINIMO_POR_MONEDA": "JPY:5,JPY:6"}, "JPY is given twice"),
        ({"PAGO_MINIMO_POR_MONEDA": "COP:-1"}, "not a valid amount"),
    ],
)
def test_un_minimo_mal_escrito_detiene_el_arranque(variables, mensaje):
    r = _arrancar(**variables)
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr and mensaje in r.stderr


def test_minimos_validos_desde_el_entorno():
    r = _arrancar(PAGO_MINIMO="25.5", PAGO_MINIMO_POR_MONEDA="jpy:5000, COP:200000")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (
        "25.50 [('COP', Decimal('200000.00')), ('JPY', Decimal('5000.00'))]"
    )
