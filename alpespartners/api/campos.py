"""Serializer fields shared by both apps' APIs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from alpespartners.dinero import DineroInvalido, dinero_parsear


class CampoDinero(serializers.DecimalField):
    """A money amount under PRODUCT.md §8's rules (`alpespartners.dinero`): plain ASCII digits,
    an optional point and at most two decimals, as a string or a number without exponent.

    DRF's DecimalField would accept `1_000`, Arabic-Indic digits, `1e3` or ` 5`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            valor = dinero_parsear(data)
        except DineroInvalido as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
        return self.quantize(self.validate_precision(valor))
