"""Do two runs agree? Compare the ratios of two `latest.json` files.

    python -m bench.comparar run1.json run2.json [--tolerancia 0.15]

For every figure with a ratio in both runs (the interleaved median ratios of B1–B3, B6's ratio
to raw SQL) and for the in-process CPU ratios, prints both values and their relative difference
|a − b| / mean(a, b), and whether it is within the tolerance (15 % by default: the agreement
asked of two runs before their figures are quoted). The load average at the start and end of
each run is printed beside them. Exit code 0 when every figure ratio agrees, 1 otherwise (the
p99 and CPU ratios are shown, not counted).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _ratios(datos: dict[str, Any]) -> dict[str, float]:
    ratios: dict[str, float] = {}
    for clave, figura in datos.items():
        if isinstance(figura, dict) and isinstance(figura.get("ratio"), (int, float)):
            ratios[clave] = float(figura["ratio"])
            if isinstance(figura.get("p99_ratio"), (int, float)):
                ratios[f"{clave} p99"] = float(figura["p99_ratio"])
    cpu = datos.get("cpu_per_request") or {}
    for clave, valor in (cpu.get("cpu_ratios") or {}).items():
        if isinstance(valor, (int, float)):
            ratios[f"{clave} CPU"] = float(valor)
    return ratios


def comparar(a: dict[str, Any], b: dict[str, Any], *, tolerancia: float) -> list[dict[str, Any]]:
    """One row per ratio present in both runs."""
    ra, rb = _ratios(a), _ratios(b)
    filas = []
    for clave in ra:
        if clave not in rb:
            continue
        media = (ra[clave] + rb[clave]) / 2
        diferencia = abs(ra[clave] - rb[clave]) / media if media else 0.0
        filas.append(
            {
                "ratio": clave,
                "a": ra[clave],
                "b": rb[clave],
                "difference": diferencia,
                "agrees": diferencia <= tolerancia,
                "counted": not clave.endswith((" p99", " CPU")),
            }
        )
    return filas


def _gunicorn(datos: dict[str, Any]) -> str:
    g = datos.get("machine", {}).get("gunicorn", {})
    return f"{g.get('worker_class')} -w {g.get('workers')} --threads {g.get('threads')}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.comparar", description=__doc__)
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--tolerancia", type=float, default=0.15)
    args = p.parse_args(argv)
    a, b = json.loads(args.a.read_text()), json.loads(args.b.read_text())
    filas = comparar(a, b, tolerancia=args.tolerancia)
    for nombre, datos in (("a", a), ("b", b)):
        m = datos.get("machine", {})
        print(
            f"{nombre}: {datos.get('mode', '?')} run of {m.get('commit', '?')}, load average "
            f"{m.get('loadavg_start')} → {m.get('loadavg_end')}"
        )
    ga, gb = (_gunicorn(d) for d in (a, b))
    if ga != gb:
        print(f"note: gunicorn differs ({ga} vs {gb}): the ratios need not agree")
    print(f"\n{'ratio':<12} {'a':>7} {'b':>7} {'diff':>6}  agrees (≤ {args.tolerancia:.0%})")
    for f in filas:
        print(
            f"{f['ratio']:<12} {f['a']:7.3f} {f['b']:7.3f} {f['difference']:6.1%}  "
            f"{'yes' if f['agrees'] else 'NO'}{'' if f['counted'] else ' (not counted)'}"
        )
    if not filas:
        print("(no ratio present in both runs)")
    contadas = [f for f in filas if f["counted"]]
    return 0 if contadas and all(f["agrees"] for f in contadas) else 1


if __name__ == "__main__":
    sys.exit(main())
