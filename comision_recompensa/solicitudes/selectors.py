"""Reads of applications and of the programmes open to them."""

from __future__ import annotations

from django.db.models import QuerySet

from comision_recompensa.models import Solicitud
from eventos_medios.models import Marca


def marca_con_solicitudes_abiertas(*, slug: str) -> Marca | None:
    """The active marca with this slug whose default terms accept applications, else None
    (unknown, inactive or closed programmes look the same to a stranger)."""
    return (
        Marca.objects.filter(slug=slug, activo=True, terminos_por_defecto__acepta_solicitudes=True)
        .only("id", "nombre", "slug", "sitio_web")
        .first()
    )


def solicitudes_pendientes() -> QuerySet[Solicitud]:
    """Applications waiting for staff, oldest first."""
    return (
        Solicitud.objects.filter(estado="pendiente").select_related("marca").order_by("creado_en")
    )
