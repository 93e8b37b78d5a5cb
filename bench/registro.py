"""The figures of `make bench`, in the order they run.

Adding a figure is one function — `(Contexto) -> Figura` or `-> {json key: Figura}`, in a module
of its own — plus one `Entrada` below. The function gets the running server, the fixtures, the
sizes of the run and the profile folder through the `Contexto`; when what it measures does not
exist yet (a 404, a missing command or model) it returns its figures as `n/a` with the reason.
A figure that raises becomes `n/a` with the exception, and the others still run. Functions are
named as `module:function` strings and imported when they run, after Django is set up.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.informe import Figura

if TYPE_CHECKING:
    from bench.figuras import Contexto


@dataclass(frozen=True)
class Entrada:
    clave: str  # what `--solo` names
    claves: tuple[str, ...]  # the keys it writes in `latest.json` (baselines first)
    titulo: str  # the progress line
    funcion: str  # "module:function"
    tras: frozenset[str] = frozenset()  # runs when any of these ran (instead of by `--solo`)

    def elegida(self, solo: set[str]) -> bool:
        return bool(self.tras & solo) if self.tras else self.clave in solo


FIGURAS: tuple[Entrada, ...] = (
    Entrada(
        "B1",
        ("B0", "B1"),
        "B1 GET /t/<codigo>, interleaved with the bare view (B0)",
        "bench.intercalado:b1_tracking",
    ),
    Entrada(
        "B2",
        ("B0_orm_insert", "B2"),
        "B2 POST /api/v1/eventos/, interleaved with the ORM-insert view (B0)",
        "bench.intercalado:b2_evento",
    ),
    Entrada(
        "B3",
        ("B0_copy", "B3"),
        "B3 batches of 1,000, interleaved with COPY (B0)",
        "bench.intercalado:b3_lote",
    ),
    Entrada(
        "RSS",
        ("gunicorn_rss",),
        "peak RSS of the gunicorn workers after B1–B3",
        "bench.figuras:rss_gunicorn",
        tras=frozenset({"B1", "B2", "B3"}),
    ),
    Entrada(
        "B4", ("B4", "B4_lag"), "B4 attribution (real Celery worker, -c 1)", "bench.figuras:b4"
    ),
    Entrada("B5", ("B5",), "B5 reatribuir", "bench.figuras:b5_reatribuir"),
    Entrada("B6", ("B6",), "B6 partner summary", "bench.figuras:b6_informe"),
    Entrada("B7", ("B7",), "B7 webhook deliveries", "bench.webhooks:b7_webhooks"),
)

# `--solo` accepts every entry's name; B0 names the baselines, which run with B1–B3.
SELECCIONABLES: tuple[str, ...] = ("B0", *(e.clave for e in FIGURAS if not e.tras))


def claves() -> list[str]:
    """Every figure key of `latest.json`, in order."""
    return [k for e in FIGURAS for k in e.claves]


def _clave(k: str, e: Entrada) -> str:
    return k.split("_")[0] if k.startswith("B") else e.clave


def _funcion(ruta: str) -> Callable[..., Any]:
    modulo, nombre = ruta.split(":")
    return getattr(importlib.import_module(modulo), nombre)  # type: ignore[no-any-return]


def medir(e: Entrada, ctx: Contexto) -> dict[str, Figura]:
    """Run one entry; every key it declares comes back, measured or `n/a` with the reason."""
    try:
        resultado = _funcion(e.funcion)(ctx)
    except Exception as exc:  # noqa: BLE001 - one broken figure must not lose the others
        traceback.print_exc()
        motivo = f"measurement failed: {type(exc).__name__}: {exc}"
        return no_ejecutada(e, motivo)
    if isinstance(resultado, Figura):
        resultado = {e.claves[0]: resultado}
    for k in e.claves:
        if k not in resultado:
            resultado[k] = Figura(_clave(k, e), e.titulo, "").no_disponible(
                f"{e.funcion} did not report {k}"
            )
    return dict(resultado)


def no_ejecutada(e: Entrada, motivo: str) -> dict[str, Figura]:
    return {k: Figura(_clave(k, e), e.titulo, "").no_disponible(motivo) for k in e.claves}
