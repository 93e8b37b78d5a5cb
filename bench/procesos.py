"""Child processes of the benchmark (gunicorn, Celery worker, load generator, commands).

Every child starts in its own session (process group) and is registered here; `terminar_todos`
stops each group it started — on normal exit, on failure, on Ctrl-C and on SIGTERM — so a
benchmark never leaves a server or a worker behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

RAIZ = Path(__file__).resolve().parent.parent

_vivos: list[subprocess.Popen[bytes]] = []


def lanzar(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path | None = None,
    stdout: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start a registered child in its own process group (output to `log` when given)."""
    archivo: IO[bytes] | None = log.open("ab") if log is not None else None
    try:
        proc = subprocess.Popen(
            list(cmd),
            cwd=RAIZ,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=archivo if archivo is not None else stdout,
            stderr=subprocess.STDOUT if archivo is not None else None,
            start_new_session=True,
        )
    finally:
        if archivo is not None:
            archivo.close()
    _vivos.append(proc)
    return proc


def terminar(proc: subprocess.Popen[bytes], *, espera: float = 8.0) -> None:
    """Stop one child's process group: SIGTERM, then SIGKILL after `espera` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=espera)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    # Leftover grandchildren (a gunicorn worker whose master died) share the group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc in _vivos:
        _vivos.remove(proc)


def terminar_todos() -> None:
    """Stop every child still registered (idempotent)."""
    for proc in list(reversed(_vivos)):
        terminar(proc, espera=5.0)


def _al_recibir_senal(signum: int, frame: FrameType | None) -> None:
    terminar_todos()
    raise KeyboardInterrupt(f"signal {signum}")


def instalar_limpieza() -> None:
    """Make sure children die with us: atexit, SIGTERM and SIGHUP (Ctrl-C raises already)."""
    atexit.register(terminar_todos)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _al_recibir_senal)


def hijos(pid: int) -> list[int]:
    """The direct children of `pid` (scanning /proc; empty where /proc is not readable)."""
    encontrados = []
    for entrada in Path("/proc").iterdir():
        if not entrada.name.isdigit():
            continue
        try:
            stat = (entrada / "stat").read_text()
        except OSError:
            continue
        # `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after it.
        campos = stat.rsplit(")", 1)[-1].split()
        if len(campos) > 1 and campos[1] == str(pid):
            encontrados.append(int(entrada.name))
    return sorted(encontrados)


def estado_kb(pid: int, campo: str) -> int:
    """A `/proc/<pid>/status` memory field in kB (`VmHWM`: the RSS high-water mark)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for linea in f:
                if linea.startswith(campo + ":"):
                    return int(linea.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cpu_ticks(pid: int) -> int:
    """User + system CPU of `pid` so far, in clock ticks (0 when it is gone)."""
    try:
        campos = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
        return int(campos[11]) + int(campos[12])
    except (OSError, ValueError, IndexError):
        return 0


def puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def esperar_http(url: str, *, proc: subprocess.Popen[bytes], plazo: float = 60.0) -> None:
    """Poll `url` until it answers 200, the child dies, or the deadline passes."""
    limite = time.monotonic() + plazo
    ultimo = ""
    while time.monotonic() < limite:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            ultimo = f"HTTP {exc.code}"
        except OSError as exc:
            ultimo = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {plazo:.0f}s ({ultimo})")


def esperar_texto(log: Path, texto: str, *, proc: subprocess.Popen[bytes], plazo: float) -> None:
    """Poll a child's log until `texto` appears."""
    limite = time.monotonic() + plazo
    while time.monotonic() < limite:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with code {proc.returncode}: {cola(log)}")
        if log.exists() and texto in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"'{texto}' not seen in {log} after {plazo:.0f}s: {cola(log)}")


def cola(log: Path, lineas: int = 15) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lineas:])


@dataclass
class Gunicorn:
    """The app served the way production serves it."""

    env: Mapping[str, str]
    logs: Path
    clase: str = "sync"
    workers: int = 4
    hilos: int = 1
    puerto: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.puerto}"

    @property
    def descripcion(self) -> str:
        hilos = f" --threads {self.hilos}" if self.clase == "gthread" else ""
        return f"{self.clase} -w {self.workers}{hilos}"

    def iniciar(self) -> None:
        self.puerto = puerto_libre()
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "alpespartners.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.puerto}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.clase,
            "--backlog",
            "2048",
            "--timeout",
            "120",
            "--graceful-timeout",
            "3",
            "--log-level",
            "warning",
        ]
        if self.clase == "gthread":
            cmd += ["--threads", str(self.hilos)]
        log = self.logs / f"gunicorn-{self.puerto}.log"
        self.proc = lanzar(cmd, env=self.env, log=log)
        try:
            esperar_http(f"{self.base}/health", proc=self.proc, plazo=60)
        except RuntimeError as exc:
            raise RuntimeError(f"gunicorn did not start: {exc}\n{cola(log)}") from None

    def detener(self) -> None:
        if self.proc is not None:
            terminar(self.proc)
            self.proc = None

    def pids_workers(self) -> list[int]:
        return hijos(self.proc.pid) if self.proc is not None else []

    def esperar_reposo(self, *, plazo: float = 30.0) -> float:
        """Wait until no worker is busy (their CPU time stops growing over 0.3 s), so that
        requests still in flight when the load generator stopped — a batch of 1,000 events
        can take seconds — finish before the next slice starts. Returns the seconds waited."""
        t0 = time.monotonic()
        pids = self.pids_workers()
        antes = sum(cpu_ticks(p) for p in pids)
        while time.monotonic() - t0 < plazo:
            time.sleep(0.3)
            ahora = sum(cpu_ticks(p) for p in pids)
            if ahora - antes <= 2:  # ≤ 20 ms of CPU over every worker: idle
                break
            antes = ahora
        return time.monotonic() - t0


@dataclass
class WorkerCelery:
    """A real Celery worker on the `atribucion` queue (or `colas`), one process (`-c 1`)."""

    env: Mapping[str, str]
    logs: Path
    colas: str = "atribucion"
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def iniciar(self) -> None:
        log = self.logs / f"celery-{int(time.time() * 1000)}.log"
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "alpespartners",
            "worker",
            "-Q",
            self.colas,
            "-c",
            "1",
            "-n",
            f"bench-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ]
        self.proc = lanzar(cmd, env=self.env, log=log)
        esperar_texto(log, " ready.", proc=self.proc, plazo=60)

    def detener(self) -> None:
        if self.proc is not None:
            terminar(self.proc, espera=10.0)
            self.proc = None
