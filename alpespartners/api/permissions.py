"""DRF permission classes built on Alcance."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from alpespartners.alcance import alcance_de


class EsStaff(BasePermission):
    message = "Only staff may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class StaffEscribeResto_Lee(BasePermission):
    """Authenticated users read (scoped by the queryset); only staff write."""

    message = "Only staff may change this resource."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or bool(request.user.is_staff)


class PuedeEnviarEventos(BasePermission):
    """Staff or a user linked to at least one Marca may send events."""

    message = "Only staff or a brand's users may send events."

    def has_permission(self, request: Any, view: Any) -> bool:
        a = alcance_de(request.user)
        return a.es_staff or a.es_marca
