"""Input validation helpers shared by the apps' API views."""

from __future__ import annotations

from typing import Any

from rest_framework.serializers import Serializer

from alpespartners.errors import ErrorValidacion


def errores_planos(errores: Any, prefijo: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested errors.

    {"reglas": [{}, {"valor": [..]}]} becomes {"reglas[1].valor": [..]}.
    """
    planos: dict[str, list[str]] = {}
    if isinstance(errores, dict):
        for clave, valor in errores.items():
            if prefijo and (isinstance(clave, int) or str(clave).isdigit()):
                nombre = f"{prefijo}[{clave}]"
            elif prefijo:
                nombre = f"{prefijo}.{clave}"
            else:
                nombre = str(clave)
            planos.update(errores_planos(valor, nombre))
    elif isinstance(errores, list):
        if all(not isinstance(e, (dict, list)) for e in errores):
            if errores:
                planos[prefijo or "non_field_errors"] = [str(e) for e in errores]
        else:
            for i, e in enumerate(errores):
                planos.update(errores_planos(e, f"{prefijo}[{i}]"))
    else:
        planos[prefijo or "non_field_errors"] = [str(errores)]
    return planos


def validar(serializer: Serializer[Any]) -> dict[str, Any]:
    """Validate input; errors are raised with flat field names (`reglas[1].valor`)."""
    if not serializer.is_valid():
        raise ErrorValidacion(errores_planos(serializer.errors))
    return dict(serializer.validated_data)
