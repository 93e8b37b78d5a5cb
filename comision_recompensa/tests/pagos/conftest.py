"""Payout tests group small amounts: the minimum Pago is one cent here, except where a test
sets its own (test_pago_minimo.py is about the real default)."""

from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def _minimo_de_un_centimo(settings):
    settings.PAGO_MINIMO = Decimal("0.01")
    settings.PAGO_MINIMO_POR_MONEDA = {}
