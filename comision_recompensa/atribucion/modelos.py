"""Attribution models as pure functions: touchpoints in, exact credits out (PRODUCT.md §3).

No database, no Django: everything here is arithmetic over plain values, so it is unit- and
property-tested in isolation and reused by the live engine and by re-attribution.

Rounding: credits carry 6 decimal places and amounts 2 (cents). Both are rounded with the
largest-remainder method, so the rounded parts always add up *exactly* to the whole
(1.000000 of credit, the rule's total in cents) and no part is negative.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal, localcontext

from eventos_medios.models import ModeloAtribucion

CREDITO_UNIDAD = Decimal("0.000001")  # six places: the Credito.participacion column
CENTIMO = Decimal("0.01")
VIDA_MEDIA_DECAIMIENTO = dt.timedelta(days=7)

# Shares of the position-based model: first and last touchpoint, the rest split the middle.
POSICIONAL_EXTREMO = Decimal("0.4")
POSICIONAL_CENTRO = Decimal("0.2")

_PRECISION = Context(prec=40)


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """One click or interaction that may earn credit for a conversion."""

    evento_id: Hashable
    socio_id: Hashable
    ocurrido_en: dt.datetime
    tipo: str = "click"
    publicacion_id: Hashable | None = None


@dataclass(frozen=True, slots=True)
class PesoTouchpoint:
    """A touchpoint with its raw model weight and its normalised, rounded share."""

    touchpoint: Touchpoint
    peso: Decimal
    participacion: Decimal


def _por_fecha(t: Touchpoint) -> dt.datetime:
    return t.ocurrido_en


def ordenar_touchpoints(touchpoints: Sequence[Touchpoint]) -> list[Touchpoint]:
    """Chronological order; equal times are ordered by event id so ties are deterministic.

    The id (as text) only matters for ties, so it is only computed when there is one.
    """
    ordenados = sorted(touchpoints, key=_por_fecha)
    for a, b in itertools.pairwise(ordenados):
        if a.ocurrido_en == b.ocurrido_en:
            return sorted(touchpoints, key=lambda t: (t.ocurrido_en, str(t.evento_id)))
    return ordenados


def pesos_modelo(
    modelo: str, touchpoints: Sequence[Touchpoint], *, referencia: dt.datetime
) -> list[Decimal]:
    """Raw (un-normalised) weights of `touchpoints`, already in chronological order.

    `referencia` is the conversion's ocurrido_en (the time-decay model measures Δt from it).
    """
    n = len(touchpoints)
    if n == 0:
        return []
    if modelo == ModeloAtribucion.ULTIMO_CLIC:
        return [Decimal(0)] * (n - 1) + [Decimal(1)]
    if modelo == ModeloAtribucion.PRIMER_CLIC:
        return [Decimal(1)] + [Decimal(0)] * (n - 1)
    if modelo == ModeloAtribucion.LINEAL:
        return [Decimal(1)] * n
    if modelo == ModeloAtribucion.POSICIONAL:
        if n == 1:
            return [Decimal(1)]
        if n == 2:
            return [Decimal("0.5"), Decimal("0.5")]
        with localcontext(_PRECISION):
            centro = POSICIONAL_CENTRO / (n - 2)
        return [POSICIONAL_EXTREMO] + [centro] * (n - 2) + [POSICIONAL_EXTREMO]
    if modelo == ModeloAtribucion.DECAIMIENTO_TEMPORAL:
        vida_media = Decimal(VIDA_MEDIA_DECAIMIENTO.total_seconds())
        pesos = []
        with localcontext(_PRECISION):
            for t in touchpoints:
                # A touchpoint "after" the reference (clock skew) counts as Δt = 0.
                delta = max(Decimal((referencia - t.ocurrido_en).total_seconds()), Decimal(0))
                pesos.append(Decimal(2) ** (-delta / vida_media))
        return pesos
    raise ValueError(f"Unknown attribution model: {modelo!r}")


def repartir_unidades(
    proporciones: Sequence[Decimal], unidades: int, *, desempate: Sequence[Decimal] | None = None
) -> list[int]:
    """Split `unidades` whole units in `proporciones` (non-negative, any scale) by the
    largest-remainder method: the result is non-negative and sums exactly to `unidades`.

    Leftover units go to the largest fractional remainders; ties go to the larger
    `desempate` value (default: the proportion itself), then to the earlier position.
    """
    if unidades < 0:
        raise ValueError("unidades must be >= 0")
    n = len(proporciones)
    if n == 0:
        if unidades:
            raise ValueError("cannot split a non-zero amount among no parts")
        return []
    positivas = [i for i, p in enumerate(proporciones) if p > 0]
    if len(positivas) == 1:
        # Fast path (last click, first click, a single partner): everything to one part.
        partes = [0] * n
        partes[positivas[0]] = unidades
        return partes
    with localcontext(_PRECISION):
        total = sum(proporciones, Decimal(0))
        if total <= 0:
            # Nothing to weigh by: split evenly (only reachable through degenerate input).
            proporciones = [Decimal(1)] * n
            total = Decimal(n)
        exactos = [p * unidades / total for p in proporciones]
        enteros = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in exactos]
        restos = [x - e for x, e in zip(exactos, enteros, strict=True)]
    faltan = unidades - sum(enteros)
    desempate = desempate if desempate is not None else proporciones
    orden = sorted(range(n), key=lambda i: (-restos[i], -desempate[i], i))
    for i in orden[: max(faltan, 0)]:
        enteros[i] += 1
    return enteros


def normalizar(pesos: Sequence[Decimal]) -> list[Decimal]:
    """Weights → credits with 6 places that sum exactly to 1 (largest remainder)."""
    if not pesos:
        return []
    unidades = repartir_unidades(pesos, 10**6)
    return [Decimal(u) * CREDITO_UNIDAD for u in unidades]


def pesos_touchpoints(
    modelo: str, touchpoints: Sequence[Touchpoint], *, referencia: dt.datetime
) -> list[PesoTouchpoint]:
    """Each touchpoint (in chronological order) with its raw weight and its credit share."""
    ordenados = ordenar_touchpoints(touchpoints)
    pesos = pesos_modelo(modelo, ordenados, referencia=referencia)
    creditos = normalizar(pesos)
    return [
        PesoTouchpoint(touchpoint=t, peso=p, participacion=c)
        for t, p, c in zip(ordenados, pesos, creditos, strict=True)
    ]


def participaciones_por_socio(pesos: Sequence[PesoTouchpoint]) -> dict[Hashable, Decimal]:
    """A partner's credit is the sum of its touchpoints' shares; the result sums to exactly 1.

    Partners appear in the order of their first touchpoint (insertion order of the dict).
    Partners whose share is 0 (e.g. an early click under last-click) are left out.
    """
    creditos: dict[Hashable, Decimal] = {}
    for p in pesos:
        creditos[p.touchpoint.socio_id] = (
            creditos.get(p.touchpoint.socio_id, Decimal(0)) + p.participacion
        )
    return {socio: c for socio, c in creditos.items() if c > 0}


def repartir_monto(total: Decimal, creditos: Sequence[Decimal]) -> list[Decimal]:
    """Split a money `total` (≥ 0) in proportion to `creditos` into cents that add up exactly
    to `total` rounded to cents."""
    if len(creditos) == 1 and creditos[0] > 0:
        # Fast path (one credited partner): the whole, rounded to cents like the general case.
        if total < 0:
            raise ValueError("total must be >= 0")
        return [total.quantize(CENTIMO)]
    total_centimos = int((total / CENTIMO).to_integral_value())
    if total_centimos < 0:
        raise ValueError("total must be >= 0")
    partes = repartir_unidades(list(creditos), total_centimos)
    return [(Decimal(c) * CENTIMO).quantize(CENTIMO) for c in partes]


def formatear_credito(valor: Decimal) -> str:
    return str(valor.quantize(CREDITO_UNIDAD))


def formatear_peso(valor: Decimal) -> str:
    """Raw weights are shown with 6 places (exact for the rational models)."""
    return str(valor.quantize(CREDITO_UNIDAD))
