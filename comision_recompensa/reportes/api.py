"""Reports and CSV exports over the API, scoped by the caller's access (PRODUCT.md §6).

- `GET /api/v1/reportes/resumen/` — totals (a partner's statement; `selectors.totales`);
- `GET /api/v1/reportes/serie/?intervalo=dia|semana|mes` — time series;
- `GET /api/v1/reportes/publicaciones/` — per-publication performance (paginated);
- `GET /api/v1/exportaciones/{eventos|comisiones|recompensas|pagos}/` — streamed CSV.

Common filters: `marca`, `socio` (UUIDs of objects visible to the caller), `desde`, `hasta`
(`YYYY-MM-DD` or ISO 8601 datetime; a bare `hasta` date includes that whole day). Bad values
are a 400 naming the field, and so is a period longer than `DIAS_MAXIMOS_POR_INTERVALO` allows
(400 days of daily points, ten years otherwise). Exports have their own endpoints:
`?format=csv` on list endpoints is not used. Definitions of each figure:
`comision_recompensa.reportes.selectors`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import dateparse, timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.alcance import Alcance, alcance_de
from alpespartners.api.pagination import PaginacionEstandar
from comision_recompensa.reportes import exportacion
from comision_recompensa.reportes import selectors as reportes
from eventos_medios.selectors import marcas_visibles, socios_visibles

DOS_DECIMALES = Decimal("0.01")

# Longest period one request may cover (PRODUCT.md §8), so that no request can ask for
# unbounded work: 400 days of daily points, ten years of weeks or months, and ten years for
# totals, per-publication figures and CSV exports. A missing `hasta` means "now".
DIAS_MAXIMOS = 3653
DIAS_MAXIMOS_POR_INTERVALO = {"dia": 400, "semana": DIAS_MAXIMOS, "mes": DIAS_MAXIMOS}


def _errores_de_rango(
    desde: dt.datetime | None, hasta: dt.datetime | None, intervalo: str | None
) -> dict[str, list[str]]:
    """The errors (naming desde/hasta) of a period longer than allowed; empty when it fits."""
    if desde is None:
        return {}
    maximo = DIAS_MAXIMOS_POR_INTERVALO.get(intervalo or "", DIAS_MAXIMOS)
    fin = hasta if hasta is not None else timezone.now()
    if fin - desde <= dt.timedelta(days=maximo):
        return {}
    porque = f" with intervalo={intervalo}" if intervalo else ""
    mensaje = f"The period from desde to hasta may span at most {maximo} days{porque}."
    return {"desde": [mensaje], "hasta": [mensaje]}


def _instante(valor: str, *, fin_de_dia: bool) -> dt.datetime:
    """Parse a date or datetime; naive values are UTC. A date used as an upper bound means the
    end of that day (the next midnight, exclusive)."""
    fecha = dateparse.parse_date(valor) if len(valor) == 10 else None
    if fecha is not None:
        instante = dt.datetime.combine(fecha, dt.time.min)
        if fin_de_dia:
            instante += dt.timedelta(days=1)
    else:
        parsed = dateparse.parse_datetime(valor)
        if parsed is None:
            raise ValueError
        instante = parsed
    if instante.tzinfo is None:
        instante = instante.replace(tzinfo=dt.UTC)
    # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
    return instante.astimezone(dt.UTC)


class FiltrosReporteSerializer(serializers.Serializer[dict[str, Any]]):
    marca = serializers.UUIDField(required=False, help_text="Only this marca's data.")
    socio = serializers.UUIDField(required=False, help_text="Only this socio's data.")
    desde = serializers.CharField(
        required=False, help_text="From this date/datetime (inclusive, UTC when naive)."
    )
    hasta = serializers.CharField(
        required=False, help_text="Up to this datetime (exclusive) or date (inclusive)."
    )

    def _fecha(self, valor: str, *, fin_de_dia: bool) -> dt.datetime:
        try:
            return _instante(valor, fin_de_dia=fin_de_dia)
        except (ValueError, OverflowError):
            raise serializers.ValidationError(
                "Use a date (YYYY-MM-DD) or an ISO 8601 datetime."
            ) from None

    def validate_desde(self, valor: str) -> dt.datetime:
        return self._fecha(valor, fin_de_dia=False)

    def validate_hasta(self, valor: str) -> dt.datetime:
        return self._fecha(valor, fin_de_dia=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        desde, hasta = attrs.get("desde"), attrs.get("hasta")
        if desde is not None and hasta is not None and hasta <= desde:
            raise serializers.ValidationError({"hasta": ["Must be after desde."]})
        errores_rango = _errores_de_rango(desde, hasta, attrs.get("intervalo"))
        if errores_rango:
            raise serializers.ValidationError(errores_rango)
        alcance: Alcance = self.context["alcance"]
        errores: dict[str, list[str]] = {}
        marca = attrs.get("marca")
        if marca is not None and not marcas_visibles(alcance=alcance).filter(id=marca).exists():
            errores["marca"] = ["Unknown marca."]
        socio = attrs.get("socio")
        if socio is not None and not socios_visibles(alcance=alcance).filter(id=socio).exists():
            errores["socio"] = ["Unknown socio."]
        if errores:
            raise serializers.ValidationError(errores)
        return attrs


class FiltrosSerieSerializer(FiltrosReporteSerializer):
    intervalo = serializers.ChoiceField(
        choices=reportes.INTERVALOS, default="dia", help_text="Period length."
    )


def _filtros(request: Request, clase: type[FiltrosReporteSerializer]) -> dict[str, Any]:
    """Validated filters as selector keyword arguments (400 naming the field otherwise)."""
    entrada = clase(data=request.query_params, context={"alcance": alcance_de(request.user)})
    entrada.is_valid(raise_exception=True)
    datos = entrada.validated_data
    filtros = {
        "marca_id": datos.get("marca"),
        "socio_id": datos.get("socio"),
        "desde": datos.get("desde"),
        "hasta": datos.get("hasta"),
    }
    if "intervalo" in datos:
        filtros["intervalo"] = datos["intervalo"]
    return filtros


def a_json(valor: Any) -> Any:
    """Money as strings with two decimals (never floats); the rest as DRF renders it."""
    if isinstance(valor, Decimal):
        return str(valor.quantize(DOS_DECIMALES))
    if isinstance(valor, dict):
        return {str(k): a_json(v) for k, v in valor.items()}
    if isinstance(valor, (list, tuple)):
        return [a_json(v) for v in valor]
    return valor


def _eco_filtros(filtros: dict[str, Any]) -> dict[str, Any]:
    return {
        "marca": filtros["marca_id"],
        "socio": filtros["socio_id"],
        "desde": filtros["desde"],
        "hasta": filtros["hasta"],
    }


class TotalesView(APIView):
    """Totals for the caller's scope and the filters: a partner gets its own statement."""

    @extend_schema(
        parameters=[FiltrosReporteSerializer],
        responses={200: OpenApiTypes.OBJECT},
        summary="Summary report (a partner's statement)",
    )
    def get(self, request: Request) -> Response:
        filtros = _filtros(request, FiltrosReporteSerializer)
        datos = reportes.totales(alcance=alcance_de(request.user), **filtros)
        return Response(a_json({"filtros": _eco_filtros(filtros), **datos}))


class SerieView(APIView):
    """Time series per day, ISO week or month."""

    @extend_schema(
        parameters=[FiltrosSerieSerializer],
        responses={200: OpenApiTypes.OBJECT},
        summary="Time series report",
    )
    def get(self, request: Request) -> Response:
        filtros = _filtros(request, FiltrosSerieSerializer)
        puntos = reportes.serie(alcance=alcance_de(request.user), **filtros)
        return Response(
            a_json(
                {
                    "filtros": _eco_filtros(filtros),
                    "intervalo": filtros["intervalo"],
                    "resultados": puntos,
                }
            )
        )


class RendimientoPublicacionesView(APIView):
    """Per publicacion: clicks, unique clicks, conversions and earnings (paginated)."""

    pagination_class = PaginacionEstandar

    @extend_schema(
        parameters=[
            FiltrosReporteSerializer,
            # APIView: spectacular does not add the paginator's parameters by itself.
            OpenApiParameter("page", int, OpenApiParameter.QUERY, description="Page number."),
            OpenApiParameter(
                "page_size",
                int,
                OpenApiParameter.QUERY,
                description=f"Rows per page (max {PaginacionEstandar.max_page_size}).",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
        summary="Per-publication performance",
    )
    def get(self, request: Request) -> Response:
        filtros = _filtros(request, FiltrosReporteSerializer)
        alcance = alcance_de(request.user)
        paginador = self.pagination_class()
        pagina = paginador.paginate_queryset(
            reportes.publicaciones_reporte(
                alcance=alcance, marca_id=filtros["marca_id"], socio_id=filtros["socio_id"]
            ),
            request,
            view=self,
        )
        filas = reportes.rendimiento_publicaciones(
            alcance=alcance, publicaciones=pagina or [], **filtros
        )
        return paginador.get_paginated_response(a_json(filas))


class ExportacionView(APIView):
    """One resource as a streamed CSV, scoped and filtered like the reports."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "recurso", str, OpenApiParameter.PATH, enum=list(exportacion.RECURSOS)
            ),
            FiltrosReporteSerializer,
        ],
        responses={(200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR)},
        summary="CSV export (streamed)",
    )
    def get(self, request: Request, recurso: str) -> StreamingHttpResponse:
        filtros = _filtros(request, FiltrosReporteSerializer)
        return exportacion.exportar(recurso=recurso, alcance=alcance_de(request.user), **filtros)
