"""A server-drawn stacked bar chart (SVG in the page: no JavaScript, nothing to load), with what
assistive technology needs: the template gives it `role="img"`, a `<title>` and a `<desc>` that
sums it up, and the page shows every number in a table as well."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ANCHO, ALTO = 720, 280
MARGEN_IZQ, MARGEN_DER, MARGEN_SUP, MARGEN_INF = 64, 12, 12, 40
LINEAS_GUIA = 4


@dataclass(frozen=True)
class Serie:
    clave: str  # CSS class suffix and the key in each point's values
    etiqueta: Any


def _escala_maxima(maximo: Decimal) -> Decimal:
    """A round top for the axis (1, 2 or 5 × 10^n) at or above `maximo`."""
    if maximo <= 0:
        return Decimal(1)
    potencia = Decimal(10) ** (len(str(int(maximo))) - 1)
    for factor in (1, 2, 5, 10):
        if maximo <= factor * potencia:
            return factor * potencia
    return 10 * potencia


def barras_apiladas(
    *, puntos: list[dict[str, Any]], series: list[Serie], etiqueta_de: Any
) -> dict[str, Any]:
    """Geometry of a stacked bar chart: one bar per point (`etiqueta_de(punto)` under it), one
    segment per series (`punto["valores"][serie.clave]`, stacked in `series` order)."""
    alto_util = ALTO - MARGEN_SUP - MARGEN_INF
    ancho_util = ANCHO - MARGEN_IZQ - MARGEN_DER
    tope = _escala_maxima(
        max((sum(p["valores"].values(), Decimal(0)) for p in puntos), default=Decimal(0))
    )
    paso = ancho_util / max(len(puntos), 1)
    ancho_barra = paso * 0.6
    barras = []
    for i, punto in enumerate(puntos):
        x = MARGEN_IZQ + i * paso + (paso - ancho_barra) / 2
        base = float(ALTO - MARGEN_INF)
        segmentos = []
        for serie in series:
            valor = Decimal(punto["valores"].get(serie.clave, 0))
            alto = float(valor / tope) * alto_util if valor > 0 else 0.0
            base -= alto
            if alto > 0:
                segmentos.append(
                    {"clase": serie.clave, "y": round(base, 1), "alto": round(alto, 1)}
                )
        barras.append(
            {
                "x": round(x, 1),
                "ancho": round(ancho_barra, 1),
                "centro": round(x + ancho_barra / 2, 1),
                "etiqueta": etiqueta_de(punto),
                "segmentos": segmentos,
            }
        )
    guias = [
        {
            "y": round(ALTO - MARGEN_INF - alto_util * k / LINEAS_GUIA, 1),
            "valor": (tope * k / LINEAS_GUIA).quantize(Decimal("1")),
        }
        for k in range(LINEAS_GUIA + 1)
    ]
    return {
        "ancho": ANCHO,
        "alto": ALTO,
        "x0": MARGEN_IZQ,
        "x1": ANCHO - MARGEN_DER,
        "y_etiquetas": ALTO - MARGEN_INF + 18,
        "barras": barras,
        "guias": guias,
        "series": series,
    }
