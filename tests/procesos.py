"""Real processes for integration and fault tests: the web server, a Celery worker, a Redis.

Fixtures (import them in a conftest.py: ``from tests.procesos import *``):

- ``servidor_vivo``: the app served by gunicorn (``alpespartners.wsgi``, 2 sync workers) on a
  free port, against the test database pytest-django created (``transactional_db``, so what the
  test writes is committed and visible to the server, and what the server writes is visible to
  the test). Attributes: ``.url`` (``http://127.0.0.1:<port>``), ``.parar()``, ``.arrancar()``,
  ``.matar()``, ``.log()``.
- ``worker_celery``: ``celery -A alpespartners worker -Q atribucion,pagos,webhooks,celery -c 1
  --pool=prefork``. Attributes: ``.nombre`` (node name), ``.ping()``, ``.enviar(tarea, args,
  kwargs, cola)`` (publish a task by name through the same broker/namespace), ``.matar()``
  (SIGKILL to the whole process group), ``.parar()`` (warm shutdown), ``.arrancar()``,
  ``.esperar_en_log(texto)``, ``.log()``.
- ``redis_desechable``: a throwaway ``redis-server`` on a free port. ``.url``, ``.puerto``,
  ``.parar()``, ``.matar()``, ``.arrancar()`` (same port), ``.vivo``. When a test also asks for
  it, ``servidor_vivo`` and ``worker_celery`` use this Redis instead of ``REDIS_URL``.
- ``entorno_procesos``: what the two fixtures above are built on; ``.servidor(...)`` and
  ``.worker(...)`` start more processes (extra environment variables, other queues), all
  stopped at teardown.
- ``esperar(condicion, timeout=..., intervalo=...)``: poll until ``condicion()`` is truthy.

Every process gets ``CELERY_TASK_ALWAYS_EAGER=false``, ``DEBUG=true``, rate limits off and a
per-test ``REDIS_PREFIJO``, so concurrent test runs sharing one Redis never steal each other's
tasks. Each process writes to its own log file; the paths are printed and, when a test fails,
the tail of each log is attached to the report. Without PostgreSQL and Redis (the embedded
SQLite default) or without the binaries, the fixtures skip with the reason.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest

__all__ = [
    "EntornoProcesos",
    "Proceso",
    "RedisDesechable",
    "ServidorVivo",
    "WorkerCelery",
    "entorno_procesos",
    "esperar",
    "puerto_libre",
    "pytest_runtest_makereport",
    "redis_desechable",
    "servidor_vivo",
    "worker_celery",
]

RAIZ = Path(__file__).resolve().parent.parent
COLAS_POR_DEFECTO = "atribucion,pagos,webhooks,celery"
ARRANQUE_TIMEOUT = float(os.environ.get("PROCESOS_ARRANQUE_TIMEOUT", "60"))
LINEAS_DE_LOG_EN_FALLO = 60

CLAVE_LOGS = pytest.StashKey[list[Path]]()

T = TypeVar("T")


# --- Polling ---------------------------------------------------------------------------------
def esperar(
    condicion: Callable[[], T],
    timeout: float = 15.0,
    intervalo: float = 0.05,
    mensaje: str | None = None,
    ignorar: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``condicion`` every ``intervalo`` seconds until it returns something truthy.

    Returns that value. Raises ``TimeoutError`` once ``timeout`` seconds have passed. Exceptions
    listed in ``ignorar`` count as "not yet" (the last one is quoted in the timeout message).
    """
    limite = time.monotonic() + timeout
    ultimo_error: BaseException | None = None
    while True:
        try:
            valor = condicion()
        except ignorar as exc:
            ultimo_error = exc
        else:
            if valor:
                return valor
        if time.monotonic() >= limite:
            detalle = mensaje or getattr(condicion, "__name__", repr(condicion))
            extra = f" (last error: {ultimo_error!r})" if ultimo_error else ""
            raise TimeoutError(f"condition not met within {timeout:.1f}s: {detalle}{extra}")
        time.sleep(intervalo)


def puerto_libre() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cola_de_log(ruta: Path, lineas: int = LINEAS_DE_LOG_EN_FALLO) -> str:
    try:
        texto = ruta.read_text(errors="replace")
    except OSError as exc:
        return f"<unreadable: {exc}>"
    return "\n".join(texto.splitlines()[-lineas:])


# --- A subprocess with a log file ------------------------------------------------------------
class Proceso:
    """A subprocess in its own process group, with stdout/stderr appended to a log file."""

    nombre_log = "proceso"

    def __init__(self, argv: list[str], entorno: dict[str, str], log: Path) -> None:
        self.argv = argv
        self.entorno = entorno
        self.ruta_log = log
        self.popen: subprocess.Popen[bytes] | None = None

    # lifecycle
    def _lanzar(self) -> None:
        with open(self.ruta_log, "ab") as salida:
            salida.write(f"\n=== start: {' '.join(self.argv)}\n".encode())
            salida.flush()
            self.popen = subprocess.Popen(
                self.argv,
                cwd=RAIZ,
                env=self.entorno,
                stdin=subprocess.DEVNULL,
                stdout=salida,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def arrancar(self) -> None:
        """Start (or restart) the process and wait until it is ready."""
        if self.vivo:
            return
        self._lanzar()
        self._esperar_listo()

    def _esperar_listo(self) -> None:  # pragma: no cover - overridden
        pass

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def vivo(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _senal_al_grupo(self, senal: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, senal)

    def matar(self) -> None:
        """SIGKILL the process and all its children (a crash, a container killed)."""
        if self.popen is None:
            return
        self._senal_al_grupo(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def parar(self, timeout: float = 15.0, senal: int = signal.SIGTERM) -> None:
        """Graceful stop (``senal`` to the main process); SIGKILL the group after ``timeout``."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(senal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        # Whatever is left of the group (orphaned children) goes too.
        self._senal_al_grupo(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def log(self) -> str:
        """The whole log so far."""
        try:
            return self.ruta_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def esperar_en_log(self, texto: str, timeout: float = 30.0) -> str:
        """Wait until ``texto`` appears in the log; returns the log."""

        def aparece() -> str | None:
            contenido = self.log()
            if texto in contenido:
                return contenido
            self._fallar_si_murio(f"waiting for {texto!r} in the log")
            return None

        return esperar(aparece, timeout=timeout, mensaje=f"{texto!r} in {self.ruta_log}")

    def _fallar_si_murio(self, contexto: str) -> None:
        if self.popen is not None and self.popen.poll() is not None:
            raise RuntimeError(
                f"{self.nombre_log} exited with code {self.popen.returncode} while {contexto}; "
                f"log {self.ruta_log}:\n{_cola_de_log(self.ruta_log)}"
            )


class ServidorVivo(Proceso):
    """gunicorn serving ``alpespartners.wsgi``; ``.url`` is its base URL."""

    nombre_log = "gunicorn"

    def __init__(self, entorno: dict[str, str], log: Path, workers: int = 2) -> None:
        self.workers = workers
        self.puerto = puerto_libre()
        super().__init__(self._argv(), entorno, log)

    def _argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "alpespartners.wsgi",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.puerto}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.puerto}"

    def arrancar(self) -> None:
        # The free port may be taken between choosing and binding: retry on a new one.
        for intento in range(3):
            if self.vivo:
                return
            self._lanzar()
            try:
                self._esperar_listo()
                return
            except RuntimeError:
                if intento == 2 or "Address already in use" not in self.log():
                    raise
                self.puerto = puerto_libre()
                self.argv = self._argv()

    def _esperar_listo(self) -> None:
        def responde() -> bool:
            self._fallar_si_murio("waiting for /health")
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                return bool(resp.status == 200)

        esperar(
            responde,
            timeout=ARRANQUE_TIMEOUT,
            intervalo=0.1,
            mensaje=f"{self.url}/health answers 200 (log {self.ruta_log})",
            ignorar=(OSError,),
        )


class WorkerCelery(Proceso):
    """A real Celery worker (prefork) consuming the app's queues."""

    nombre_log = "celery worker"

    def __init__(
        self,
        entorno: dict[str, str],
        log: Path,
        colas: str = COLAS_POR_DEFECTO,
        concurrencia: int = 1,
    ) -> None:
        self.colas = colas
        self.nombre = f"pruebas-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "alpespartners",
            "worker",
            "-Q",
            colas,
            "-c",
            str(concurrencia),
            "--pool=prefork",
            "-n",
            self.nombre,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        super().__init__(argv, entorno, log)
        self._app: Any = None

    @property
    def app(self) -> Any:
        """A Celery client bound to the same broker and key namespace as the worker."""
        if self._app is None:
            from celery import Celery

            self._app = Celery("pruebas", broker=self.entorno["REDIS_URL"], set_as_current=False)
            self._app.conf.broker_transport_options = {
                "global_keyprefix": self.entorno.get("REDIS_PREFIJO", ""),
                "socket_connect_timeout": 1,
                "socket_timeout": 2,
                "max_retries": 1,
            }
            self._app.conf.broker_connection_retry_on_startup = False
        return self._app

    def ping(self, timeout: float = 1.0) -> bool:
        """True when this worker answers a control ping."""
        respuestas = self.app.control.ping(destination=[self.nombre], timeout=timeout)
        return any(self.nombre in r for r in respuestas or [])

    def enviar(
        self,
        tarea: str,
        args: tuple[Any, ...] | list[Any] = (),
        kwargs: dict[str, Any] | None = None,
        cola: str = "celery",
    ) -> str:
        """Publish task ``tarea`` (by name) to ``cola``; returns the task id."""
        resultado = self.app.send_task(tarea, args=list(args), kwargs=kwargs or {}, queue=cola)
        return str(resultado.id)

    def esperar_tarea(self, tarea_id: str, timeout: float = 30.0) -> str:
        """Wait until the worker logs that task ``tarea_id`` finished (succeeded or raised)."""

        def termino() -> str | None:
            for linea in self.log().splitlines():
                if f"[{tarea_id}]" in linea and (" succeeded in " in linea or " raised " in linea):
                    return linea
            self._fallar_si_murio(f"waiting for task {tarea_id}")
            return None

        return esperar(termino, timeout=timeout, mensaje=f"task {tarea_id} finished")

    def _esperar_listo(self) -> None:
        self.esperar_en_log(" ready.", timeout=ARRANQUE_TIMEOUT)
        esperar(
            self.ping,
            timeout=ARRANQUE_TIMEOUT,
            intervalo=0.2,
            mensaje=f"worker {self.nombre} answers ping",
            ignorar=(OSError,),
        )


class RedisDesechable(Proceso):
    """A throwaway redis-server (no persistence) that a test may stop and restart."""

    nombre_log = "redis-server"

    def __init__(self, binario: str, log: Path) -> None:
        self.puerto = puerto_libre()
        argv = [
            binario,
            "--port",
            str(self.puerto),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        super().__init__(argv, dict(os.environ), log)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.puerto}/0"

    def responde(self) -> bool:
        """True when the server answers PING."""
        import redis

        cliente = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(cliente.ping())
        except redis.RedisError:
            return False
        finally:
            cliente.close()

    def _esperar_listo(self) -> None:
        def listo() -> bool:
            self._fallar_si_murio("waiting for PING")
            return self.responde()

        esperar(listo, timeout=ARRANQUE_TIMEOUT, mensaje=f"redis on port {self.puerto}")

    def parar(self, timeout: float = 5.0, senal: int = signal.SIGTERM) -> None:
        super().parar(timeout=timeout, senal=senal)


# --- The environment shared by the processes of one test -------------------------------------
def _url_de_la_bd() -> str:
    from django.db import connection

    datos = connection.settings_dict
    usuario = quote(str(datos.get("USER") or ""), safe="")
    clave = quote(str(datos.get("PASSWORD") or ""), safe="")
    credenciales = f"{usuario}:{clave}@" if clave else (f"{usuario}@" if usuario else "")
    host = datos.get("HOST") or "localhost"
    puerto = f":{datos['PORT']}" if datos.get("PORT") else ""
    return f"postgres://{credenciales}{host}{puerto}/{quote(str(datos['NAME']), safe='')}"


class EntornoProcesos:
    """Environment and bookkeeping for the processes one test starts."""

    def __init__(self, nodo: pytest.Item, redis_url: str, dir_logs: Path) -> None:
        self.nodo = nodo
        self.redis_url = redis_url
        self.database_url = _url_de_la_bd()
        self.prefijo = f"pruebas-{uuid.uuid4().hex[:10]}:"
        self.dir_logs = dir_logs
        self.procesos: list[Proceso] = []
        self._contador = 0

    def entorno(self, **extra: str) -> dict[str, str]:
        """The environment variables every process gets, plus ``extra``."""
        base = dict(os.environ)
        for variable in list(base):
            if variable.startswith(("PYTEST_", "COV_")):
                base.pop(variable)
        base.update(
            DJANGO_SETTINGS_MODULE="alpespartners.settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            REDIS_PREFIJO=self.prefijo,
            CELERY_TASK_ALWAYS_EAGER="false",
            CELERY_DB_REUSE_MAX="1000",
            DEBUG="true",
            RATE_LIMIT_TRACKING="0",
            RATE_LIMIT_INGESTA="0",
            PYTHONUNBUFFERED="1",
        )
        base.update(extra)
        return base

    def ruta_log(self, nombre: str) -> Path:
        self._contador += 1
        ruta = self.dir_logs / f"{self._contador:02d}-{nombre}.log"
        self.nodo.stash.setdefault(CLAVE_LOGS, []).append(ruta)
        print(f"[procesos] {nombre} log: {ruta}")
        return ruta

    def servidor(self, workers: int = 2, **extra_env: str) -> ServidorVivo:
        """Start gunicorn and wait until /health answers."""
        proceso = ServidorVivo(self.entorno(**extra_env), self.ruta_log("gunicorn"), workers)
        self.procesos.append(proceso)
        proceso.arrancar()
        return proceso

    def worker(
        self, colas: str = COLAS_POR_DEFECTO, concurrencia: int = 1, **extra_env: str
    ) -> WorkerCelery:
        """Start a Celery worker and wait until it answers a ping."""
        proceso = WorkerCelery(
            self.entorno(**extra_env), self.ruta_log("celery-worker"), colas, concurrencia
        )
        self.procesos.append(proceso)
        proceso.arrancar()
        return proceso

    def cerrar(self) -> None:
        """Stop every process (last started first) and drop this test's Redis keys."""
        for proceso in reversed(self.procesos):
            if isinstance(proceso, ServidorVivo):
                proceso.parar(timeout=5, senal=signal.SIGINT)  # gunicorn's quick shutdown
            else:
                proceso.parar(timeout=10)
        self._borrar_claves_redis()

    def _borrar_claves_redis(self) -> None:
        import redis

        cliente = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=2)
        try:
            claves = list(cliente.scan_iter(match=f"{self.prefijo}*", count=1000))
            for i in range(0, len(claves), 500):
                cliente.delete(*claves[i : i + 500])
        except redis.RedisError:
            pass  # a throwaway Redis may already be gone
        finally:
            cliente.close()


def _falta_modulo(nombre: str) -> bool:
    return importlib.util.find_spec(nombre) is None


# --- Fixtures --------------------------------------------------------------------------------
@pytest.fixture
def redis_desechable(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Any]:
    """A throwaway redis-server on a free port; stop/restart it to simulate an outage."""
    binario = shutil.which("redis-server")
    if binario is None:
        pytest.skip("redis-server is not installed")
    dir_logs = tmp_path_factory.mktemp("redis")
    ruta = dir_logs / "redis-server.log"
    request.node.stash.setdefault(CLAVE_LOGS, []).append(ruta)
    print(f"[procesos] redis-server log: {ruta}")
    servidor = RedisDesechable(binario, ruta)
    servidor.arrancar()
    try:
        yield servidor
    finally:
        servidor.parar()


@pytest.fixture
def entorno_procesos(
    request: pytest.FixtureRequest, tmp_path_factory: Any, transactional_db: None
) -> Iterator[Any]:
    """Environment for real processes against this test's PostgreSQL database and Redis.

    ``transactional_db``: what the test writes is committed, so the processes see it (and the
    test sees what they write); tables are flushed after the test. It must be a static
    dependency: pytest-django decides which test databases to create from fixture names.
    """
    from django.conf import settings

    if not getattr(settings, "USANDO_POSTGRES", False):
        pytest.skip("integration tests need PostgreSQL (set DATABASE_URL)")
    if "redis_desechable" in request.fixturenames:
        redis_url = request.getfixturevalue("redis_desechable").url
    elif settings.REDIS_URL:
        redis_url = settings.REDIS_URL
    else:
        pytest.skip("integration tests need Redis (set REDIS_URL)")
    for modulo in ("gunicorn", "celery", "redis"):
        if _falta_modulo(modulo):
            pytest.skip(f"{modulo} is not installed")
    entorno = EntornoProcesos(request.node, redis_url, tmp_path_factory.mktemp("procesos"))
    try:
        yield entorno
    finally:
        entorno.cerrar()


@pytest.fixture
def servidor_vivo(entorno_procesos: EntornoProcesos) -> ServidorVivo:
    """The app served by gunicorn (2 sync workers); ``.url`` is its base URL."""
    return entorno_procesos.servidor()


@pytest.fixture
def worker_celery(entorno_procesos: EntornoProcesos) -> WorkerCelery:
    """A real Celery worker on the app's queues (prefork, concurrency 1)."""
    return entorno_procesos.worker()


# --- Reporting -------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On failure, attach the tail of every process log the test produced."""
    informe = yield
    if informe.failed:
        for ruta in item.stash.get(CLAVE_LOGS, []):
            informe.sections.append((f"log {ruta}", _cola_de_log(ruta)))
    return informe
