"""Batch re-attribution (PRODUCT.md §5): recompute the credits of past conversions with the
marca's *current* model and window, and reconcile what is stored.

For every conversion in range (already `atribuido` or `sin_atribucion`; pending ones belong to
the live engine) the new credits are computed with the same engine as live attribution
(`calcular_atribucion`) and compared, per partner, with the live (not reversed) credits:

- unpaid credit (`pendiente`/`aprobada`, not claimed by a Pago) whose credit, amount, rule or
  explanation changed → updated in place (accion `cambiada`);
- unpaid credit whose partner no longer gets credit → reversed (accion `revertida`);
- partner newly credited → a new `pendiente` credit (accion `creada`);
- paid credit (`pagada`, or already claimed by a Pago) → never touched; an Ajuste for the
  difference between the new amount and what was already paid *plus earlier adjustments* goes
  to the partner's next Pago (accion `ajuste`).

The event's state and `Evento.socio` follow the new result with the live engine's rule (see
`services/atribucion.py`): socio = the one credited partner, null for a split or nobody (a paid
partner that lost the credit keeps it). A `--socio` run changes only that partner's credits and
leaves the event's state and socio alone.

Every change is a CambioAtribucion row linked to the run (its `detalle` names the credit and,
for a change, keeps the previous explanation; for an adjustment, the new one — the paid row
keeps its own). Running the same re-attribution twice
changes nothing the second time, because the comparison is against the stored state (and, for
paid credits, against paid amount + adjustments).

Scale: events are read in keyset-paginated chunks on (ocurrido_en, id); each chunk costs a fixed
number of set-based queries and is committed with the run's cursor in one transaction, so an
interrupted run resumes where it stopped (`reanudar`) and memory stays bounded.

What-if: `modelo` overrides the marca's model, but only for a dry run (`dry_run=True`), which
writes nothing at all. To apply another model, change the marca's model and run without it —
otherwise live attribution and the next re-attribution would disagree with what was applied.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
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
from comision_recompensa.atribucion.services import (
    CAMPOS_EVENTO,
    CreditoCalculado,
    EventoAtribuible,
    calcular_atribucion,
    contexto_cargar,
    credito_campos,
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
from eventos_medios.models import EstadoAtribucion, ModeloAtribucion

logger = logging.getLogger(__name__)

TAMANO_LOTE_POR_DEFECTO = 2000
MOTIVO_REATRIBUCION = "Re-attribution"
CAMPOS_ACTUALIZABLES = (
    "credito",
    "monto",
    "moneda",
    "asociacion_id",
    "regla_id",
    "detalle_atribucion",
    "actualizado_en",
)


# --- Parameters and summary --------------------------------------------------------------------
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


def _vacio_socio() -> dict[str, Any]:
    return {"creados": 0, "cambiados": 0, "revertidos": 0, "ajustes": 0, "delta": {}}


@dataclass
class ResumenReatribucion:
    """What a run (or one chunk) changed, in total and per partner (delta per currency)."""

    eventos: int = 0
    eventos_con_cambios: int = 0
    creados: int = 0
    cambiados: int = 0
    revertidos: int = 0
    ajustes: int = 0
    por_socio: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(_vacio_socio))

    @property
    def cambios(self) -> int:
        return self.creados + self.cambiados + self.revertidos + self.ajustes

    def anotar(self, accion: str, socio_id: uuid.UUID, delta: Decimal, moneda: str) -> None:
        clave = {"creada": "creados", "cambiada": "cambiados", "revertida": "revertidos"}.get(
            accion, "ajustes"
        )
        setattr(self, clave, getattr(self, clave) + 1)
        fila = self.por_socio[str(socio_id)]
        fila[clave] += 1
        if delta:
            previo = Decimal(fila["delta"].get(moneda or "-", "0"))
            fila["delta"][moneda or "-"] = str(previo + delta)

    def sumar(self, otro: ResumenReatribucion) -> None:
        for campo in ("eventos", "eventos_con_cambios", "creados", "cambiados", "revertidos"):
            setattr(self, campo, getattr(self, campo) + getattr(otro, campo))
        self.ajustes += otro.ajustes
        for socio, fila in otro.por_socio.items():
            mia = self.por_socio[socio]
            for clave in ("creados", "cambiados", "revertidos", "ajustes"):
                mia[clave] += fila[clave]
            for moneda, delta in fila["delta"].items():
                mia["delta"][moneda] = str(Decimal(mia["delta"].get(moneda, "0")) + Decimal(delta))

    def como_dict(self) -> dict[str, Any]:
        return {
            "eventos": self.eventos,
            "eventos_con_cambios": self.eventos_con_cambios,
            "creados": self.creados,
            "cambiados": self.cambiados,
            "revertidos": self.revertidos,
            "ajustes": self.ajustes,
            "por_socio": {k: dict(v) for k, v in self.por_socio.items()},
        }

    @classmethod
    def de_dict(cls, datos: dict[str, Any]) -> ResumenReatribucion:
        r = cls()
        for campo in ("eventos", "eventos_con_cambios", "creados", "cambiados", "revertidos"):
            setattr(r, campo, int(datos.get(campo, 0)))
        r.ajustes = int(datos.get("ajustes", 0))
        for socio, fila in (datos.get("por_socio") or {}).items():
            r.por_socio[socio] = {**_vacio_socio(), **fila, "delta": dict(fila.get("delta", {}))}
        return r


# --- Selecting the events ----------------------------------------------------------------------
Cursor = tuple[dt.datetime, uuid.UUID] | None


def reatribucion_contar(*, parametros: ParametrosReatribucion, cursor: Cursor = None) -> int:
    """How many conversions a run (from `cursor`) will look at (for the progress bar)."""
    return almacen.conversiones_reatribuibles_contar(
        desde=parametros.desde, hasta=parametros.hasta, marca_id=parametros.marca_id, cursor=cursor
    )


# --- One chunk ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _CreditoActual:
    modelo: type[Comision] | type[Recompensa]
    id: uuid.UUID
    evento_id: uuid.UUID
    socio_id: uuid.UUID
    credito: Decimal
    monto: Decimal
    moneda: str
    asociacion_id: uuid.UUID | None
    regla_id: uuid.UUID | None
    estado: str
    pago_id: uuid.UUID | None
    detalle_atribucion: dict[str, Any]

    @property
    def pagado(self) -> bool:
        return self.estado == EstadoCredito.PAGADA or self.pago_id is not None

    def igual_a(self, nuevo: CreditoCalculado) -> bool:
        return (
            self.credito == nuevo.credito
            and self.monto == nuevo.monto
            and self.moneda == nuevo.moneda
            and self.asociacion_id == nuevo.asociacion_id
            and self.regla_id == nuevo.regla_id
            and self.detalle_atribucion == nuevo.detalle
        )


_CAMPOS_CREDITO = (
    "id",
    "evento_id",
    "socio_id",
    "credito",
    "monto",
    "moneda",
    "asociacion_id",
    "regla_id",
    "estado",
    "pago_id",
    "detalle_atribucion",
)


def _creditos_actuales(
    evento_ids: list[uuid.UUID], *, bloquear: bool
) -> dict[uuid.UUID, dict[uuid.UUID, _CreditoActual]]:
    actuales: dict[uuid.UUID, dict[uuid.UUID, _CreditoActual]] = defaultdict(dict)
    if connection.vendor == "postgresql":
        # Raw query (ids as one array, rows as tuples) and orjson for the explanations: the
        # ORM's IN list, values() dicts and json.loads cost more than the query itself.
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
                    actual = _CreditoActual(modelo, *fila[:-1], detalle)  # type: ignore[call-arg]
                    actuales[actual.evento_id][actual.socio_id] = actual
        return actuales
    for modelo in (Comision, Recompensa):
        qs = modelo.objects.filter(evento_id__in=evento_ids).exclude(estado=EstadoCredito.REVERTIDA)
        if bloquear and connection.vendor == "postgresql":
            # Lifecycle transitions (approve, pay) wait for this chunk instead of racing it.
            qs = qs.select_for_update(of=("self",))
        for fila in qs.values(*_CAMPOS_CREDITO):
            actuales[fila["evento_id"]][fila["socio_id"]] = _CreditoActual(modelo=modelo, **fila)
    return actuales


def _ajustes_previos(pagados: list[_CreditoActual]) -> dict[uuid.UUID, Decimal]:
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


def _nombre_clase(modelo: type[Any]) -> str:
    return "recompensa" if modelo is Recompensa else "comision"


def reatribucion_procesar_lote(
    *,
    parametros: ParametrosReatribucion,
    cursor: Cursor = None,
    tamano: int = TAMANO_LOTE_POR_DEFECTO,
    ejecucion: EjecucionReatribucion | None = None,
) -> tuple[ResumenReatribucion, Cursor]:
    """Re-attribute the next chunk of up to `tamano` conversions after `cursor`.

    Returns the chunk's summary and the new cursor (None when nothing was left). In a real run
    (`ejecucion` given, not a dry run) the changes and the run's cursor are committed together.
    """
    parametros.validar()
    escribir = not parametros.dry_run
    resumen = ResumenReatribucion()
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
            return resumen, None
        eventos = [EventoAtribuible(*f) for f in filas]
        ultimo = (eventos[-1].ocurrido_en, eventos[-1].id)
        nuevo_cursor: Cursor = ultimo
        resumen.eventos = len(eventos)
        ctx = contexto_cargar(eventos=eventos, modelo=parametros.modelo)
        actuales = _creditos_actuales([e.id for e in eventos], bloquear=escribir)
        pagados = [c for por_socio in actuales.values() for c in por_socio.values() if c.pagado]
        ajustes_previos = _ajustes_previos(pagados) if pagados else {}

        ahora = timezone.now()
        # Rows as {attname: value}: written set-based by filas_insertar / filas_actualizar.
        crear: dict[type[Any], list[dict[str, Any]]] = defaultdict(list)
        actualizar: dict[type[Any], list[dict[str, Any]]] = defaultdict(list)
        revertir: dict[type[Any], list[uuid.UUID]] = defaultdict(list)
        ajustes: list[dict[str, Any]] = []
        cambios: list[dict[str, Any]] = []
        estados: list[tuple[uuid.UUID, str, uuid.UUID | None]] = []
        tocados: list[uuid.UUID] = []  # events whose credits, state or socio change
        filtro_socio = parametros.socio_id
        id_ejecucion = ejecucion.pk if ejecucion is not None else None

        def cambio(
            accion: str,
            ev: EventoAtribuible,
            socio_id: uuid.UUID,
            anterior: Decimal,
            nuevo: Decimal,
            moneda: str,
            detalle: dict[str, Any],
        ) -> None:
            resumen.anotar(accion, socio_id, nuevo - anterior, moneda)
            cambios.append(
                {
                    "ejecucion_id": id_ejecucion,
                    "evento_id": ev.id,
                    "socio_id": socio_id,
                    "accion": accion,
                    "monto_anterior": anterior,
                    "monto_nuevo": nuevo,
                    "moneda": moneda,
                    "detalle": detalle,
                }
            )

        for ev in eventos:
            resultado = calcular_atribucion(ev, contexto=ctx)
            nuevos = {c.socio_id: c for c in resultado.creditos}
            viejos = actuales.get(ev.id, {})
            cambios_antes = resumen.cambios
            for socio_id in list(dict.fromkeys([*viejos, *nuevos])):
                if filtro_socio and socio_id != filtro_socio:
                    continue
                viejo, nuevo = viejos.get(socio_id), nuevos.get(socio_id)
                if viejo is None and nuevo is not None:
                    fila = credito_campos(evento_id=ev.id, calculado=nuevo)
                    crear[nuevo.clase].append(fila)
                    cambio(
                        CambioAtribucion.Accion.CREADA,
                        ev,
                        socio_id,
                        Decimal("0.00"),
                        nuevo.monto,
                        nuevo.moneda,
                        {
                            "tipo_credito": _nombre_clase(nuevo.clase),
                            "credito_id": str(fila["id"]),
                            "credito_nuevo": str(nuevo.credito),
                            "motivo": MOTIVO_REATRIBUCION,
                        },
                    )
                elif viejo is not None and viejo.pagado:
                    objetivo = nuevo.monto if nuevo is not None else Decimal("0.00")
                    if nuevo is not None and nuevo.moneda != viejo.moneda:
                        objetivo = Decimal("0.00")  # no FX: stop paying in the old currency
                    ya = viejo.monto + ajustes_previos.get(viejo.id, Decimal("0"))
                    delta = objetivo - ya
                    if delta == 0:
                        continue
                    ajuste = {
                        "id": uuid.uuid4(),
                        "socio_id": socio_id,
                        "monto": delta,
                        "moneda": viejo.moneda,
                        "motivo": (
                            f"{MOTIVO_REATRIBUCION} of paid {_nombre_clase(viejo.modelo)} "
                            f"{viejo.id}: {ya} → {objetivo}"
                        )[:300],
                        "comision_id": viejo.id if viejo.modelo is Comision else None,
                        "recompensa_id": viejo.id if viejo.modelo is Recompensa else None,
                        "pago_id": None,
                    }
                    ajustes.append(ajuste)
                    ajustes_previos[viejo.id] = ajustes_previos.get(viejo.id, Decimal(0)) + delta
                    cambio(
                        CambioAtribucion.Accion.AJUSTE,
                        ev,
                        socio_id,
                        ya,
                        objetivo,
                        viejo.moneda,
                        {
                            "tipo_credito": _nombre_clase(viejo.modelo),
                            "credito_id": str(viejo.id),
                            "ajuste_id": str(ajuste["id"]),
                            "estado": viejo.estado,
                            "motivo": MOTIVO_REATRIBUCION,
                            "detalle_atribucion": nuevo.detalle if nuevo else None,
                        },
                    )
                elif viejo is not None and nuevo is None:
                    revertir[viejo.modelo].append(viejo.id)
                    cambio(
                        CambioAtribucion.Accion.REVERTIDA,
                        ev,
                        socio_id,
                        viejo.monto,
                        Decimal("0.00"),
                        viejo.moneda,
                        {
                            "tipo_credito": _nombre_clase(viejo.modelo),
                            "credito_id": str(viejo.id),
                            "estado_anterior": viejo.estado,
                            "credito_anterior": str(viejo.credito),
                            "motivo": MOTIVO_REATRIBUCION,
                        },
                    )
                elif viejo is not None and nuevo is not None and not viejo.igual_a(nuevo):
                    actualizar[viejo.modelo].append(
                        {
                            "id": viejo.id,
                            "credito": nuevo.credito,
                            "monto": nuevo.monto,
                            "moneda": nuevo.moneda,
                            "asociacion_id": nuevo.asociacion_id,
                            "regla_id": nuevo.regla_id,
                            "detalle_atribucion": nuevo.detalle,
                            "actualizado_en": ahora,
                        }
                    )
                    anterior_moneda = viejo.moneda if viejo.moneda == nuevo.moneda else ""
                    cambio(
                        CambioAtribucion.Accion.CAMBIADA,
                        ev,
                        socio_id,
                        viejo.monto,
                        nuevo.monto,
                        nuevo.moneda or anterior_moneda,
                        {
                            "tipo_credito": _nombre_clase(viejo.modelo),
                            "credito_id": str(viejo.id),
                            "estado": viejo.estado,
                            "credito_anterior": str(viejo.credito),
                            "credito_nuevo": str(nuevo.credito),
                            "moneda_anterior": viejo.moneda,
                            "motivo": MOTIVO_REATRIBUCION,
                            # The row now explains the new credit; keep what it said before.
                            "detalle_anterior": viejo.detalle_atribucion,
                        },
                    )
            if resumen.cambios != cambios_antes:
                resumen.eventos_con_cambios += 1
                tocados.append(ev.id)
            # The event's state follows whether anybody holds credit for it now.
            queda_credito = bool(resultado.socios) or any(v.pagado for v in viejos.values())
            nuevo_estado = (
                EstadoAtribucion.ATRIBUIDO if queda_credito else EstadoAtribucion.SIN_ATRIBUCION
            )
            # Evento.socio follows the same rule as live attribution: the one credited partner,
            # else null (a split, or nobody); a paid partner that lost the credit keeps it.
            nuevo_socio = resultado.socio_evento
            if not resultado.socios and queda_credito:
                nuevo_socio = ev.socio_id
            if not filtro_socio and (nuevo_estado, nuevo_socio) != (
                ev.estado_atribucion,
                ev.socio_id,
            ):
                estados.append((ev.id, nuevo_estado, nuevo_socio))
                if not tocados or tocados[-1] != ev.id:
                    tocados.append(ev.id)

        if escribir:
            _aplicar(crear, actualizar, revertir, ajustes, cambios, estados, ahora)
            if tocados:
                # The same domain event as live attribution (reports drop stale rollups).
                enviar_al_confirmar(
                    signals.eventos_atribuidos,
                    sender=reatribucion_procesar_lote,
                    evento_ids=tocados,
                )
            if ejecucion is not None:
                ejecucion.cursor_ocurrido_en, ejecucion.cursor_evento_id = ultimo
                ejecucion.eventos_procesados += resumen.eventos
                total = ResumenReatribucion.de_dict(ejecucion.resumen)
                total.sumar(resumen)
                ejecucion.resumen = total.como_dict()
                ejecucion.save(
                    update_fields=[
                        "cursor_ocurrido_en",
                        "cursor_evento_id",
                        "eventos_procesados",
                        "resumen",
                    ]
                )
    return resumen, nuevo_cursor


def _aplicar(
    crear: dict[type[Any], list[dict[str, Any]]],
    actualizar: dict[type[Any], list[dict[str, Any]]],
    revertir: dict[type[Any], list[uuid.UUID]],
    ajustes: list[dict[str, Any]],
    cambios: list[dict[str, Any]],
    estados: list[tuple[uuid.UUID, str, uuid.UUID | None]],
    ahora: dt.datetime,
) -> None:
    for modelo, filas in crear.items():
        sql.filas_insertar(modelo, filas, ignorar_conflictos=False)
    for modelo, filas in actualizar.items():
        sql.filas_actualizar(modelo, filas, CAMPOS_ACTUALIZABLES)
    revertidos: list[tuple[type[Any], uuid.UUID]] = []
    for modelo, ids in revertir.items():
        modelo.objects.filter(
            id__in=ids,
            estado__in=(EstadoCredito.PENDIENTE, EstadoCredito.APROBADA),
            pago__isnull=True,
        ).update(
            estado=EstadoCredito.REVERTIDA,
            motivo_reversion=MOTIVO_REATRIBUCION,
            revertido_en=ahora,
            actualizado_en=ahora,
        )
        revertidos.extend((modelo, i) for i in ids)
    sql.filas_insertar(Ajuste, ajustes, ignorar_conflictos=False)
    sql.filas_insertar(CambioAtribucion, cambios, ignorar_conflictos=False)
    almacen.eventos_marcar_atribucion(estados, ahora=ahora, solo_pendientes=False)
    for modelo, credito_id in revertidos:
        senal = signals.recompensa_revertida if modelo is Recompensa else signals.comision_revertida
        enviar_al_confirmar(senal, sender=modelo, credito_id=credito_id, motivo=MOTIVO_REATRIBUCION)


# --- A whole run -------------------------------------------------------------------------------
def reatribucion_ejecutar(
    *,
    parametros: ParametrosReatribucion | None = None,
    reanudar: EjecucionReatribucion | uuid.UUID | str | None = None,
    tamano: int = TAMANO_LOTE_POR_DEFECTO,
    usuario: Any = None,
    al_avanzar: Callable[[int], None] | None = None,
    max_lotes: int | None = None,
) -> tuple[EjecucionReatribucion | None, ResumenReatribucion]:
    """Run (or resume) a re-attribution chunk by chunk and return (run, summary).

    Pass `parametros` for a new run or `reanudar` (a run or its id) to continue an interrupted
    one from its cursor with its stored parameters. A dry run records nothing (the run is None)
    and its summary says what a real run would change. `al_avanzar(n)` is called after each
    chunk with the number of events processed (progress bar); `max_lotes` stops early (tests,
    or bounded slices of a huge range).
    """
    if reanudar is not None:
        ejecucion = (
            reanudar
            if isinstance(reanudar, EjecucionReatribucion)
            else EjecucionReatribucion.objects.get(pk=reanudar)
        )
        parametros = ParametrosReatribucion.de_dict(ejecucion.parametros)
        cursor: Cursor = (
            (ejecucion.cursor_ocurrido_en, ejecucion.cursor_evento_id)
            if ejecucion.cursor_ocurrido_en and ejecucion.cursor_evento_id
            else None
        )
        if ejecucion.terminada_en is not None:
            return ejecucion, ResumenReatribucion.de_dict(ejecucion.resumen)
    else:
        if parametros is None:
            raise ErrorDominio("parametros or reanudar is required.")
        parametros.validar()
        cursor = None
        ejecucion = None
        if not parametros.dry_run:
            ejecucion = EjecucionReatribucion.objects.create(
                parametros=parametros.como_dict(),
                dry_run=False,
                usuario=usuario if getattr(usuario, "pk", None) else None,
            )
    resumen = ResumenReatribucion()
    lotes = 0
    while max_lotes is None or lotes < max_lotes:
        parcial, cursor = reatribucion_procesar_lote(
            parametros=parametros, cursor=cursor, tamano=tamano, ejecucion=ejecucion
        )
        # With DEBUG on, Django keeps the last 9,000 statements with their parameters inlined
        # (megabytes per chunk here): forget them so memory stays bounded on a long run.
        reset_queries()
        if cursor is None:
            break
        resumen.sumar(parcial)
        lotes += 1
        if al_avanzar is not None:
            al_avanzar(parcial.eventos)
    else:
        return ejecucion, resumen  # stopped early: the run stays open for `reanudar`
    if ejecucion is not None:
        ejecucion.terminada_en = timezone.now()
        ejecucion.save(update_fields=["terminada_en"])
        resumen = ResumenReatribucion.de_dict(ejecucion.resumen)
    return ejecucion, resumen
