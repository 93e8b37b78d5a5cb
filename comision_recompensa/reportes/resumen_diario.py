"""The daily event rollup behind the reports (`ResumenDiario`, `DiaResumido`).

Reports over a million events cannot scan them per request, so each UTC day before today is
summarised once into a few rows per (socio, marca, tipo) — plus the clicks per publicacion
(`ResumenPublicacion`, the partner portal's link counts) — and reports read those; today, and any
day not (or no longer) summarised, is read live from the events (see `consultas.py`), so
the figures stay exact.

- `resumen_refrescar` rebuilds whole days: past days not yet summarised (the first runs
  backfill history, newest first, at most `RESUMEN_MAX_DIAS_POR_EJECUCION` days per run and
  none older than `RESUMEN_HORIZONTE_DIAS`) and the last `RESUMEN_VENTANA_DIAS` days (late
  events). A day is rebuilt from scratch (delete + insert of its rows) under a lock on its
  `DiaResumido` row, so runs are idempotent; and a run holds `resumen_cerrojo` (a PostgreSQL
  advisory lock), so two refreshes never run at once. Periodic: beat task
  `comision_recompensa.tasks.refrescar_resumen_diario` and the `refrescar_resumen` command.
- `resumen_invalidar` drops the `DiaResumido` rows of the days of some events (the receiver of
  `eventos_atribuidos` calls it: attribution may set `Evento.socio`), so those days are read live
  until the next refresh rebuilds them.

Events are immutable after ingestion except `estado_atribucion` (only `descartado`, set at
ingestion, matters here) and `socio` (set by attribution); credits are created by attribution
and change estado later (approval, payment, reversal), each change sending its past-tense
signal after commit. So the receivers of `eventos_atribuidos` and of the `*_aprobada`,
`*_pagada` and `*_revertida` signals invalidate the days concerned (`comision_recompensa.
receivers`), and reports stay exact. Re-attribution sends `eventos_atribuidos` for every event
whose credits, state or socio it changed, so its days are invalidated too. Only changes made
outside the services (manual SQL) need `manage.py refrescar_resumen --desde … --hasta …`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone

from alpespartners.cerrojos import cerrojo_exclusivo
from comision_recompensa.models import (
    Comision,
    DiaResumido,
    Recompensa,
    ResumenDiario,
    ResumenDinero,
    ResumenPublicacion,
)
from comision_recompensa.reportes.consultas import (
    filas_clicks_publicacion,
    filas_diarias,
    inicio_dia,
)
from eventos_medios.models import Evento

VENTANA_DIAS_POR_DEFECTO = 2
CERROJO_RESUMEN = "comision_recompensa.resumen_refrescar"


def _hoy() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def resumen_dia_refrescar(*, dia: dt.date) -> int | None:
    """Rebuild the rollup of one UTC day (which must be before today). Returns the rows
    written, or None when the day was invalidated while being claimed (the next run retries)."""
    if dia >= _hoy():
        raise ValueError("Only days before today are summarised; today is always read live.")
    DiaResumido.objects.get_or_create(dia=dia)
    with transaction.atomic():
        marca = DiaResumido.objects.select_for_update().filter(dia=dia).first()
        if marca is None:
            return None
        ResumenDiario.objects.filter(dia=dia).delete()
        inicio = inicio_dia(dia)
        eventos = Evento.objects.filter(
            ocurrido_en__gte=inicio, ocurrido_en__lt=inicio + dt.timedelta(days=1)
        )
        filas = [
            ResumenDiario(
                dia=dia,
                socio_id=f["socio_id"],
                marca_id=f["marca_id"],
                tipo=f["tipo"],
                eventos=f["eventos"],
                descartados=f["descartados"],
                clicks_unicos=f["clicks_unicos"],
            )
            for f in filas_diarias(eventos)
        ]
        ResumenDiario.objects.bulk_create(filas, batch_size=1000)
        ResumenDinero.objects.filter(dia=dia).delete()
        dinero = [
            ResumenDinero(
                dia=dia,
                clase=clase,
                socio_id=f["socio_id"],
                marca_id=f["evento__marca_id"],
                publicacion_id=f["evento__publicacion_id"],
                moneda=f["moneda"],
                estado=f["estado"],
                cantidad=f["cantidad"],
                monto=f["monto"] or Decimal("0.00"),
            )
            for clase, modelo in (
                (ResumenDinero.Clase.COMISION, Comision),
                (ResumenDinero.Clase.RECOMPENSA, Recompensa),
            )
            for f in modelo.objects.filter(
                evento__ocurrido_en__gte=inicio,
                evento__ocurrido_en__lt=inicio + dt.timedelta(days=1),
            )
            .order_by()
            .values("socio_id", "evento__marca_id", "evento__publicacion_id", "moneda", "estado")
            .annotate(cantidad=Count("id"), monto=Sum("monto"))
        ]
        ResumenDinero.objects.bulk_create(dinero, batch_size=1000)
        por_publicacion = _resumen_publicaciones(dia, eventos)
        marca.refrescado_en = timezone.now()
        marca.save(update_fields=["refrescado_en"])
    return len(filas) + len(dinero) + por_publicacion


def _resumen_publicaciones(dia: dt.date, eventos: Any) -> int:
    """Rebuild the day's clicks per publicacion (`ResumenPublicacion`); rows written."""
    ResumenPublicacion.objects.filter(dia=dia).delete()
    filas = [
        ResumenPublicacion(
            dia=dia,
            publicacion_id=f["publicacion_id"],
            socio_id=f["socio_id"],
            marca_id=f["marca_id"],
            clicks=f["clicks"],
            clicks_unicos=f["clicks_unicos"],
        )
        for f in filas_clicks_publicacion(eventos)
    ]
    ResumenPublicacion.objects.bulk_create(filas, batch_size=1000)
    return len(filas)


def dias_por_refrescar(
    *, ventana_dias: int | None = None, maximo: int | None = None
) -> list[dt.date]:
    """Past days never summarised (or invalidated) since the first event, plus the last
    `ventana_dias` days before today — at most `maximo` of them (default
    RESUMEN_MAX_DIAS_POR_EJECUCION), the most recent first, in date order. Days older than
    RESUMEN_HORIZONTE_DIAS are never summarised (reports read them live): one event dated
    0001-01-01 must not make a run walk two thousand years."""
    if ventana_dias is None:
        ventana_dias = getattr(settings, "RESUMEN_VENTANA_DIAS", VENTANA_DIAS_POR_DEFECTO)
    if maximo is None:
        maximo = settings.RESUMEN_MAX_DIAS_POR_EJECUCION
    hoy = _hoy()
    horizonte = hoy - dt.timedelta(days=settings.RESUMEN_HORIZONTE_DIAS)
    primero = (
        Evento.objects.filter(ocurrido_en__gte=inicio_dia(horizonte))
        .order_by()
        .aggregate(m=Min("ocurrido_en"))["m"]
    )
    if primero is None:
        return []
    dia = primero.astimezone(dt.UTC).date()
    hechos = set(
        DiaResumido.objects.filter(
            dia__gte=dia, dia__lt=hoy, refrescado_en__isnull=False
        ).values_list("dia", flat=True)
    )
    recientes = hoy - dt.timedelta(days=ventana_dias)
    dias = []
    while dia < hoy:
        if dia not in hechos or dia >= recientes:
            dias.append(dia)
        dia += dt.timedelta(days=1)
    return dias[-maximo:] if maximo > 0 else []


@contextlib.contextmanager
def resumen_cerrojo() -> Iterator[bool]:
    """The rollup refresh's exclusive lock: yields False (do nothing) when another refresh
    holds it — the periodic task and the command never run at once."""
    with cerrojo_exclusivo(CERROJO_RESUMEN) as obtenido:
        yield obtenido


def resumen_refrescar(
    *, dias: Iterable[dt.date] | None = None, ventana_dias: int | None = None
) -> dict[str, int]:
    """Rebuild `dias` (default: `dias_por_refrescar`, bounded per run), one transaction per
    day. Idempotent. Returns the counts; `{"en_curso": 1}` and nothing done when another
    refresh is running."""
    with resumen_cerrojo() as obtenido:
        if not obtenido:
            return {"dias": 0, "filas": 0, "omitidos": 0, "en_curso": 1}
        return _refrescar(dias=dias, ventana_dias=ventana_dias)


def _refrescar(*, dias: Iterable[dt.date] | None, ventana_dias: int | None) -> dict[str, int]:
    lista = list(dias) if dias is not None else dias_por_refrescar(ventana_dias=ventana_dias)
    hoy = _hoy()
    resultado = {"dias": 0, "filas": 0, "omitidos": 0}
    for dia in sorted(set(lista)):
        if dia >= hoy:
            resultado["omitidos"] += 1
            continue
        n = resumen_dia_refrescar(dia=dia)
        if n is None:
            resultado["omitidos"] += 1
        else:
            resultado["dias"] += 1
            resultado["filas"] += n
    return resultado


def resumen_invalidar_creditos(
    *, modelo: type[Comision] | type[Recompensa], credito_ids: Iterable[uuid.UUID | str]
) -> int:
    """Forget the rollup of the days of these credits' events."""
    ids = list(modelo.objects.filter(id__in=list(credito_ids)).values_list("evento_id", flat=True))
    return resumen_invalidar(evento_ids=ids)


def resumen_invalidar(*, evento_ids: Iterable[uuid.UUID | str]) -> int:
    """Forget the rollup of the days of these events (read live until rebuilt). Returns the
    number of days invalidated."""
    ids = list(evento_ids)
    if not ids:
        return 0
    hoy_inicio = inicio_dia(_hoy())
    fechas = (
        Evento.objects.filter(id__in=ids, ocurrido_en__lt=hoy_inicio)
        .order_by()
        .values_list("ocurrido_en", flat=True)
    )
    dias: set[Any] = {f.astimezone(dt.UTC).date() for f in fechas}
    if not dias:
        return 0
    borrados, _ = DiaResumido.objects.filter(dia__in=dias).delete()
    return borrados


__all__ = [
    "dias_por_refrescar",
    "resumen_cerrojo",
    "resumen_dia_refrescar",
    "resumen_invalidar",
    "resumen_invalidar_creditos",
    "resumen_refrescar",
]
