"""Batch re-attribution (PRODUCT.md §5): recompute the credits of past conversions with the
marca's *current* model and window, and reconcile what is stored.

For every conversion in range (already `atribuido` or `sin_atribucion`; pending ones belong to
the live engine) the new credits are computed with the same engine as live attribution
(`motor.calcular_atribucion`) and compared, per partner, with the live (not reversed) credits.
The comparison is pure (`reatribucion_plan.plan_evento`: its docstring states the rules); this
module loads its inputs, applies the resulting plan and keeps the run's checkpoint.

Every change is a CambioAtribucion row linked to the run (its `detalle` names the credit and,
for a change, keeps the previous explanation; for an adjustment, the new one — the paid row
keeps its own). Running the same re-attribution twice changes nothing the second time,
because the comparison is against the stored state (and, for paid credits, against paid
amount + adjustments).

Scale: events are read in keyset-paginated chunks on (ocurrido_en, id) through tracking's
`almacen.conversiones_reatribuibles`; each chunk costs a fixed number of set-based queries and
is committed with the run's cursor in one transaction, so an interrupted run resumes where it
stopped (`reanudar`) and memory stays bounded.

What-if: `modelo` overrides the marca's model, but only for a dry run (`dry_run=True`), which
writes nothing at all. To apply another model, change the marca's model and run without it —
otherwise live attribution and the next re-attribution would disagree with what was applied.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, reset_queries, transaction
from django.db.models import Sum
from django.utils import timezone

from alpespartners import sql
from alpespartners.errors import ErrorDominio
from alpespartners.senales import enviar_al_confirmar
from comision_recompensa import signals
from comision_recompensa.atribucion.contexto import (
    CAMPOS_EVENTO,
    EventoAtribuible,
    contexto_cargar,
)
from comision_recompensa.atribucion.motor import calcular_atribucion
from comision_recompensa.atribucion.reatribucion_plan import (
    MOTIVO_REATRIBUCION,
    BalanceReatribucion,
    CreditoActual,
    PlanReatribucion,
    plan_evento,
)
from comision_recompensa.models import (
    Ajuste,
    CambioAtribucion,
    Comision,
    EjecucionReatribucion,
    EstadoCredito,
    Recompensa,
)
from eventos_medios import almacen
from eventos_medios.models import ModeloAtribucion

TAMANO_LOTE_POR_DEFECTO = 2000
CAMPOS_ACTUALIZABLES = (
    "participacion",
    "monto",
    "moneda",
    "asociacion_id",
    "regla_id",
    "detalle_atribucion",
    "actualizado_en",
)
Cursor = almacen.CursorEvento

__all__ = [
    "TAMANO_LOTE_POR_DEFECTO",
    "BalanceReatribucion",
    "ParametrosReatribucion",
    "reatribucion_contar",
    "reatribucion_ejecutar",
    "reatribucion_procesar_lote",
]


# --- Parameters --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParametrosReatribucion:
    desde: dt.datetime
    hasta: dt.datetime
    marca_id: uuid.UUID | None = None
    socio_id: uuid.UUID | None = None
    modelo: str | None = None
    dry_run: bool = False

    def validar(self) -> None:
        if self.hasta < self.desde:
            raise ErrorDominio("hasta must not be before desde.", campo="hasta")
        if self.modelo is not None and self.modelo not in ModeloAtribucion.values:
            raise ErrorDominio(f"Unknown attribution model {self.modelo!r}.", campo="modelo")
        if self.modelo is not None and not self.dry_run:
            raise ErrorDominio(
                "modelo is a what-if override and only works with a dry run; to apply another "
                "model, change the marca's modelo_atribucion and re-attribute.",
                campo="modelo",
            )

    def como_dict(self) -> dict[str, Any]:
        return {
            "desde": self.desde.isoformat(),
            "hasta": self.hasta.isoformat(),
            "marca": str(self.marca_id) if self.marca_id else None,
            "socio": str(self.socio_id) if self.socio_id else None,
            "modelo": self.modelo,
            "dry_run": self.dry_run,
        }

    @classmethod
    def de_dict(cls, datos: dict[str, Any]) -> ParametrosReatribucion:
        return cls(
            desde=dt.datetime.fromisoformat(datos["desde"]),
            hasta=dt.datetime.fromisoformat(datos["hasta"]),
            marca_id=uuid.UUID(datos["marca"]) if datos.get("marca") else None,
            socio_id=uuid.UUID(datos["socio"]) if datos.get("socio") else None,
            modelo=datos.get("modelo"),
            dry_run=bool(datos.get("dry_run")),
        )


def reatribucion_contar(*, parametros: ParametrosReatribucion, cursor: Cursor = None) -> int:
    """How many conversions a run (from `cursor`) will look at (for the progress bar)."""
    return almacen.conversiones_reatribuibles_contar(
        desde=parametros.desde, hasta=parametros.hasta, marca_id=parametros.marca_id, cursor=cursor
    )


# --- Loading a chunk's stored state ------------------------------------------------------------
_CAMPOS_CREDITO = (
    "id",
    "evento_id",
    "socio_id",
    "participacion",
    "monto",
    "moneda",
    "asociacion_id",
    "regla_id",
    "estado",
    "pago_id",
    "detalle_atribucion",
)
CreditosPorEvento = dict[uuid.UUID, dict[uuid.UUID, CreditoActual]]


def _creditos_actuales(evento_ids: list[uuid.UUID], *, bloquear: bool) -> CreditosPorEvento:
    """The live credits of these events, per event and partner (locked when `bloquear`, so
    lifecycle transitions wait for this chunk instead of racing it)."""
    actuales: CreditosPorEvento = defaultdict(dict)
    if connection.vendor != "postgresql":
        for modelo in (Comision, Recompensa):
            qs = modelo.objects.filter(evento_id__in=evento_ids).exclude(
                estado=EstadoCredito.REVERTIDA
            )
            for fila in qs.values(*_CAMPOS_CREDITO):
                actual = CreditoActual(modelo=modelo, **fila)
                actuales[actual.evento_id][actual.socio_id] = actual
        return actuales
    # Raw query (ids as one array, rows as tuples) and orjson for the explanations: the ORM's
    # IN list, values() dicts and json.loads cost more than the query itself.
    ids = sql.arreglo_pg(evento_ids)
    for modelo in (Comision, Recompensa):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_CAMPOS_CREDITO[:-1])}, detalle_atribucion::text "
                f"FROM {modelo._meta.db_table} "
                "WHERE evento_id = ANY(%s::uuid[]) AND estado <> %s"
                + (" FOR UPDATE" if bloquear else ""),
                [ids, EstadoCredito.REVERTIDA],
            )
            for fila in cursor.fetchall():
                detalle = fila[-1]
                if isinstance(detalle, str | bytes):
                    detalle = orjson.loads(detalle)
                actual = CreditoActual(modelo, *fila[:-1], detalle)  # type: ignore[call-arg]
                actuales[actual.evento_id][actual.socio_id] = actual
    return actuales


def _ajustes_previos(pagados: list[CreditoActual]) -> dict[uuid.UUID, Decimal]:
    """Sum of adjustments already made to each paid credit."""
    sumas: dict[uuid.UUID, Decimal] = {}
    for modelo, campo in ((Comision, "comision_id"), (Recompensa, "recompensa_id")):
        ids = [c.id for c in pagados if c.modelo is modelo]
        if not ids:
            continue
        for credito_id, total in (
            Ajuste.objects.filter(**{f"{campo}__in": ids})
            .values_list(campo)
            .annotate(total=Sum("monto"))
            .values_list(campo, "total")
        ):
            sumas[credito_id] = total or Decimal("0")
    return sumas


# --- One chunk ---------------------------------------------------------------------------------
def reatribucion_procesar_lote(
    *,
    parametros: ParametrosReatribucion,
    cursor: Cursor = None,
    tamano: int = TAMANO_LOTE_POR_DEFECTO,
    ejecucion: EjecucionReatribucion | None = None,
) -> tuple[BalanceReatribucion, Cursor]:
    """Re-attribute the next chunk of up to `tamano` conversions after `cursor`.

    Returns the chunk's balance and the new cursor (None when nothing was left). In a real run
    (`ejecucion` given, not a dry run) the changes and the run's cursor are committed together.
    """
    parametros.validar()
    escribir = not parametros.dry_run
    with transaction.atomic():
        filas = almacen.conversiones_reatribuibles(
            campos=CAMPOS_EVENTO,
            desde=parametros.desde,
            hasta=parametros.hasta,
            marca_id=parametros.marca_id,
            cursor=cursor,
            limite=tamano,
        )
        if not filas:
            return BalanceReatribucion(), None
        eventos = [EventoAtribuible(*f) for f in filas]
        plan = _planificar(
            eventos, parametros, bloquear=escribir, ejecucion_id=ejecucion.pk if ejecucion else None
        )
        ultimo: Cursor = (eventos[-1].ocurrido_en, eventos[-1].id)
        if escribir:
            _aplicar(plan)
            if ejecucion is not None:
                _guardar_avance(ejecucion, ultimo, plan.balance)
    return plan.balance, ultimo


def _planificar(
    eventos: Sequence[EventoAtribuible],
    parametros: ParametrosReatribucion,
    *,
    bloquear: bool,
    ejecucion_id: uuid.UUID | None,
) -> PlanReatribucion:
    """Load the chunk's context and stored credits, and compare event by event (pure)."""
    ctx = contexto_cargar(eventos=eventos, modelo=parametros.modelo)
    actuales = _creditos_actuales([e.id for e in eventos], bloquear=bloquear)
    pagados = [c for por_socio in actuales.values() for c in por_socio.values() if c.pagado]
    ajustes_previos = _ajustes_previos(pagados) if pagados else {}
    plan = PlanReatribucion(ahora=timezone.now(), ejecucion_id=ejecucion_id)
    plan.balance.eventos = len(eventos)
    for ev in eventos:
        plan_evento(
            plan,
            ev,
            calcular_atribucion(ev, contexto=ctx),
            actuales.get(ev.id, {}),
            ajustes_previos=ajustes_previos,
            solo_socio=parametros.socio_id,
        )
    return plan


def _aplicar(plan: PlanReatribucion) -> None:
    """Write the plan set-based; the signals go out after commit."""
    for modelo, filas in plan.crear.items():
        sql.filas_insertar(modelo, filas, ignorar_conflictos=False)
    for modelo, filas in plan.actualizar.items():
        sql.filas_actualizar(modelo, filas, CAMPOS_ACTUALIZABLES)
    for modelo, ids in plan.revertir.items():
        modelo.objects.filter(
            id__in=ids,
            estado__in=(EstadoCredito.PENDIENTE, EstadoCredito.APROBADA),
            pago__isnull=True,
        ).update(
            estado=EstadoCredito.REVERTIDA,
            motivo_reversion=MOTIVO_REATRIBUCION,
            revertido_en=plan.ahora,
            actualizado_en=plan.ahora,
        )
        senal = signals.recompensa_revertida if modelo is Recompensa else signals.comision_revertida
        for credito_id in ids:
            enviar_al_confirmar(
                senal, sender=modelo, credito_id=credito_id, motivo=MOTIVO_REATRIBUCION
            )
    sql.filas_insertar(Ajuste, plan.ajustes, ignorar_conflictos=False)
    sql.filas_insertar(CambioAtribucion, plan.cambios, ignorar_conflictos=False)
    almacen.eventos_marcar_atribucion(plan.estados, ahora=plan.ahora, solo_pendientes=False)
    if plan.tocados:
        # The same domain event as live attribution (reports drop stale rollups).
        enviar_al_confirmar(
            signals.eventos_atribuidos,
            sender=reatribucion_procesar_lote,
            evento_ids=list(plan.tocados),
        )


def _guardar_avance(
    ejecucion: EjecucionReatribucion, ultimo: Cursor, balance: BalanceReatribucion
) -> None:
    """The run's checkpoint, committed with the chunk's changes."""
    assert ultimo is not None
    ejecucion.cursor_ocurrido_en, ejecucion.cursor_evento_id = ultimo
    ejecucion.eventos_procesados += balance.eventos
    total = BalanceReatribucion.de_dict(ejecucion.balance)
    total.sumar(balance)
    ejecucion.balance = total.como_dict()
    ejecucion.save(
        update_fields=["cursor_ocurrido_en", "cursor_evento_id", "eventos_procesados", "balance"]
    )


# --- A whole run -------------------------------------------------------------------------------
@dataclass
class _Corrida:
    """A run to go on with: its record (None for a dry run), parameters and cursor."""

    ejecucion: EjecucionReatribucion | None
    parametros: ParametrosReatribucion
    cursor: Cursor
    terminada: bool = False


def _corrida(
    parametros: ParametrosReatribucion | None,
    reanudar: EjecucionReatribucion | uuid.UUID | str | None,
    usuario: Any,
) -> _Corrida:
    """A new run from `parametros`, or the interrupted run `reanudar` from its cursor."""
    if reanudar is not None:
        ejecucion = (
            reanudar
            if isinstance(reanudar, EjecucionReatribucion)
            else EjecucionReatribucion.objects.get(pk=reanudar)
        )
        cursor: Cursor = (
            (ejecucion.cursor_ocurrido_en, ejecucion.cursor_evento_id)
            if ejecucion.cursor_ocurrido_en and ejecucion.cursor_evento_id
            else None
        )
        return _Corrida(
            ejecucion,
            ParametrosReatribucion.de_dict(ejecucion.parametros),
            cursor,
            terminada=ejecucion.terminada_en is not None,
        )
    if parametros is None:
        raise ErrorDominio("parametros or reanudar is required.")
    parametros.validar()
    if parametros.dry_run:
        return _Corrida(None, parametros, None)
    ejecucion = EjecucionReatribucion.objects.create(
        parametros=parametros.como_dict(),
        dry_run=False,
        usuario=usuario if getattr(usuario, "pk", None) else None,
    )
    return _Corrida(ejecucion, parametros, None)


def reatribucion_ejecutar(
    *,
    parametros: ParametrosReatribucion | None = None,
    reanudar: EjecucionReatribucion | uuid.UUID | str | None = None,
    tamano: int = TAMANO_LOTE_POR_DEFECTO,
    usuario: Any = None,
    al_avanzar: Callable[[int], None] | None = None,
    max_lotes: int | None = None,
) -> tuple[EjecucionReatribucion | None, BalanceReatribucion]:
    """Run (or resume) a re-attribution chunk by chunk and return (run, balance).

    Pass `parametros` for a new run or `reanudar` (a run or its id) to continue an interrupted
    one from its cursor with its stored parameters. A dry run records nothing (the run is None)
    and its balance says what a real run would change. `al_avanzar(n)` is called after each
    chunk with the number of events processed (progress bar); `max_lotes` stops early (tests,
    or bounded slices of a huge range).
    """
    corrida = _corrida(parametros, reanudar, usuario)
    ejecucion, cursor = corrida.ejecucion, corrida.cursor
    if corrida.terminada and ejecucion is not None:
        return ejecucion, BalanceReatribucion.de_dict(ejecucion.balance)
    balance = BalanceReatribucion()
    for _ in range(max_lotes) if max_lotes is not None else itertools.count():
        parcial, cursor = reatribucion_procesar_lote(
            parametros=corrida.parametros, cursor=cursor, tamano=tamano, ejecucion=ejecucion
        )
        # With DEBUG on, Django keeps the last 9,000 statements with their parameters inlined
        # (megabytes per chunk here): forget them so memory stays bounded on a long run.
        reset_queries()
        if cursor is None:
            break
        balance.sumar(parcial)
        if al_avanzar is not None:
            al_avanzar(parcial.eventos)
    else:
        return ejecucion, balance  # stopped early: the run stays open for `reanudar`
    if ejecucion is not None:
        ejecucion.terminada_en = timezone.now()
        ejecucion.save(update_fields=["terminada_en"])
        balance = BalanceReatribucion.de_dict(ejecucion.balance)
    return ejecucion, balance
