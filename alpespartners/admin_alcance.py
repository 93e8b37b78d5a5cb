"""The admin filters its rows through the same access scope as the API (`alpespartners.alcance`).

Only staff reach the admin, and staff see everything, so today the filter is a no-op; it keeps
a future non-staff admin user (a brand manager with admin access, say) from seeing more than
the API would show it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from alpespartners.alcance import Alcance, alcance_de


class FiltradoPorAlcance:
    """ModelAdmin mixin: `get_queryset` keeps the rows `filtro_alcance(alcance)` allows.

    Set `filtro_alcance = staticmethod(alcance.q_<entidad>)`; `distinto = True` for entities
    whose filter joins a to-many relation."""

    filtro_alcance: Callable[[Alcance], Q | None]
    distinto = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        filtro = self.filtro_alcance(alcance_de(request.user))
        if filtro is None:
            return qs
        qs = qs.filter(filtro)
        return qs.distinct() if self.distinto else qs
