"""The programme dashboard in the admin (`/admin/tablero/`, staff only).

Charts are server-side SVG drawn by pygal: no JavaScript, no static files, nothing fetched
from a CDN, so the page works offline and in any browser, and a test can read the numbers in
the markup. pygal's optional tooltip script is switched off (`js=[]`) because it would be
loaded from the internet, and the inline config script pygal still writes is removed: the page's
Content-Security-Policy runs no inline script. Every number comes from
`reportes.selectors.tablero` (aggregates in the database).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pygal
from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from alpespartners.alcance import alcance_de
from comision_recompensa.models import EstadoCredito, EstadoPago
from comision_recompensa.reportes import selectors as reportes
from comision_recompensa.reportes.exportacion import RECURSOS
from eventos_medios.models import TipoEvento

DIAS_POR_DEFECTO = 30
DIAS_MAXIMOS = 366

COLORES_TIPO = {
    TipoEvento.CLICK: "#2b6cb0",
    TipoEvento.INTERACCION: "#90cdf4",
    TipoEvento.LEAD: "#dd6b20",
    TipoEvento.REGISTRO: "#d69e2e",
    TipoEvento.CONVERSION: "#805ad5",
    TipoEvento.VENTA: "#2f855a",
    TipoEvento.HITO: "#b83280",
}

_ESTILO_BASE: dict[str, Any] = {
    "background": "transparent",
    "plot_background": "transparent",
    "foreground": "#333",
    "foreground_strong": "#111",
    "foreground_subtle": "#bbb",
    "opacity": ".85",
    "opacity_hover": "1",
    "font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "title_font_size": 16,
    "label_font_size": 12,
    "major_label_font_size": 12,
    "legend_font_size": 13,
    "value_font_size": 12,
    "tooltip_font_size": 12,
}
COLORES = ("#2b6cb0", "#2f855a", "#dd6b20", "#805ad5", "#b83280", "#d69e2e", "#90cdf4")


def estilo(*colores: str) -> Style:
    """The dashboard's style; pygal colours series by position, so charts pass theirs."""
    return Style(**_ESTILO_BASE, colors=colores or COLORES)


class RangoFechasForm(forms.Form):
    desde = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    hasta = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Inclusive.",
    )

    def clean(self) -> dict[str, Any]:
        datos = super().clean() or {}
        hoy = timezone.now().date()
        hasta = datos.get("hasta") or hoy
        desde = datos.get("desde") or hasta - dt.timedelta(days=DIAS_POR_DEFECTO - 1)
        if desde > hasta:
            self.add_error("hasta", "Must be on or after desde.")
        elif (hasta - desde).days >= DIAS_MAXIMOS:
            self.add_error("hasta", f"The range may span at most {DIAS_MAXIMOS} days.")
        datos["desde"], datos["hasta"] = desde, hasta
        return datos


def _config(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "style": estilo(),
        "js": [],  # the tooltip script would come from a CDN: not offline-safe
        "disable_xml_declaration": True,
        "explicit_size": False,
        "width": 560,
        "height": 320,
        "legend_at_bottom": False,
        "no_data_text": "Sin datos en el rango",
        "truncate_label": 28,
        "margin": 10,
    }
    base.update(extra)
    return base


_GUION_SVG = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)


def _svg(grafico: Any) -> SafeString:
    # pygal builds the SVG with an XML tree: text (partner names, titles) is escaped. Its
    # inline <script> (tooltip configuration, unused without the tooltip script) goes.
    return mark_safe(_GUION_SVG.sub("", grafico.render(is_unicode=True)))


def _dinero(valor: float | None) -> str:
    return f"{valor:,.2f}" if valor is not None else ""


def _porcentaje(tasa: float | None) -> str:
    return f"{tasa * 100:.1f} %" if tasa is not None else "—"


def grafico_eventos_por_dia(datos: dict[str, Any]) -> SafeString:
    dias: list[dt.date] = datos["dias"]
    series = [(t, v) for t, v in datos["eventos_por_dia"].items() if any(v)]
    grafico = pygal.StackedBar(
        **_config(
            title="Eventos por día y tipo",
            x_label_rotation=-35,
            show_minor_x_labels=False,
            x_labels_major_every=max(1, len(dias) // 12),
            width=1100,
            height=340,
            style=estilo(*(COLORES_TIPO[TipoEvento(t)] for t, _ in series)),
        )
    )
    grafico.x_labels = [d.strftime("%d %b") for d in dias]
    for tipo, valores in series:
        grafico.add(tipo, valores)
    return _svg(grafico)


def grafico_embudo(datos: dict[str, Any]) -> SafeString:
    e = datos["embudo"]
    grafico = pygal.Bar(
        **_config(
            title=(
                f"Embudo · click→lead {_porcentaje(e['tasa_click_lead'])}"
                f" · lead→venta {_porcentaje(e['tasa_lead_venta'])}"
            ),
            show_legend=False,
            print_values=True,
        )
    )
    grafico.x_labels = ["click", "lead", "venta"]
    grafico.add(
        "eventos",
        [
            {"value": e["click"], "color": COLORES_TIPO[TipoEvento.CLICK]},
            {"value": e["lead"], "color": COLORES_TIPO[TipoEvento.LEAD]},
            {"value": e["venta"], "color": COLORES_TIPO[TipoEvento.VENTA]},
        ],
    )
    return _svg(grafico)


def grafico_creditos(datos: dict[str, Any]) -> SafeString:
    grafico = pygal.Bar(
        **_config(title="Comisiones y recompensas por estado (importe)", value_formatter=_dinero)
    )
    grafico.x_labels = list(EstadoCredito.values)
    for nombre, totales in datos["creditos"].items():
        for moneda, por_estado in sorted(totales["monto"].items()):
            grafico.add(f"{nombre} {moneda}", [float(por_estado[e]) for e in EstadoCredito.values])
    return _svg(grafico)


def _grafico_top(titulo: str, filas: list[dict[str, Any]], etiqueta: str) -> SafeString:
    grafico = pygal.HorizontalBar(
        **_config(
            title=titulo,
            show_legend=False,
            print_values=True,
            value_formatter=_dinero,
            height=max(180, 40 + 28 * len(filas)),
        )
    )
    filas = list(reversed(filas))  # HorizontalBar draws the first row at the bottom
    grafico.x_labels = [f"{f[etiqueta]} ({f['moneda']})" for f in filas]
    grafico.add("importe", [float(f["monto"]) for f in filas])
    return _svg(grafico)


def grafico_pagos(datos: dict[str, Any]) -> SafeString:
    colores = {
        EstadoPago.PENDIENTE: "#d69e2e",
        EstadoPago.ENVIADO: "#2b6cb0",
        EstadoPago.PAGADO: "#2f855a",
        EstadoPago.FALLIDO: "#c53030",
    }
    presentes = [e for e in EstadoPago.values if datos["pagos"][e]]
    grafico = pygal.Pie(
        **_config(
            title="Pagos por estado",
            inner_radius=0.45,
            style=estilo(*(colores[EstadoPago(e)] for e in presentes)),
        )
    )
    for estado in presentes:
        n = datos["pagos"][estado]
        grafico.add(f"{estado} ({n})", [n])
    return _svg(grafico)


def grafico_latencia(datos: dict[str, Any]) -> SafeString:
    lat = datos["latencia_atribucion"]
    grafico = pygal.HorizontalBar(
        **_config(
            title=f"Latencia de atribución (s) · {lat['muestras']} eventos",
            show_legend=False,
            print_values=True,
            value_formatter=lambda v: f"{v:.2f} s" if v is not None else "",
            height=180,
        )
    )
    grafico.x_labels = ["p95", "p50"]
    grafico.add("segundos", [lat["p95_s"], lat["p50_s"]])
    return _svg(grafico)


def graficos(datos: dict[str, Any]) -> dict[str, SafeString]:
    """Every chart of the dashboard as inline SVG."""
    return {
        "eventos_por_dia": grafico_eventos_por_dia(datos),
        "embudo": grafico_embudo(datos),
        "creditos": grafico_creditos(datos),
        "top_socios": _grafico_top("Top socios por importe", datos["top_socios"], "nombre"),
        "top_publicaciones": _grafico_top(
            "Top publicaciones por importe", datos["top_publicaciones"], "etiqueta"
        ),
        "pagos": grafico_pagos(datos),
        "latencia": grafico_latencia(datos),
    }


def _a_instante(fecha: dt.date) -> dt.datetime:
    return dt.datetime.combine(fecha, dt.time.min, tzinfo=dt.UTC)


def tablero_view(request: HttpRequest) -> TemplateResponse:
    """The dashboard for a date range (default: the last 30 days, today included)."""
    hoy = hasta_fecha = timezone.now().date()
    desde_fecha = hasta_fecha - dt.timedelta(days=DIAS_POR_DEFECTO - 1)
    form = RangoFechasForm(
        request.GET or None, initial={"desde": desde_fecha, "hasta": hasta_fecha}
    )
    if form.is_bound and form.is_valid():
        desde_fecha, hasta_fecha = form.cleaned_data["desde"], form.cleaned_data["hasta"]
    datos = reportes.tablero(
        alcance=alcance_de(request.user),
        desde=_a_instante(desde_fecha),
        hasta=_a_instante(hasta_fecha + dt.timedelta(days=1)),
    )
    totales = datos["eventos_totales"]
    dinero = _sumar_por_moneda(datos)
    contexto = {
        **admin.site.each_context(request),
        "title": "Tablero del programa",
        "form": form,
        "desde": desde_fecha,
        "hasta": hasta_fecha,
        "rangos_rapidos": [
            (dias, (hoy - dt.timedelta(days=dias - 1)).isoformat(), hoy.isoformat())
            for dias in (7, 30, 90)
        ],
        "datos": datos,
        "graficos": graficos(datos),
        "kpis": [
            ("Clicks", f"{totales[TipoEvento.CLICK]:,}", ""),
            ("Leads", f"{totales[TipoEvento.LEAD]:,}", ""),
            ("Ventas", f"{totales[TipoEvento.VENTA]:,}", ""),
            ("Click → venta", _porcentaje(datos["embudo"]["tasa_click_venta"]), ""),
            (
                "Latencia p50 / p95",
                _segundos(datos["latencia_atribucion"]["p50_s"])
                + " / "
                + _segundos(datos["latencia_atribucion"]["p95_s"]),
                "",
            ),
            *_kpis_pagos(datos["pagos"]),
        ],
        "dinero": dinero,
        "exportaciones": [
            (
                recurso,
                reverse("exportacion", kwargs={"recurso": recurso})
                + "?"
                + urlencode({"desde": desde_fecha.isoformat(), "hasta": hasta_fecha.isoformat()}),
            )
            for recurso in RECURSOS
        ],
    }
    return TemplateResponse(request, "admin/tablero.html", contexto)


def _kpis_pagos(pagos: dict[str, int]) -> list[tuple[str, str, str]]:
    """Pagos waiting, held by a compliance control, and dead-lettered (the last two alert)."""
    return [
        ("Pagos pendientes", str(pagos[EstadoPago.PENDIENTE]), ""),
        (
            "Pagos retenidos",
            str(pagos[EstadoPago.RETENIDO]),
            "alerta" if pagos[EstadoPago.RETENIDO] else "",
        ),
        (
            "Pagos fallidos",
            str(pagos[EstadoPago.FALLIDO]),
            "alerta" if pagos[EstadoPago.FALLIDO] else "",
        ),
    ]


def _segundos(valor: float | None) -> str:
    return f"{valor:.1f} s" if valor is not None else "—"


def _sumar_por_moneda(datos: dict[str, Any]) -> list[tuple[str, str]]:
    """Earned (not reverted) money per currency, for the headline tiles."""
    total: dict[str, Decimal] = {}
    for totales in datos["creditos"].values():
        for moneda, por_estado in totales["monto"].items():
            vivo = sum(
                (m for e, m in por_estado.items() if e != EstadoCredito.REVERTIDA), Decimal(0)
            )
            total[moneda] = total.get(moneda, Decimal(0)) + vivo
    return [(moneda, f"{monto:,.2f}") for moneda, monto in sorted(total.items())]
