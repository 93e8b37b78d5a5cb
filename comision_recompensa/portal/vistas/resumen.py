"""The statement: what the partner earned per month of the last year (pending, approved, paid),
as a chart and a table, and the year's clicks and conversions. Daily-rollup reads only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from comision_recompensa.portal.acceso import alcance_portal, pagina, socio_id_de, solo_socios
from comision_recompensa.portal.etiquetas import etiqueta
from comision_recompensa.portal.grafico import Serie, barras_apiladas
from comision_recompensa.reportes.selectors import estado_cuenta_mensual, totales

MESES = 12
ESTADOS_GRAFICO = ("pagada", "aprobada", "pendiente")  # stacked bottom to top


def periodo_anual(ahora: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """From the first day of the month 11 months ago to the first day of next month (UTC)."""
    inicio_mes = ahora.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    anio, mes = divmod(inicio_mes.year * 12 + inicio_mes.month - 1 - (MESES - 1), 12)
    desde = inicio_mes.replace(year=anio, month=mes + 1)
    anio2, mes2 = divmod(inicio_mes.year * 12 + inicio_mes.month, 12)
    return desde, inicio_mes.replace(year=anio2, month=mes2 + 1)


def _descripcion(
    moneda: str, meses: list[dict[str, Any]], totales_moneda: dict[str, Decimal]
) -> str:
    primero = formats.date_format(meses[0]["mes"], "YEAR_MONTH_FORMAT")
    ultimo = formats.date_format(meses[-1]["mes"], "YEAR_MONTH_FORMAT")
    return _(
        "Earnings in %(moneda)s per month from %(primero)s to %(ultimo)s, stacked: paid "
        "%(pagada)s, approved %(aprobada)s, pending %(pendiente)s in total. The table below "
        "lists every month."
    ) % {
        "moneda": moneda,
        "primero": primero,
        "ultimo": ultimo,
        **{e: formats.number_format(totales_moneda[e], 2) for e in ESTADOS_GRAFICO},
    }


def _monedas(estado: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    series = [Serie(e, etiqueta(e, "credito")) for e in ESTADOS_GRAFICO]
    resultado = []
    for moneda, meses in estado.items():
        total = {
            e: sum((m["monto"][e] for m in meses), Decimal("0.00"))
            for e in (*ESTADOS_GRAFICO, "revertida")
        }
        puntos = [{"valores": {e: m["monto"][e] for e in ESTADOS_GRAFICO}, **m} for m in meses]
        resultado.append(
            {
                "moneda": moneda,
                "meses": meses,
                "total": total,
                "grafico": barras_apiladas(
                    puntos=puntos,
                    series=series,
                    etiqueta_de=lambda p: formats.date_format(p["mes"], "M"),
                ),
                "descripcion": _descripcion(moneda, meses, total),
            }
        )
    return resultado


@solo_socios
def resumen(request: HttpRequest) -> HttpResponse:
    alcance, socio_id = alcance_portal(request), socio_id_de(request)
    desde, hasta = periodo_anual(timezone.now())
    estado = estado_cuenta_mensual(alcance=alcance, socio_id=socio_id, desde=desde, hasta=hasta)
    cifras = totales(alcance=alcance, socio_id=socio_id, desde=desde, hasta=hasta)
    return pagina(
        request,
        "portal/resumen.html",
        {
            "monedas": _monedas(estado),
            "clicks": cifras["eventos"]["click"],
            "clicks_unicos": cifras["clicks_unicos"],
            "conversiones": cifras["conversiones"],
            "desde": desde.date(),
            "hasta": (hasta - dt.timedelta(days=1)).date(),
        },
    )
