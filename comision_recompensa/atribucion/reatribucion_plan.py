"""Re-attribution's pure step: old credits versus new credits → a plan of writes.

No database here: `plan_evento` compares, for one event, the live credits stored
(`CreditoActual`) with the engine's new result (`ResultadoAtribucion`) and appends to a
`PlanReatribucion` the rows to insert, update and reverse, the adjustments, the audit entries,
the event's new state and partner, and the balance per partner. `reatribucion.py` loads the
inputs and applies the plan in one transaction. The rules (PRODUCT.md §5):

- unpaid credit (`pendiente`/`aprobada`, not claimed by a Pago) whose share, amount, rule or
  explanation changed → updated in place (accion `cambiada`; the audit keeps the old detail);
- unpaid credit whose partner no longer gets credit → reversed (accion `revertida`);
- partner newly credited → a new `pendiente` credit (accion `creada`);
- paid credit (`pagada`, or already claimed by a Pago) → never touched; an Ajuste for the
  difference between the new amount and what was already paid *plus earlier adjustments* goes
  to the partner's next Pago (accion `ajuste`).

The event's state and `Evento.socio` follow the new result with the live engine's rule: socio =
the one credited partner, null for a split or nobody (a paid partner that lost the credit keeps
it). A run limited to one partner changes only that partner's credits and leaves the event alone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from comision_recompensa.atribucion.contexto import EventoAtribuible
from comision_recompensa.atribucion.motor import (
    CreditoCalculado,
    ResultadoAtribucion,
    credito_campos,
)
from comision_recompensa.models import CambioAtribucion, Comision, EstadoCredito, Recompensa
from eventos_medios import almacen
from eventos_medios.models import EstadoAtribucion

MOTIVO_REATRIBUCION = "Re-attribution"
CERO = Decimal("0.00")


def _vacio_socio() -> dict[str, Any]:
    return {"creados": 0, "cambiados": 0, "revertidos": 0, "ajustes": 0, "delta": {}}


@dataclass
class BalanceReatribucion:
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

    def sumar(self, otro: BalanceReatribucion) -> None:
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
    def de_dict(cls, datos: dict[str, Any]) -> BalanceReatribucion:
        r = cls()
        for campo in ("eventos", "eventos_con_cambios", "creados", "cambiados", "revertidos"):
            setattr(r, campo, int(datos.get(campo, 0)))
        r.ajustes = int(datos.get("ajustes", 0))
        for socio, fila in (datos.get("por_socio") or {}).items():
            r.por_socio[socio] = {**_vacio_socio(), **fila, "delta": dict(fila.get("delta", {}))}
        return r


@dataclass(frozen=True)
class CreditoActual:
    """A live (not reversed) credit as stored."""

    modelo: type[Comision] | type[Recompensa]
    id: uuid.UUID
    evento_id: uuid.UUID
    socio_id: uuid.UUID
    participacion: Decimal
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
            self.participacion == nuevo.participacion
            and self.monto == nuevo.monto
            and self.moneda == nuevo.moneda
            and self.asociacion_id == nuevo.asociacion_id
            and self.regla_id == nuevo.regla_id
            and self.detalle_atribucion == nuevo.detalle
        )


def nombre_clase(modelo: type[Any]) -> str:
    return "recompensa" if modelo is Recompensa else "comision"


@dataclass
class PlanReatribucion:
    """The writes of one chunk, as rows {attname: value} for the set-based writers."""

    ahora: dt.datetime
    ejecucion_id: uuid.UUID | None
    crear: dict[type[Any], list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    actualizar: dict[type[Any], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    revertir: dict[type[Any], list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))
    ajustes: list[dict[str, Any]] = field(default_factory=list)
    cambios: list[dict[str, Any]] = field(default_factory=list)
    estados: list[almacen.FilaAtribucion] = field(default_factory=list)
    tocados: list[uuid.UUID] = field(default_factory=list)  # events whose credits/state change
    balance: BalanceReatribucion = field(default_factory=BalanceReatribucion)

    def cambio(
        self,
        accion: str,
        evento_id: uuid.UUID,
        socio_id: uuid.UUID,
        montos: tuple[Decimal, Decimal, str],
        detalle: dict[str, Any],
    ) -> None:
        """Record one audit entry (CambioAtribucion) and count it in the balance."""
        anterior, nuevo, moneda = montos
        self.balance.anotar(accion, socio_id, nuevo - anterior, moneda)
        self.cambios.append(
            {
                "ejecucion_id": self.ejecucion_id,
                "evento_id": evento_id,
                "socio_id": socio_id,
                "accion": accion,
                "monto_anterior": anterior,
                "monto_nuevo": nuevo,
                "moneda": moneda,
                "detalle": detalle,
            }
        )

    def tocar(self, evento_id: uuid.UUID) -> None:
        if not self.tocados or self.tocados[-1] != evento_id:
            self.tocados.append(evento_id)


def plan_evento(
    plan: PlanReatribucion,
    ev: EventoAtribuible,
    resultado: ResultadoAtribucion,
    viejos: dict[uuid.UUID, CreditoActual],
    *,
    ajustes_previos: dict[uuid.UUID, Decimal],
    solo_socio: uuid.UUID | None,
) -> None:
    """Add to `plan` what re-attributing `ev` changes (see the module docstring).
    `ajustes_previos` (adjustments already made per paid credit) is updated as it goes."""
    nuevos = {c.socio_id: c for c in resultado.creditos}
    cambios_antes = plan.balance.cambios
    for socio_id in dict.fromkeys([*viejos, *nuevos]):
        if solo_socio and socio_id != solo_socio:
            continue
        viejo, nuevo = viejos.get(socio_id), nuevos.get(socio_id)
        if viejo is None and nuevo is not None:
            _crear(plan, ev.id, nuevo)
        elif viejo is not None and viejo.pagado:
            _ajustar_pagado(plan, ev, viejo, nuevo, ajustes_previos)
        elif viejo is not None and nuevo is None:
            _revertir(plan, ev.id, viejo)
        elif viejo is not None and nuevo is not None and not viejo.igual_a(nuevo):
            _cambiar(plan, ev.id, viejo, nuevo)
    if plan.balance.cambios != cambios_antes:
        plan.balance.eventos_con_cambios += 1
        plan.tocar(ev.id)
    if not solo_socio:
        _estado_evento(plan, ev, resultado, viejos)


def _estado_evento(
    plan: PlanReatribucion,
    ev: EventoAtribuible,
    resultado: ResultadoAtribucion,
    viejos: dict[uuid.UUID, CreditoActual],
) -> None:
    """The event's state follows whether anybody holds credit for it now; its socio, the one
    credited partner (null for a split or nobody; a paid partner that lost it keeps it)."""
    queda_credito = bool(resultado.socios) or any(v.pagado for v in viejos.values())
    estado = EstadoAtribucion.ATRIBUIDO if queda_credito else EstadoAtribucion.SIN_ATRIBUCION
    socio = resultado.socio_evento
    if not resultado.socios and queda_credito:
        socio = ev.socio_id
    motivo = resultado.motivo if estado == EstadoAtribucion.SIN_ATRIBUCION else ""
    if (estado, socio, motivo) != (ev.estado_atribucion, ev.socio_id, ev.motivo_atribucion):
        plan.estados.append((ev.id, estado, socio, motivo))
        plan.tocar(ev.id)


def _crear(plan: PlanReatribucion, evento_id: uuid.UUID, nuevo: CreditoCalculado) -> None:
    fila = credito_campos(evento_id=evento_id, calculado=nuevo)
    plan.crear[nuevo.clase].append(fila)
    plan.cambio(
        CambioAtribucion.Accion.CREADA,
        evento_id,
        nuevo.socio_id,
        (CERO, nuevo.monto, nuevo.moneda),
        {
            "tipo_credito": nombre_clase(nuevo.clase),
            "credito_id": str(fila["id"]),
            "credito_nuevo": str(nuevo.participacion),
            "motivo": MOTIVO_REATRIBUCION,
        },
    )


def _ajustar_pagado(
    plan: PlanReatribucion,
    ev: EventoAtribuible,
    viejo: CreditoActual,
    nuevo: CreditoCalculado | None,
    ajustes_previos: dict[uuid.UUID, Decimal],
) -> None:
    """Paid money is never rewritten: the difference goes to the partner's next Pago."""
    objetivo = nuevo.monto if nuevo is not None else CERO
    if nuevo is not None and nuevo.moneda != viejo.moneda:
        objetivo = CERO  # no FX: stop paying in the old currency
    ya = viejo.monto + ajustes_previos.get(viejo.id, Decimal("0"))
    delta = objetivo - ya
    if delta == 0:
        return
    clase = nombre_clase(viejo.modelo)
    ajuste = {
        "id": uuid.uuid4(),
        "socio_id": viejo.socio_id,
        "marca_id": ev.marca_id,  # deducted from (or added to) that brand's next Pago
        "monto": delta,
        "moneda": viejo.moneda,
        "motivo": f"{MOTIVO_REATRIBUCION} of paid {clase} {viejo.id}: {ya} → {objetivo}"[:300],
        "comision_id": viejo.id if viejo.modelo is Comision else None,
        "recompensa_id": viejo.id if viejo.modelo is Recompensa else None,
        "pago_id": None,
    }
    plan.ajustes.append(ajuste)
    ajustes_previos[viejo.id] = ajustes_previos.get(viejo.id, Decimal(0)) + delta
    plan.cambio(
        CambioAtribucion.Accion.AJUSTE,
        ev.id,
        viejo.socio_id,
        (ya, objetivo, viejo.moneda),
        {
            "tipo_credito": clase,
            "credito_id": str(viejo.id),
            "ajuste_id": str(ajuste["id"]),
            "estado": viejo.estado,
            "motivo": MOTIVO_REATRIBUCION,
            "detalle_atribucion": nuevo.detalle if nuevo else None,
        },
    )


def _revertir(plan: PlanReatribucion, evento_id: uuid.UUID, viejo: CreditoActual) -> None:
    plan.revertir[viejo.modelo].append(viejo.id)
    plan.cambio(
        CambioAtribucion.Accion.REVERTIDA,
        evento_id,
        viejo.socio_id,
        (viejo.monto, CERO, viejo.moneda),
        {
            "tipo_credito": nombre_clase(viejo.modelo),
            "credito_id": str(viejo.id),
            "estado_anterior": viejo.estado,
            "credito_anterior": str(viejo.participacion),
            "motivo": MOTIVO_REATRIBUCION,
        },
    )


def _cambiar(
    plan: PlanReatribucion, evento_id: uuid.UUID, viejo: CreditoActual, nuevo: CreditoCalculado
) -> None:
    plan.actualizar[viejo.modelo].append(
        {
            "id": viejo.id,
            "participacion": nuevo.participacion,
            "monto": nuevo.monto,
            "moneda": nuevo.moneda,
            "asociacion_id": nuevo.asociacion_id,
            "regla_id": nuevo.regla_id,
            "detalle_atribucion": nuevo.detalle,
            "actualizado_en": plan.ahora,
        }
    )
    anterior_moneda = viejo.moneda if viejo.moneda == nuevo.moneda else ""
    plan.cambio(
        CambioAtribucion.Accion.CAMBIADA,
        evento_id,
        viejo.socio_id,
        (viejo.monto, nuevo.monto, nuevo.moneda or anterior_moneda),
        {
            "tipo_credito": nombre_clase(viejo.modelo),
            "credito_id": str(viejo.id),
            "estado": viejo.estado,
            "credito_anterior": str(viejo.participacion),
            "credito_nuevo": str(nuevo.participacion),
            "moneda_anterior": viejo.moneda,
            "motivo": MOTIVO_REATRIBUCION,
            # The row now explains the new credit; keep what it said before.
            "detalle_anterior": viejo.detalle_atribucion,
        },
    )
