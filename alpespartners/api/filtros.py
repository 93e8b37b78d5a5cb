"""Query-parameter filters shared by both apps' list endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


class MomentoField(forms.Field):
    """`YYYY-MM-DD` or an ISO 8601 datetime, converted to UTC.

    A bare date is the start of that day (UTC), or its last instant when `fin_del_dia`, so
    `hasta=2026-11-27` includes the whole 27th (the same rule everywhere: eventos, credits,
    reports). A naive datetime is read as UTC.
    """

    def __init__(self, *args: Any, fin_del_dia: bool = False, **kwargs: Any) -> None:
        self.fin_del_dia = fin_del_dia
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        texto = str(value).strip()
        try:
            # A bare date first: parse_datetime would read "2026-11-27" as midnight.
            fecha = parse_date(texto)
            momento = None if fecha else parse_datetime(texto)
        except ValueError:
            fecha = momento = None
        if fecha is not None:
            hora = dt.time.max if self.fin_del_dia else dt.time.min
            momento = dt.datetime.combine(fecha, hora, tzinfo=dt.UTC)
        if momento is None:
            raise forms.ValidationError("Use YYYY-MM-DD or an ISO 8601 datetime.")
        if timezone.is_naive(momento):
            momento = timezone.make_aware(momento, dt.UTC)
        try:
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
            return momento.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Date-time out of range.") from None


class FinMomentoField(MomentoField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, fin_del_dia=True, **kwargs)


class MomentoFilter(django_filters.Filter):
    """`desde`-style bound: a bare date is the start of the day."""

    field_class = MomentoField


class FinMomentoFilter(django_filters.Filter):
    """`hasta`-style bound: a bare date includes that whole day."""

    field_class = FinMomentoField
