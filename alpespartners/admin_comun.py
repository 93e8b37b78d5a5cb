"""ModelAdmin mixins shared by both apps' admins.

- `FiltradoPorAlcance`: the admin filters its rows through the same access scope as the API
  (`alpespartners.alcance`). Only staff reach the admin, and staff see everything, so today the
  filter is a no-op; it keeps a future non-staff admin user (a brand manager with admin access,
  say) from seeing more than the API would show it.
- `SoloLectura`: rows nobody adds, edits or deletes by hand (audit trails, money records).
"""

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


class SoloLectura:
    """ModelAdmin mixin: no add, change or delete (the rows change through services only)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
