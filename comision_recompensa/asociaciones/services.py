"""Writes of brand–partner agreements (AsociacionEstrategica) and their payment rules (ReglaPago).

The rules checked here (vigencia order, no overlapping agreement for the same marca and socio,
one rule per event type, valor ≥ 0, porcentaje ≤ 100, ISO 4217 moneda, tope ≥ 0) are also
database constraints where a constraint can express them; here they become 400s that name the
field (`vigencia_fin`, `reglas[1].valor`) and nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from alpespartners.dinero import DineroInvalido, dinero_parsear
from alpespartners.errors import ErrorValidacion
from comision_recompensa.models import AsociacionEstrategica, Modalidad, ReglaPago, TipoAsociacion
from eventos_medios.models import CODIGOS_MONEDA, Marca, Socio, TipoEvento

DIAS_RETENCION_MAX = 365
CAMPOS_REGLA = ("tipo_evento", "modalidad", "valor", "moneda", "tope")

Errores = dict[str, list[str]]


class _SinCambio:
    """Marker for "argument not given" where None is a meaningful value (open-ended vigencia)."""

    def __repr__(self) -> str:
        return "SIN_CAMBIO"


SIN_CAMBIO: Any = _SinCambio()


_MONTO_REGLA_MAXIMO = Decimal("9999999999.99")  # max_digits=12


def _dinero(valor: Any) -> Decimal | str:
    """The amount under the money rules of PRODUCT.md §8 (`alpespartners.dinero`), or the
    message saying why it is refused."""
    try:
        return dinero_parsear(valor, maximo=_MONTO_REGLA_MAXIMO)
    except DineroInvalido as exc:
        return str(exc)


def regla_validar(datos: Mapping[str, Any], *, prefijo: str = "") -> tuple[dict[str, Any], Errores]:
    """Check one payment rule; return it normalised (Decimals with two places, upper-case
    moneda) and the errors keyed by `<prefijo><field>`."""
    errores: Errores = {}
    limpio: dict[str, Any] = {}

    def error(campo: str, mensaje: str) -> None:
        errores.setdefault(f"{prefijo}{campo}", []).append(mensaje)

    tipo_evento = datos.get("tipo_evento")
    if tipo_evento not in TipoEvento.values:
        error("tipo_evento", f"Must be one of: {', '.join(TipoEvento.values)}.")
    limpio["tipo_evento"] = tipo_evento

    modalidad = datos.get("modalidad")
    if modalidad not in Modalidad.values:
        error("modalidad", f"Must be one of: {', '.join(Modalidad.values)}.")
    limpio["modalidad"] = modalidad

    valor = _dinero(datos.get("valor")) if datos.get("valor") not in (None, "") else None
    if valor is None:
        error("valor", "A number is required.")
    elif isinstance(valor, str):
        error("valor", valor)
        valor = None
    elif modalidad == Modalidad.PORCENTAJE and valor > 100:
        error("valor", "A percentage cannot exceed 100.")
    limpio["valor"] = valor

    moneda = str(datos.get("moneda") or "").strip().upper()
    if moneda not in CODIGOS_MONEDA:
        error("moneda", "Must be an active ISO 4217 currency code, e.g. EUR.")
    limpio["moneda"] = moneda

    tope = _dinero(datos.get("tope")) if datos.get("tope") not in (None, "") else None
    if isinstance(tope, str):
        error("tope", tope)
        tope = None
    limpio["tope"] = tope
    return limpio, errores


def reglas_validar(reglas: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], Errores]:
    """Check a list of rules (one per tipo_evento); errors keyed `reglas[i].<field>`."""
    errores: Errores = {}
    limpias: list[dict[str, Any]] = []
    vistos: dict[Any, int] = {}
    for i, datos in enumerate(reglas):
        prefijo = f"reglas[{i}]."
        if not isinstance(datos, Mapping):
            errores[f"reglas[{i}]"] = ["Must be an object."]
            continue
        limpia, errores_regla = regla_validar(datos, prefijo=prefijo)
        errores.update(errores_regla)
        tipo = limpia["tipo_evento"]
        if tipo in vistos and f"{prefijo}tipo_evento" not in errores:
            errores[f"{prefijo}tipo_evento"] = [
                f"Only one rule per event type; reglas[{vistos[tipo]}] already covers {tipo}."
            ]
        vistos.setdefault(tipo, i)
        limpias.append(limpia)
    return limpias, errores


def asociacion_validar_terminos(
    *,
    marca: Marca | None,
    socio: Socio | None,
    tipo: Any,
    dias_retencion: Any,
    vigencia_inicio: Any,
    vigencia_fin: Any,
    excluir_id: Any = None,
) -> Errores:
    """Check an agreement's terms; also used by the admin form. Returns errors by field."""
    errores: Errores = {}
    if marca is None:
        errores["marca"] = ["Required."]
    if socio is None:
        errores["socio"] = ["Required."]
    if tipo not in TipoAsociacion.values:
        errores["tipo"] = [f"Must be one of: {', '.join(TipoAsociacion.values)}."]
    if (
        not isinstance(dias_retencion, int)
        or isinstance(dias_retencion, bool)
        or not 0 <= dias_retencion <= DIAS_RETENCION_MAX
    ):
        errores["dias_retencion"] = [
            f"Must be a whole number of days from 0 to {DIAS_RETENCION_MAX}."
        ]
    if not isinstance(vigencia_inicio, dt.date):
        errores["vigencia_inicio"] = ["A date (YYYY-MM-DD) is required."]
    if vigencia_fin is not None and not isinstance(vigencia_fin, dt.date):
        errores["vigencia_fin"] = ["Must be a date (YYYY-MM-DD) or null."]
    if errores:
        return errores
    if vigencia_fin is not None and vigencia_fin < vigencia_inicio:
        return {"vigencia_fin": ["Must be on or after vigencia_inicio."]}

    # Periods [inicio, fin] overlap when each starts before the other ends (None = open-ended).
    solapadas = AsociacionEstrategica.objects.filter(marca=marca, socio=socio).filter(
        Q(vigencia_fin__isnull=True) | Q(vigencia_fin__gte=vigencia_inicio)
    )
    if vigencia_fin is not None:
        solapadas = solapadas.filter(vigencia_inicio__lte=vigencia_fin)
    if excluir_id is not None:
        solapadas = solapadas.exclude(pk=excluir_id)
    otra = solapadas.order_by("vigencia_inicio").first()
    if otra is not None:
        fin = otra.vigencia_fin.isoformat() if otra.vigencia_fin else "open-ended"
        errores["vigencia_inicio"] = [
            "Overlaps another agreement between this marca and socio "
            f"({otra.pk}: {otra.vigencia_inicio.isoformat()} – {fin}); "
            "only one may be active on any date."
        ]
    return errores


def _bloquear_pareja(*, socio: Socio) -> None:
    """Serialise writes of agreements of one partner, so two concurrent requests cannot both pass
    the overlap check."""
    Socio.objects.select_for_update().filter(pk=socio.pk).exists()


def _guardar_reglas(*, asociacion: AsociacionEstrategica, reglas: list[dict[str, Any]]) -> None:
    """Make the agreement's rules exactly `reglas`: update by tipo_evento, create, delete the rest.
    Rules are updated in place so credits keep pointing at the rule of their event type (each
    credit also keeps a snapshot of the rule in detalle_atribucion)."""
    existentes = {r.tipo_evento: r for r in asociacion.reglas.all()}
    tipos = {r["tipo_evento"] for r in reglas}
    asociacion.reglas.exclude(tipo_evento__in=tipos).delete()
    for datos in reglas:
        regla = existentes.get(datos["tipo_evento"])
        if regla is None:
            ReglaPago.objects.create(asociacion=asociacion, **datos)
            continue
        for campo, valor in datos.items():
            setattr(regla, campo, valor)
        regla.save()


def asociacion_crear(
    *,
    marca: Marca,
    socio: Socio,
    tipo: str,
    vigencia_inicio: dt.date,
    vigencia_fin: dt.date | None = None,
    dias_retencion: int = 30,
    reglas: Sequence[Mapping[str, Any]] = (),
) -> AsociacionEstrategica:
    """Create an agreement with its payment rules, all or nothing.

    Raises `ErrorValidacion` naming each bad field (`vigencia_fin`, `reglas[1].valor`, …),
    including an overlap with another agreement of the same marca and socio.
    """
    limpias, errores = reglas_validar(reglas)
    with transaction.atomic():
        _bloquear_pareja(socio=socio)
        errores = {
            **asociacion_validar_terminos(
                marca=marca,
                socio=socio,
                tipo=tipo,
                dias_retencion=dias_retencion,
                vigencia_inicio=vigencia_inicio,
                vigencia_fin=vigencia_fin,
            ),
            **errores,
        }
        if errores:
            raise ErrorValidacion(errores)
        asociacion = AsociacionEstrategica.objects.create(
            marca=marca,
            socio=socio,
            tipo=tipo,
            dias_retencion=dias_retencion,
            vigencia_inicio=vigencia_inicio,
            vigencia_fin=vigencia_fin,
        )
        _guardar_reglas(asociacion=asociacion, reglas=limpias)
    return asociacion


def asociacion_actualizar(
    *,
    asociacion: AsociacionEstrategica,
    tipo: str = SIN_CAMBIO,
    dias_retencion: int = SIN_CAMBIO,
    vigencia_inicio: dt.date = SIN_CAMBIO,
    vigencia_fin: dt.date | None = SIN_CAMBIO,
    reglas: Sequence[Mapping[str, Any]] | None = None,
) -> AsociacionEstrategica:
    """Change an agreement's terms (only the arguments given) and, when `reglas` is given,
    replace its rules with exactly those (matched by tipo_evento). marca and socio never change:
    end this agreement and create another instead.

    Changes apply to attribution from now on; existing credits keep their amounts (use
    `reatribuir` to recompute unpaid ones). Raises `ErrorValidacion` like `asociacion_crear`.
    """
    nuevos = {
        campo: valor
        for campo, valor in {
            "tipo": tipo,
            "dias_retencion": dias_retencion,
            "vigencia_inicio": vigencia_inicio,
            "vigencia_fin": vigencia_fin,
        }.items()
        if valor is not SIN_CAMBIO
    }
    limpias, errores_reglas = reglas_validar(reglas) if reglas is not None else ([], {})
    with transaction.atomic():
        _bloquear_pareja(socio=asociacion.socio)
        terminos = {
            "tipo": asociacion.tipo,
            "dias_retencion": asociacion.dias_retencion,
            "vigencia_inicio": asociacion.vigencia_inicio,
            "vigencia_fin": asociacion.vigencia_fin,
            **nuevos,
        }
        errores = {
            **asociacion_validar_terminos(
                marca=asociacion.marca,
                socio=asociacion.socio,
                excluir_id=asociacion.pk,
                **terminos,
            ),
            **errores_reglas,
        }
        if errores:
            raise ErrorValidacion(errores)
        for campo, valor in nuevos.items():
            setattr(asociacion, campo, valor)
        if nuevos:
            asociacion.save(update_fields=[*nuevos, "actualizado_en"])
        if reglas is not None:
            _guardar_reglas(asociacion=asociacion, reglas=limpias)
    return asociacion
