"""One figure of the benchmark, the printed table and `latest.json`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figura:
    """A measured figure beside its baseline. `na` holds the reason when it was not measured."""

    clave: str
    nombre: str
    unidad: str
    valor: float | None = None
    base: float | None = None
    base_nombre: str = ""
    objetivo: float | None = None
    objetivo_texto: str = ""
    cumple: bool | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    na: str | None = None
    notas: list[str] = field(default_factory=list)
    detalle: dict[str, Any] = field(default_factory=dict)
    # Interleaved figures (B0–B3): the median of the per-slice ratios and their spread, the
    # p99 ratio in the same slices, the baseline's own latencies, and every slice's figures.
    ratio_rebanadas: float | None = None
    ratio_min: float | None = None
    ratio_max: float | None = None
    p99_ratio: float | None = None
    base_p50_ms: float | None = None
    base_p99_ms: float | None = None
    rebanadas: list[dict[str, Any]] | None = None
    # In-process CPU per request (`bench.cpu_por_peticion`) and the ratio it predicts.
    cpu_ms: float | None = None
    cpu_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.ratio_rebanadas is not None:
            return self.ratio_rebanadas
        if self.valor is None or not self.base:
            return None
        return self.valor / self.base

    @property
    def dispersion(self) -> float | None:
        """Relative spread of the slice ratios: (max − min) / median."""
        if self.ratio_rebanadas is None or self.ratio_min is None or self.ratio_max is None:
            return None
        return (self.ratio_max - self.ratio_min) / self.ratio_rebanadas

    def no_disponible(self, motivo: str) -> Figura:
        self.na = motivo
        self.valor = None
        self.cumple = None
        return self

    def a_json(self) -> dict[str, Any]:
        datos: dict[str, Any] = {
            "name": self.nombre,
            "value": _redondear(self.valor),
            "unit": self.unidad,
            "baseline": _redondear(self.base),
            "baseline_name": self.base_nombre,
            "ratio": _redondear(self.ratio, 3),
            "target": self.objetivo,
            "target_text": self.objetivo_texto,
            "met": self.cumple,
        }
        if self.p50_ms is not None or self.p99_ms is not None:
            datos["p50_ms"] = _redondear(self.p50_ms, 2)
            datos["p99_ms"] = _redondear(self.p99_ms, 2)
        if self.rebanadas is not None:
            datos.update(
                {
                    "ratio_min": _redondear(self.ratio_min, 3),
                    "ratio_max": _redondear(self.ratio_max, 3),
                    "ratio_spread": _redondear(self.dispersion, 3),
                    "p99_ratio": _redondear(self.p99_ratio, 3),
                    "baseline_p50_ms": _redondear(self.base_p50_ms, 2),
                    "baseline_p99_ms": _redondear(self.base_p99_ms, 2),
                    "slices": self.rebanadas,
                }
            )
        if self.cpu_ms is not None:
            datos["cpu_ms_per_request"] = _redondear(self.cpu_ms, 3)
        if self.cpu_ratio is not None:
            datos["cpu_ratio"] = _redondear(self.cpu_ratio, 3)
        if self.na is not None:
            datos["value"] = "n/a"
            datos["na"] = self.na
        if self.notas:
            datos["notes"] = self.notas
        if self.detalle:
            datos["details"] = self.detalle
        return datos


def _redondear(x: float | None, cifras: int = 1) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return round(float(x), cifras)


def _fmt(x: float | None, cifras: int = 0) -> str:
    if x is None:
        return "—"
    return f"{x:,.{cifras}f}"


def _rebanadas(f: Figura) -> str:
    if f.ratio_min is None or f.ratio_max is None:
        return ""
    dispersion = f" ({100 * f.dispersion:.0f} %)" if f.dispersion is not None else ""
    return f"{f.ratio_min:.2f}–{f.ratio_max:.2f}{dispersion}"


def tabla(figuras: list[Figura]) -> str:
    """The printed table: figure, value, unit, latencies, baseline, the median slice ratio with
    the min–max of the slice ratios and their relative spread, the p99 ratio of the same
    slices, the in-process CPU ratio, target, met."""
    filas = [
        (
            "figure",
            "value",
            "unit",
            "p50/p99 ms",
            "baseline",
            "ratio",
            "slices min–max (spread)",
            "p99 ratio",
            "CPU ratio (ms/req)",
            "target",
            "met",
        )
    ]
    for f in figuras:
        lat = ""
        if f.p50_ms is not None or f.p99_ms is not None:
            lat = f"{_fmt(f.p50_ms, 1)}/{_fmt(f.p99_ms, 1)}"
        if f.na is not None:
            valor, cumple = "n/a", "n/a"
        else:
            valor = _fmt(f.valor, 0 if (f.valor or 0) >= 100 else 1)
            cumple = "—" if f.cumple is None else ("yes" if f.cumple else "NO")
        base = ""
        if f.base is not None:
            base = f"{_fmt(f.base, 0 if f.base >= 100 else 1)} ({f.base_nombre})"
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else ""
        p99 = f"{f.p99_ratio:.2f}×" if f.p99_ratio is not None else ""
        cpu = f"{f.cpu_ratio:.2f}× " if f.cpu_ratio is not None else ""
        if f.cpu_ms is not None:
            cpu += f"({f.cpu_ms:.2f} ms)"
        filas.append(
            (
                f"{f.clave} {f.nombre}",
                valor,
                f.unidad,
                lat,
                base,
                ratio,
                _rebanadas(f),
                p99,
                cpu,
                f.objetivo_texto,
                cumple,
            )
        )
    anchos = [max(len(fila[i]) for fila in filas) for i in range(len(filas[0]))]
    lineas = []
    for n, fila in enumerate(filas):
        lineas.append("  ".join(c.ljust(anchos[i]) for i, c in enumerate(fila)).rstrip())
        if n == 0:
            lineas.append("  ".join("-" * a for a in anchos))
    notas = [f"  {f.clave}: {f.na}" for f in figuras if f.na is not None]
    notas += [f"  {f.clave}: {nota}" for f in figuras for nota in f.notas]
    if notas:
        lineas += ["", "notes:", *notas]
    return "\n".join(lineas)


def escribir_json(
    ruta: Path, *, claves: dict[str, Figura], maquina: dict[str, Any], extra: dict[str, Any]
) -> None:
    datos: dict[str, Any] = {clave: f.a_json() for clave, f in claves.items()}
    datos["machine"] = maquina
    datos.update(extra)
    ruta.parent.mkdir(parents=True, exist_ok=True)
    tmp = ruta.with_suffix(".tmp")
    tmp.write_text(json.dumps(datos, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(ruta)
