"""Run one command, report its wall time and peak memory as one JSON line.

`python -m bench.medir_rss --plazo 60 -- python manage.py reatribuir …`

Peak RSS is the kernel's high-water mark of the child (`VmHWM`, sampled while it runs) and its
`ru_maxrss` once it has exited — whichever is larger. Past `--plazo` seconds the child is
stopped and the line says `"agotado": true`.

With `--py-spy EXE --perfil PREFIX`, py-spy samples the child from one second after its start
(the interpreter must be up before py-spy can attach) until it exits: `PREFIX.svg` (flame
graph) and `PREFIX.txt` (raw collapsed stacks, summarised by `bench.perfil`).
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for linea in f:
                if linea.startswith("VmHWM:"):
                    return int(linea.split()[1])
    except OSError:
        pass
    return 0


def _perfilar(ejecutable: str, pid: int, prefijo: str, logs: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for formato, extension in (("flamegraph", "svg"), ("raw", "txt")):
        cmd = [ejecutable, "record", "--pid", str(pid), "--nonblocking", "--rate", "200"]
        cmd += ["--format", formato, "--output", f"{prefijo}.{extension}"]
        with open(logs / f"py-spy-{Path(prefijo).name}-{formato}.log", "wb") as log:
            procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log))
    return procs


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--plazo", type=float, default=3600.0)
    p.add_argument("--salida", default="", help="file for the child's output")
    p.add_argument("--py-spy", default="", help="py-spy executable (with --perfil)")
    p.add_argument("--perfil", default="", help="profile the child: PREFIX.svg and PREFIX.txt")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    destino = open(a.salida, "wb") if a.salida else subprocess.DEVNULL  # noqa: SIM115
    t0 = time.perf_counter()
    hijo = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=destino, stderr=destino)

    def parar(*_: object) -> None:
        hijo.kill()

    signal.signal(signal.SIGTERM, parar)
    pico_kb = 0
    agotado = False
    perfiladores: list[subprocess.Popen[bytes]] = []
    while hijo.poll() is None:
        if a.perfil and a.py_spy and not perfiladores and time.perf_counter() - t0 > 1:
            logs = Path(a.salida).parent if a.salida else Path(a.perfil).parent
            perfiladores = _perfilar(a.py_spy, hijo.pid, a.perfil, logs)
        pico_kb = max(pico_kb, _vm_hwm_kb(hijo.pid))
        if time.perf_counter() - t0 > a.plazo:
            agotado = True
            hijo.terminate()
            try:
                hijo.wait(timeout=10)
            except subprocess.TimeoutExpired:
                hijo.kill()
            break
        time.sleep(0.2)
    hijo.wait()
    segundos = time.perf_counter() - t0
    # Before py-spy is reaped: RUSAGE_CHILDREN covers every child waited for so far.
    pico_kb = max(pico_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    for proc in perfiladores:  # py-spy writes its file once the target has exited
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(
        json.dumps(
            {
                "rc": hijo.returncode,
                "segundos": round(segundos, 3),
                "pico_rss_mb": round(pico_kb / 1024, 1),
                "agotado": agotado,
            }
        ),
        flush=True,
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
