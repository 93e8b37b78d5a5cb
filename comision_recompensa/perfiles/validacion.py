"""Rules of a payout profile's fields, and the one masking of its reference (PRODUCT.md §9).

Pure functions (no database): the services, the admin form, the `datos_pago` control and the
serializers all use these, so a profile the API accepts is one the control passes.
"""

from __future__ import annotations

import re
from typing import Any

import pycountry
from django.core.exceptions import ValidationError as ErrorDjango
from django.core.validators import validate_email
from stdnum import iban
from stdnum.exceptions import ValidationError as ErrorStdnum

from comision_recompensa.models import MetodoPago

CAMPOS_PERFIL = ("titular", "metodo", "referencia", "pais", "identificacion_fiscal")
MAX_LARGO = {
    "titular": 200,
    "metodo": 16,
    "referencia": 254,
    "pais": 2,
    "identificacion_fiscal": 64,
}
_FISCAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]*$", re.ASCII)
_IMPRIMIBLE = re.compile(r"^[^\x00-\x1f\x7f]+$")


def _referencia(metodo: str, valor: str) -> tuple[str, str | None]:
    """(normalised reference, error) for `metodo`."""
    if metodo == MetodoPago.TRANSFERENCIA:
        try:
            return iban.validate(valor), None
        except ErrorStdnum:
            return valor, "is not a valid IBAN (country, length or check digits)."
    if metodo == MetodoPago.PAYPAL:
        try:
            validate_email(valor)
        except ErrorDjango:
            return valor, "is not a valid e-mail address (the PayPal account)."
        local, _, dominio = valor.rpartition("@")
        return f"{local}@{dominio.lower()}", None
    if len(valor) < 3 or not _IMPRIMIBLE.match(valor):
        return valor, "must be at least 3 printable characters."
    return valor, None


def _texto(datos: dict[str, Any], campo: str, errores: dict[str, list[str]]) -> str:
    valor = datos.get(campo)
    if valor is None:
        return ""
    if not isinstance(valor, str):
        errores[campo] = ["must be a string."]
        return ""
    valor = valor.strip()
    if len(valor) > MAX_LARGO[campo]:
        errores[campo] = [f"must be at most {MAX_LARGO[campo]} characters."]
    return valor


def perfil_validar(datos: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Check and normalise the five fields of a profile (missing or null → "": a profile may
    be incomplete). Returns (clean values, errors per field)."""
    errores: dict[str, list[str]] = {}
    limpio = {campo: _texto(datos, campo, errores) for campo in CAMPOS_PERFIL}
    if limpio["metodo"] and limpio["metodo"] not in MetodoPago.values:
        errores["metodo"] = [f"must be one of {', '.join(MetodoPago.values)}."]
    pais = limpio["pais"].upper()
    if pais and (len(pais) != 2 or pycountry.countries.get(alpha_2=pais) is None):
        errores["pais"] = ["must be an ISO 3166-1 alpha-2 country code (e.g. ES)."]
    limpio["pais"] = pais
    fiscal = limpio["identificacion_fiscal"]
    if fiscal and not _FISCAL.match(fiscal):
        errores["identificacion_fiscal"] = ["may hold letters, digits, spaces, '.', '-' and '/'."]
    if limpio["referencia"] and not errores.get("metodo"):
        if not limpio["metodo"]:
            errores["metodo"] = ["is required to give a referencia."]
        else:
            limpio["referencia"], error = _referencia(limpio["metodo"], limpio["referencia"])
            if error:
                errores["referencia"] = [error]
    if not _IMPRIMIBLE.match(limpio["titular"] or "x"):
        errores["titular"] = ["must be printable text."]
    return limpio, errores


def perfil_faltantes(datos: dict[str, str]) -> list[str]:
    """The fields a complete profile needs and `datos` lacks, in a stable order."""
    return [campo for campo in CAMPOS_PERFIL if not (datos.get(campo) or "").strip()]


def referencia_enmascarar(metodo: str, referencia: str) -> str:
    """The only form in which a payout reference is shown: enough to recognise it, not to use
    it. IBAN: country and last four ("ES** **** **** **** **** 1332"); e-mail: first letter and
    domain ("j***@example.com"); anything else: its last four characters."""
    valor = (referencia or "").strip()
    if not valor:
        return ""
    if metodo == MetodoPago.PAYPAL and "@" in valor:
        local, _, dominio = valor.rpartition("@")
        return f"{local[:1]}***@{dominio}"
    if metodo == MetodoPago.TRANSFERENCIA:
        compacto = valor.replace(" ", "")
        oculto = compacto[:2] + "*" * max(len(compacto) - 6, 2) + compacto[-4:]
        return " ".join(oculto[i : i + 4] for i in range(0, len(oculto), 4))
    return "****" + valor[-4:] if len(valor) > 8 else "****"


def perfil_enmascarado(datos: dict[str, str]) -> dict[str, str]:
    """The profile's fields with the reference masked: what logs, signals and screens get."""
    masked = {campo: datos.get(campo, "") or "" for campo in CAMPOS_PERFIL}
    masked["referencia"] = referencia_enmascarar(masked["metodo"], masked["referencia"])
    return masked
