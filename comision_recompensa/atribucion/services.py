"""Live attribution (PRODUCT.md §3): claim `pendiente` events, attribute, store, mark.

`eventos_atribuir(evento_ids=…)` / `eventos_pendientes_atribuir(lote=…)` claim `pendiente`
events (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never share an event: see
`eventos_medios.almacen`), compute their credits with the engine (`motor.calcular_atribucion`
over a batch context), insert the Comision/Recompensa rows set-based and mark the events
`atribuido` or `sin_atribucion` with their partner — all in one transaction. Doing it twice
creates nothing twice: only `pendiente` events are claimed, the state update is conditional,
and the database allows one live credit per (evento, socio). `eventos_atribuidos` is sent after
commit.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alpespartners import sql
from alpespartners.senales import enviar_al_confirmar
from comision_recompensa import signals
from comision_recompensa.atribucion.contexto import (
    CAMPOS_EVENTO,
    EventoAtribuible,
    contexto_cargar,
)
from comision_recompensa.atribucion.motor import calcular_atribucion, credito_campos
from comision_recompensa.models import Comision, Recompensa
from eventos_medios import almacen
from eventos_medios.models import EstadoAtribucion, TipoEvento


@dataclass
class ConteoAtribucion:
    """What one call attributed: counts of the events it claimed."""

    reclamados: int = 0
    atribuidos: int = 0
    sin_atribucion: int = 0
    comisiones: int = 0
    recompensas: int = 0
    evento_ids: list[uuid.UUID] = field(default_factory=list)

    def sumar(self, otro: ConteoAtribucion) -> None:
        self.reclamados += otro.reclamados
        self.atribuidos += otro.atribuidos
        self.sin_atribucion += otro.sin_atribucion
        self.comisiones += otro.comisiones
        self.recompensas += otro.recompensas
        self.evento_ids.extend(otro.evento_ids)


def _reclamar(*, evento_ids: Iterable[Any] | None, lote: int) -> list[EventoAtribuible]:
    """Claim up to `lote` pending events for this transaction (skip those another worker holds)."""
    filas = almacen.eventos_pendientes_reclamar(
        campos=CAMPOS_EVENTO, evento_ids=evento_ids, lote=lote
    )
    return [EventoAtribuible(*fila) for fila in filas]


def _bloquear_visitantes_con_lead(eventos: Sequence[EventoAtribuible]) -> None:
    """Serialise lead attribution per (marca, visitante_id) across workers (PostgreSQL).

    Two leads of one visitor claimed by two workers at once would each see no paid lead and
    both pay. A transaction-scoped advisory lock per (marca, visitante), taken in a fixed order
    before the "already paid?" query, makes the second worker wait for the first to commit and
    then see its lead.
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises writing transactions anyway
    claves = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(f"{e.marca_id}:{e.visitante_id}".encode(), digest_size=8).digest(),
                "big",
                signed=True,
            )
            for e in eventos
            if e.tipo == TipoEvento.LEAD and e.visitante_id and e.marca_id
        }
    )
    if claves:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k",
                [claves],
            )


def _atribuir_reclamados(filas: list[EventoAtribuible]) -> ConteoAtribucion:
    conteo = ConteoAtribucion(reclamados=len(filas))
    if not filas:
        return conteo
    eventos = sorted(filas, key=lambda e: (e.ocurrido_en, str(e.id)))
    _bloquear_visitantes_con_lead(eventos)
    ctx = contexto_cargar(eventos=eventos)
    comisiones: list[dict[str, Any]] = []
    recompensas: list[dict[str, Any]] = []
    marcas: list[almacen.FilaAtribucion] = []
    atribuidos = 0
    for ev in eventos:
        resultado = calcular_atribucion(ev, contexto=ctx)
        if resultado.socios:
            atribuidos += 1
            marcas.append((ev.id, EstadoAtribucion.ATRIBUIDO, resultado.socio_evento))
        else:
            marcas.append((ev.id, EstadoAtribucion.SIN_ATRIBUCION, None, resultado.motivo))
        for c in resultado.creditos:
            fila = credito_campos(evento_id=ev.id, calculado=c)
            (recompensas if c.es_recompensa else comisiones).append(fila)
    # Ignoring conflicts: the partial unique index (one live credit per evento+socio) is the
    # last line of defence; a conflict here means someone else already credited that pair.
    sql.filas_insertar(Comision, comisiones, ignorar_conflictos=True)
    sql.filas_insertar(Recompensa, recompensas, ignorar_conflictos=True)
    almacen.eventos_marcar_atribucion(marcas, ahora=timezone.now(), solo_pendientes=True)
    conteo.atribuidos = atribuidos
    conteo.sin_atribucion = len(eventos) - atribuidos
    conteo.comisiones = len(comisiones)
    conteo.recompensas = len(recompensas)
    conteo.evento_ids = [e.id for e in eventos]
    enviar_al_confirmar(
        signals.eventos_atribuidos, sender=eventos_atribuir, evento_ids=list(conteo.evento_ids)
    )
    return conteo


def eventos_atribuir(*, evento_ids: Sequence[Any], lote: int | None = None) -> ConteoAtribucion:
    """Attribute those of `evento_ids` that are still `pendiente`, in batches of `lote`.

    Events already attributed, or held by another worker right now, are skipped: calling this
    twice, or concurrently, credits each event once.
    """
    lote = lote or settings.ATRIBUCION_LOTE
    conteo = ConteoAtribucion()
    ids = list(dict.fromkeys(evento_ids))
    for inicio in range(0, len(ids), lote):
        with transaction.atomic():
            filas = _reclamar(evento_ids=ids[inicio : inicio + lote], lote=lote)
            conteo.sumar(_atribuir_reclamados(filas))
    return conteo


def eventos_pendientes_atribuir(*, lote: int | None = None) -> ConteoAtribucion:
    """Claim and attribute the oldest `lote` pending events (one transaction).

    `reclamados == lote` means more may be waiting.
    """
    lote = lote or settings.ATRIBUCION_LOTE
    with transaction.atomic():
        filas = _reclamar(evento_ids=None, lote=lote)
        return _atribuir_reclamados(filas)
