"""CSV exports of eventos, comisiones, recompensas and pagos, streamed row by row.

Rows come from `QuerySet.values_list(...).iterator(chunk_size=…)` (a server-side cursor on
PostgreSQL) and are written through `StreamingHttpResponse`, so a million-row export never sits
in memory. Used by the API (`GET /api/v1/exportaciones/<recurso>/`, scoped and filtered like the
reports) and by the admin action `exportar_csv`, which any ModelAdmin can list in `actions`.

Text cells that a spreadsheet would run as a formula (starting with = + - @ or a tab) are
prefixed with a quote (OWASP "CSV injection"); numbers are written as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from alpespartners.alcance import Alcance
from comision_recompensa.models import Comision, Pago, Recompensa
from comision_recompensa.reportes.consultas import (
    creditos_reporte,
    eventos_reporte,
    pagos_reporte,
)
from eventos_medios.models import Evento

TAMANO_BLOQUE = 2000

# (CSV header, field path for values_list) per exported model.
Columnas = Sequence[tuple[str, str]]

COLUMNAS_EVENTOS: Columnas = [
    ("id", "id"),
    ("tipo", "tipo"),
    ("ocurrido_en", "ocurrido_en"),
    ("recibido_en", "recibido_en"),
    ("marca_id", "marca_id"),
    ("socio_id", "socio_id"),
    ("publicacion_id", "publicacion_id"),
    ("click_id", "click_id"),
    ("visitante_id", "visitante_id"),
    ("codigo_referido", "codigo_referido"),
    ("valor", "valor"),
    ("moneda", "moneda"),
    ("referencia_externa", "referencia_externa"),
    ("estado_atribucion", "estado_atribucion"),
    ("motivo_descarte", "motivo_descarte"),
    ("atribuido_en", "atribuido_en"),
    ("origen_visitante", "origen_visitante"),
    ("motivo_atribucion", "motivo_atribucion"),
]

COLUMNAS_COMISIONES: Columnas = [
    ("id", "id"),
    ("socio_id", "socio_id"),
    ("socio", "socio__nombre"),
    ("evento_id", "evento_id"),
    ("evento_tipo", "evento__tipo"),
    ("evento_ocurrido_en", "evento__ocurrido_en"),
    ("marca_id", "evento__marca_id"),
    ("publicacion_id", "evento__publicacion_id"),
    ("credito", "participacion"),  # the share keeps its published name
    ("monto", "monto"),
    ("moneda", "moneda"),
    ("estado", "estado"),
    ("pago_id", "pago_id"),
    ("creado_en", "creado_en"),
    ("aprobado_en", "aprobado_en"),
    ("pagado_en", "pagado_en"),
    ("revertido_en", "revertido_en"),
    ("motivo_reversion", "motivo_reversion"),
]

COLUMNAS_RECOMPENSAS: Columnas = [*COLUMNAS_COMISIONES, ("descripcion", "descripcion")]

COLUMNAS_PAGOS: Columnas = [
    ("id", "id"),
    ("socio_id", "socio_id"),
    ("socio", "socio__nombre"),
    ("marca_id", "marca_id"),
    ("monto", "monto"),
    ("moneda", "moneda"),
    ("estado", "estado"),
    ("intentos", "intentos"),
    ("creado_en", "creado_en"),
    ("enviado_en", "enviado_en"),
    ("confirmado_en", "confirmado_en"),
]

COLUMNAS_POR_MODELO: dict[type[Model], Columnas] = {
    Evento: COLUMNAS_EVENTOS,
    Comision: COLUMNAS_COMISIONES,
    Recompensa: COLUMNAS_RECOMPENSAS,
    Pago: COLUMNAS_PAGOS,
}

RECURSOS: tuple[str, ...] = ("eventos", "comisiones", "recompensas", "pagos")


class _Eco:
    """A write-only file whose write() hands the line back, so csv.writer yields strings."""

    def write(self, valor: str) -> str:
        return valor


_PELIGROSOS = ("=", "+", "-", "@", "\t", "\r")


def celda_csv(valor: Any) -> Any:
    """One CSV cell: text that a spreadsheet would run as a formula is quoted."""
    if valor is None:
        return ""
    if isinstance(valor, str):
        return "'" + valor if valor.startswith(_PELIGROSOS) else valor
    if isinstance(valor, dt.datetime):
        return valor.isoformat()
    if isinstance(valor, uuid.UUID):
        return str(valor)
    if isinstance(valor, (dict, list)):
        return json.dumps(valor, ensure_ascii=False)
    return valor


def _columnas_de(modelo: type[Model]) -> Columnas:
    if modelo in COLUMNAS_POR_MODELO:
        return COLUMNAS_POR_MODELO[modelo]
    return [(f.attname, f.attname) for f in modelo._meta.concrete_fields]


def filas_csv(
    qs: QuerySet[Any], columnas: Columnas, *, tamano_bloque: int = TAMANO_BLOQUE
) -> Iterator[str]:
    """The header and then one CSV line per row, fetched `tamano_bloque` rows at a time."""
    escritor = csv.writer(_Eco())  # type: ignore[arg-type]
    yield escritor.writerow([cabecera for cabecera, _ in columnas])
    campos = [campo for _, campo in columnas]
    for fila in qs.values_list(*campos).iterator(chunk_size=tamano_bloque):
        yield escritor.writerow([celda_csv(v) for v in fila])


def respuesta_csv(nombre: str, filas: Iterator[str]) -> StreamingHttpResponse:
    """A streamed `text/csv` attachment named `<nombre>-<UTC timestamp>.csv`."""
    respuesta = StreamingHttpResponse(filas, content_type="text/csv; charset=utf-8")
    marca_tiempo = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    respuesta["Content-Disposition"] = f'attachment; filename="{nombre}-{marca_tiempo}.csv"'
    respuesta["Cache-Control"] = "no-store"
    return respuesta


def exportacion_queryset(
    *,
    recurso: str,
    alcance: Alcance,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> tuple[QuerySet[Any], Columnas]:
    """The scoped, filtered and ordered rows of one export and its columns.

    Scope and filters are the reports' (`consultas.py`): eventos and credits by the event's
    marca/socio/ocurrido_en; pagos by their marca, socio and creado_en."""
    filtros: dict[str, Any] = {"socio_id": socio_id, "desde": desde, "hasta": hasta}
    if recurso == "eventos":
        qs: QuerySet[Any] = eventos_reporte(alcance=alcance, marca_id=marca_id, **filtros)
        return qs.order_by("-ocurrido_en", "-id"), COLUMNAS_EVENTOS
    if recurso == "comisiones":
        qs = creditos_reporte(Comision, alcance=alcance, marca_id=marca_id, **filtros)
        return qs.order_by("-creado_en", "id"), COLUMNAS_COMISIONES
    if recurso == "recompensas":
        qs = creditos_reporte(Recompensa, alcance=alcance, marca_id=marca_id, **filtros)
        return qs.order_by("-creado_en", "id"), COLUMNAS_RECOMPENSAS
    if recurso == "pagos":
        return pagos_reporte(alcance=alcance, marca_id=marca_id, **filtros).order_by(
            "-creado_en", "id"
        ), COLUMNAS_PAGOS
    raise ValueError(f"recurso must be one of {RECURSOS}")


def exportar(
    *,
    recurso: str,
    alcance: Alcance,
    marca_id: uuid.UUID | None = None,
    socio_id: uuid.UUID | None = None,
    desde: dt.datetime | None = None,
    hasta: dt.datetime | None = None,
) -> StreamingHttpResponse:
    """Stream one resource as CSV for `alcance` (see `exportacion_queryset`)."""
    qs, columnas = exportacion_queryset(
        recurso=recurso,
        alcance=alcance,
        marca_id=marca_id,
        socio_id=socio_id,
        desde=desde,
        hasta=hasta,
    )
    return respuesta_csv(recurso, filas_csv(qs, columnas))


@admin.action(description="Exportar CSV de los seleccionados", permissions=["view"])
def exportar_csv(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> StreamingHttpResponse:
    """Admin action: the selected rows (or all, with "select all") as a streamed CSV.

    Add it to any ModelAdmin: `actions = [exportar_csv]`."""
    modelo = queryset.model
    nombre = str(modelo._meta.verbose_name_plural).replace(" ", "_")
    return respuesta_csv(nombre, filas_csv(queryset.order_by("pk"), _columnas_de(modelo)))
