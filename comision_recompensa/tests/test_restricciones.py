"""Database constraints of the money app survive the column renames (0003: the share's CHECK
follows `credito` → `participacion` in the database without being re-created)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from comision_recompensa.tests.factories import ComisionFactory, RecompensaFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fabrica", [ComisionFactory, RecompensaFactory])
@pytest.mark.parametrize("participacion", ["-0.000001", "1.000001"])
def test_la_participacion_esta_entre_0_y_1(fabrica, participacion):
    with pytest.raises(IntegrityError), transaction.atomic():
        fabrica(participacion=Decimal(participacion))


@pytest.mark.parametrize("fabrica", [ComisionFactory, RecompensaFactory])
def test_los_extremos_valen(fabrica):
    assert fabrica(participacion=Decimal("0")).pk
    assert fabrica(participacion=Decimal("1")).pk
