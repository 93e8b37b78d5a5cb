"""Run one command, report its wall time and peak memory as one JSON line.

`python -m bench.medir_rss --plazo 60 -- python manage.py reatribuir …`

Peak RSS is the kernel's high-water mark of the child (`VmHWM`, sampled while it runs) and its
`ru_maxrss` once it has exited — whichever is larger. Past `--plazo` seconds the child is
stopped and the line says `"agotado": true`.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import subprocess
import sys
import time


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for linea in f:
                if linea.startswith("VmHWM:"):
                    return int(linea.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--plazo", type=float, default=3600.0)
    p.add_argument("--salida", default="", help="file for the child's output")
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
    while hijo.poll() is None:
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
    pico_kb = max(pico_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
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
