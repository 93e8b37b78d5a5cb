"""Reads of payout profiles (PRODUCT.md §9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from comision_recompensa.models import PerfilPago
from comision_recompensa.perfiles.validacion import (
    CAMPOS_PERFIL,
    perfil_enmascarado,
    perfil_faltantes,
    perfil_validar,
)


@dataclass(frozen=True)
class EstadoPerfil:
    """Whether a profile can be paid to, and if not, why (field names; no values)."""

    completo: bool
    faltan: list[str]
    invalidos: list[str]


def perfil_pago_de(*, socio_id: uuid.UUID) -> PerfilPago | None:
    """The partner's profile, or None when it never filled one."""
    return PerfilPago.objects.filter(socio_id=socio_id).first()


def perfil_datos(perfil: PerfilPago | None) -> dict[str, str]:
    """The five fields as a dict ("" for each when there is no profile). Unmasked: never
    show it; use `perfil_enmascarado`."""
    return {campo: (getattr(perfil, campo) if perfil else "") or "" for campo in CAMPOS_PERFIL}


def perfil_estado(perfil: PerfilPago | None) -> EstadoPerfil:
    """Complete = every field present and valid by today's rules (re-checked, not trusted)."""
    datos = perfil_datos(perfil)
    faltan = perfil_faltantes(datos)
    _, errores = perfil_validar(datos)
    invalidos = sorted(c for c in errores if c not in faltan)
    return EstadoPerfil(completo=not faltan and not invalidos, faltan=faltan, invalidos=invalidos)


def perfil_pago_enmascarado(*, socio_id: uuid.UUID) -> dict[str, str]:
    """The partner's profile fields with the reference masked."""
    return perfil_enmascarado(perfil_datos(perfil_pago_de(socio_id=socio_id)))
