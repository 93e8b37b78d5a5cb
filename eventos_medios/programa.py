"""Programme rules tracking enforces but cannot compute: who is in a brand's programme.

A brand's programme is made of its agreements (`AsociacionEstrategica`), which belong to the
money app; tracking never imports it. The money app registers its rules here at start-up
(`comision_recompensa.asociaciones.programa.registrar`, from `AppConfig.ready()`), as it
registers the access rules with `alpespartners.alcance`.

- `socios_por_codigo`: which referral codes belong to a partner with an agreement with which
  brand (PRODUCT.md §8, "Referral codes"). Ingestion asks once per request or batch, so a code
  that does not exist and a code of a partner outside the programme cost the same one query
  and get the same answer. With no rule registered, no code is in any programme (fail closed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

__all__ = ["ReglaCodigos", "registrar_codigos_referido", "socios_por_codigo"]

ReglaCodigos = Callable[
    [frozenset[str], frozenset[uuid.UUID]], Iterable[tuple[str, uuid.UUID, uuid.UUID]]
]
"""(codigos, marca_ids) → (codigo_referido, marca_id, socio_id) for each code among `codigos`
whose partner is in the programme of a marca among `marca_ids`. One set-based query."""

_reglas: list[ReglaCodigos] = []


def registrar_codigos_referido(regla: ReglaCodigos) -> None:
    """Register the rule that says which codes are in which programmes (idempotent)."""
    if regla not in _reglas:
        _reglas.append(regla)


def socios_por_codigo(
    *, codigos: Iterable[str], marca_ids: Iterable[uuid.UUID]
) -> dict[tuple[str, uuid.UUID], uuid.UUID]:
    """(codigo_referido, marca_id) → socio_id, for the codes in each marca's programme. A code
    that is unknown and one outside the programme are both simply absent."""
    codigos_f, marcas_f = frozenset(codigos), frozenset(marca_ids)
    resultado: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
    if not codigos_f or not marcas_f:
        return resultado
    for regla in _reglas:
        for codigo, marca_id, socio_id in regla(codigos_f, marcas_f):
            resultado.setdefault((codigo, marca_id), socio_id)
    return resultado
