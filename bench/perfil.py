"""py-spy profiles for `--perfil`, and a summary of their top frames.

Each recording attaches two py-spy samplers to a process tree (`--subprocesses`: a gunicorn
master and its workers, a Celery worker and its prefork child) or to one process (the
`reatribuir` command): one writes the flame graph (`<name>.svg`), the other the raw collapsed
stacks (`<name>.txt`, one `frame;frame;…;frame count` line per distinct stack). The raw file is
then summarised into `<name>-top.txt`: the frames with the most samples as the innermost frame
(self time) and as any frame of the stack (total time), by function — what a performance note
can quote.

    python -m bench.perfil bench/results/profiles/B1-tracking.txt --top 30
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.procesos import RAIZ, lanzar, terminar

TASA_HZ = 200


def py_spy() -> str | None:
    """The py-spy executable (beside this Python or on PATH), if installed."""
    junto = Path(sys.executable).with_name("py-spy")
    return str(junto) if junto.exists() else shutil.which("py-spy")


def orden_py_spy(
    ejecutable: str, pid: int, salida: Path, formato: str, *, hijos: bool, segundos: float | None
) -> list[str]:
    """The `py-spy record` command line of one sampler (no `--duration`: until SIGINT or the
    target's exit)."""
    cmd = [ejecutable, "record", "--pid", str(pid), "--nonblocking", "--rate", str(TASA_HZ)]
    if hijos:
        cmd.append("--subprocesses")
    if segundos is not None:
        cmd += ["--duration", str(max(round(segundos), 1))]
    return [*cmd, "--format", formato, "--output", str(salida)]


@dataclass
class Grabacion:
    """Two py-spy samplers (flame graph and raw stacks) of one process tree."""

    nombre: str
    carpeta: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    segundos: float | None = None

    @property
    def svg(self) -> Path:
        return self.carpeta / f"{self.nombre}.svg"

    @property
    def crudo(self) -> Path:
        return self.carpeta / f"{self.nombre}.txt"

    @property
    def resumen(self) -> Path:
        return self.carpeta / f"{self.nombre}-top.txt"


def grabar(
    carpeta: Path | None,
    nombre: str,
    pid: int | None,
    *,
    env: Mapping[str, str],
    logs: Path,
    segundos: float | None = None,
    hijos: bool = True,
) -> Grabacion | None:
    """Start recording `pid` (and its children when `hijos`); None when profiling is off or
    py-spy is missing. With `segundos` the samplers stop by themselves."""
    ejecutable = py_spy()
    if carpeta is None or ejecutable is None or pid is None:
        return None
    carpeta.mkdir(parents=True, exist_ok=True)
    g = Grabacion(nombre=nombre, carpeta=carpeta, segundos=segundos)
    for formato, salida in (("flamegraph", g.svg), ("raw", g.crudo)):
        cmd = orden_py_spy(ejecutable, pid, salida, formato, hijos=hijos, segundos=segundos)
        g.procs.append(lanzar(cmd, env=env, log=logs / f"py-spy-{nombre}-{formato}.log"))
    return g


def terminar_grabacion(g: Grabacion | None) -> str | None:
    """Stop the samplers (SIGINT makes py-spy write its output), wait for the files and write
    the top-frames summary beside them. Returns the summary's path, if any."""
    if g is None:
        return None
    for proc in g.procs:
        if g.segundos is None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
    for proc in g.procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=(g.segundos or 0) + 30)
        terminar(proc)
    return escribir_resumen(g.crudo, g.resumen, titulo=g.nombre)


def escribir_resumen(crudo: Path, destino: Path, *, titulo: str, top: int = 25) -> str | None:
    """Summarise a raw py-spy file into `destino` (None when there is nothing to summarise)."""
    if not crudo.exists():
        return None
    texto = resumir(crudo.read_text(errors="replace"), titulo=titulo, top=top)
    destino.write_text(texto)
    return str(destino)


# --- Summary of raw collapsed stacks ---------------------------------------------------------

_PROCESO = re.compile(r'process \d+:"(?:[^"\\]|\\.)*"', re.S)
_LINEA = re.compile(r"^(.*) (\d+)$")
_MARCO = re.compile(r"^(?P<funcion>.*) \((?P<archivo>.*?)(?::\d+)?\)$")


def _archivo_corto(ruta: str) -> str:
    for marca in ("site-packages/", "dist-packages/"):
        if marca in ruta:
            return ruta.split(marca, 1)[1]
    raiz = str(RAIZ) + "/"
    if ruta.startswith(raiz):
        return ruta[len(raiz) :]
    if "/lib/python3" in ruta:  # the standard library
        return ruta.split("/lib/", 1)[1]
    return ruta


def marco(texto: str) -> str:
    """`function (file:line)` → `function (short/file.py)`: samples aggregate by function."""
    m = _MARCO.match(texto.strip())
    if not m:
        return texto.strip()
    return f"{m.group('funcion')} ({_archivo_corto(m.group('archivo'))})"


def pilas(texto: str) -> list[tuple[list[str], int]]:
    """(frames outermost first, samples) per line of a raw py-spy file; process and thread
    frames (`--subprocesses`, `--threads`) are dropped."""
    texto = _PROCESO.sub("process", texto)  # command lines may hold `;` and newlines
    resultado = []
    for linea in texto.splitlines():
        m = _LINEA.match(linea)
        if not m:
            continue
        marcos = [
            marco(x)
            for x in m.group(1).split(";")
            if x and x != "process" and not x.startswith("thread ")
        ]
        if marcos:
            resultado.append((marcos, int(m.group(2))))
    return resultado


def resumir(texto: str, *, titulo: str = "", top: int = 25) -> str:
    """Top frames by self time (innermost frame) and by total time (anywhere in the stack)."""
    datos = pilas(texto)
    total = sum(n for _, n in datos)
    if not total:
        return f"{titulo}: no samples (the process was idle or py-spy could not attach)\n"
    propio: Counter[str] = Counter()
    inclusivo: Counter[str] = Counter()
    for marcos, n in datos:
        propio[marcos[-1]] += n
        for m in set(marcos):
            inclusivo[m] += n
    lineas = [
        f"{titulo}: {total:,} samples at {TASA_HZ} Hz (idle excluded), by function",
        "",
        f"top {top} by self time:",
        f"{'self %':>7} {'total %':>8} {'samples':>8}  frame",
    ]
    for m, n in propio.most_common(top):
        lineas.append(f"{100 * n / total:7.1f} {100 * inclusivo[m] / total:8.1f} {n:8d}  {m}")
    lineas += ["", f"top {top} by total time:", f"{'total %':>8} {'self %':>7}  frame"]
    for m, n in inclusivo.most_common(top):
        lineas.append(f"{100 * n / total:8.1f} {100 * propio[m] / total:7.1f}  {m}")
    return "\n".join(lineas) + "\n"


def principales(texto: str, top: int = 10) -> list[list[object]]:
    """[[frame, self %], …] of the `top` frames by self time (for the JSON)."""
    datos = pilas(texto)
    total = sum(n for _, n in datos)
    propio: Counter[str] = Counter()
    for marcos, n in datos:
        propio[marcos[-1]] += n
    return [[m, round(100 * n / total, 1)] for m, n in propio.most_common(top)] if total else []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.perfil", description=__doc__)
    p.add_argument("crudo", type=Path, help="a raw py-spy file (`py-spy record --format raw`)")
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args(argv)
    print(resumir(a.crudo.read_text(errors="replace"), titulo=a.crudo.stem, top=a.top), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
