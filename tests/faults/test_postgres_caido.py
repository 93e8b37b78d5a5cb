"""Fault: PostgreSQL goes away under a running app server, then comes back.

Promise (PRODUCT.md §6, docs/RELIABILITY.md): while the database is unreachable every request
— the API (read and ingestion), the tracking link, the health check — is answered
quickly with a 503 and `Retry-After` in the normal error envelope (never a 500, never a hang),
and when the database returns the server recovers by itself, without a restart.

The test starts its own throwaway PostgreSQL cluster (`initdb` + `pg_ctl`, on a free port, in
a temporary directory owned by the `postgres` OS user when run as root), migrates it, serves
the app against it with gunicorn, and stops and starts that cluster. The shared PostgreSQL is
never touched.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.procesos import RAIZ, ServidorVivo, esperar, puerto_libre

pytestmark = [
    pytest.mark.faults,
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.USANDO_POSTGRES, reason="fault tests run with PostgreSQL (DATABASE_URL)"
    ),
]

# Client deadline for each request while the database is down: a hang fails the test.
TIMEOUT_HTTP = 15


def _binarios_postgres() -> Path | None:
    for carpeta in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(carpeta, "initdb"), os.X_OK):
            return Path(carpeta)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ClusterDesechable:
    """A throwaway PostgreSQL cluster; ``parar()`` / ``arrancar()`` simulate an outage."""

    def __init__(self, binarios: Path, directorio: Path, como: list[str]) -> None:
        self.binarios = binarios
        self.datos = directorio / "datos"
        self.log = directorio / "postgres.log"
        self.como = como  # prefix that runs a command as the cluster's owner
        self.puerto = puerto_libre()
        self.socket_dir = directorio

    def _pg(self, *argv: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self.como, str(self.binarios / argv[0]), *argv[1:]],
            check=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.puerto}/postgres"

    def crear(self) -> None:
        self._pg("initdb", "-D", str(self.datos), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def arrancar(self) -> None:
        opciones = (
            f"-p {self.puerto} -c listen_addresses=127.0.0.1 -k {self.socket_dir} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._pg(
            "pg_ctl", "-D", str(self.datos), "-l", str(self.log), "-o", opciones, "-w", "start"
        )

    def parar(self) -> None:
        self._pg("pg_ctl", "-D", str(self.datos), "-m", "fast", "-w", "stop")

    def parar_si_vive(self) -> None:
        if (self.datos / "postmaster.pid").exists():
            subprocess.run(
                [
                    *self.como,
                    str(self.binarios / "pg_ctl"),
                    "-D",
                    str(self.datos),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                check=False,
                timeout=60,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )


@pytest.fixture
def cluster_desechable() -> Iterator[ClusterDesechable]:
    binarios = _binarios_postgres()
    if binarios is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    como: list[str] = []
    directorio = Path(tempfile.mkdtemp(prefix="alpes-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as `postgres`
        runuser = shutil.which("runuser")
        try:
            dueno = pwd.getpwnam("postgres")
        except KeyError:
            dueno = None
        if runuser is None or dueno is None:
            shutil.rmtree(directorio, ignore_errors=True)
            pytest.skip("running as root without runuser or a `postgres` OS user")
        os.chown(directorio, dueno.pw_uid, dueno.pw_gid)
        como = [runuser, "-u", "postgres", "--"]
    cluster = ClusterDesechable(binarios, directorio, como)
    try:
        cluster.crear()
        cluster.arrancar()
        yield cluster
    finally:
        cluster.parar_si_vive()
        shutil.rmtree(directorio, ignore_errors=True)


@pytest.fixture
def servidor_sobre_cluster(cluster_desechable, tmp_path) -> Iterator[tuple[ServidorVivo, str]]:
    """The app migrated onto the throwaway cluster and served by gunicorn; yields the server
    and a staff token. No Redis: the embedded cache and in-process Celery are enough here."""
    entorno = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    entorno.update(
        DJANGO_SETTINGS_MODULE="alpespartners.settings",
        DATABASE_URL=cluster_desechable.url,
        DATABASE_CONNECT_TIMEOUT="2",
        REDIS_URL="",
        CELERY_TASK_ALWAYS_EAGER="true",
        DEBUG="true",
        RATE_LIMIT_TRACKING="0",
        RATE_LIMIT_INGESTA="0",
        PYTHONUNBUFFERED="1",
    )

    def manage(*argv: str) -> str:
        salida = subprocess.run(
            [sys.executable, "manage.py", *argv],
            cwd=RAIZ,
            env=entorno,
            check=True,
            capture_output=True,
            text=True,
            timeout=180,
        )
        return salida.stdout

    manage("migrate", "--noinput", "-v", "0")
    token = manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        "from eventos_medios.services.tokens import token_emitir;"
        "u = User.objects.create_user('staff', is_staff=True, is_superuser=True);"
        "print(token_emitir(usuario=u))",
    ).split()[-1]
    servidor = ServidorVivo(entorno, tmp_path / "gunicorn.log")
    print(f"[procesos] gunicorn log: {servidor.ruta_log}")
    servidor.arrancar()
    try:
        yield servidor, token
    finally:
        servidor.parar(timeout=5)


def test_postgres_caido_503_con_retry_after_y_se_recupera_solo(
    cluster_desechable, servidor_sobre_cluster
):
    servidor, token = servidor_sobre_cluster
    http = requests.Session()
    auth = {"Authorization": f"Token {token}"}
    peticiones = [
        ("GET", "/health", {}, None),
        ("GET", "/api/v1/eventos/", auth, None),
        ("GET", "/api/v1/socios/", auth, None),
        ("POST", "/api/v1/eventos/", auth, {"marca": str(uuid.uuid4()), "tipo": "lead"}),
        ("GET", "/t/no-existe", {}, None),
    ]

    def pedir(metodo: str, ruta: str, cabeceras: dict, cuerpo: dict | None) -> requests.Response:
        if ruta == "/t/no-existe":
            # A code never asked before: lookups are cached, and an unknown code answered from
            # the cache (404) is fine; what matters is that a database miss is a 503.
            ruta = f"/t/no-existe-{uuid.uuid4().hex[:12]}"
        return http.request(
            metodo,
            servidor.url + ruta,
            headers=cabeceras,
            json=cuerpo,
            timeout=TIMEOUT_HTTP,
            allow_redirects=False,
        )

    esperados = {
        "GET /health": 200,
        "GET /api/v1/eventos/": 200,
        "GET /api/v1/socios/": 200,
        "POST /api/v1/eventos/": 400,  # an unknown marca: a 400 naming the field
        "GET /t/no-existe": 404,
    }

    def estados() -> dict[str, int]:
        return {f"{p[0]} {p[1]}": pedir(*p).status_code for p in peticiones}

    # 1. Up: the normal answers.
    assert estados() == esperados

    # 2. Down. Pooled connections (CONN_MAX_AGE) die with it; new ones are refused.
    cluster_desechable.parar()
    durante: list[tuple[str, int, float]] = []
    for _ in range(3):  # each gunicorn worker, pooled and fresh connections
        for metodo, ruta, cabeceras, cuerpo in peticiones:
            inicio = time.monotonic()
            r = pedir(metodo, ruta, cabeceras, cuerpo)
            durante.append((ruta, r.status_code, time.monotonic() - inicio))
            assert r.status_code == 503, (metodo, ruta, r.status_code, r.text[:300])
            assert r.headers.get("Retry-After", "").isdigit(), (ruta, dict(r.headers))
            cuerpo_error = r.json()
            if ruta != "/health":
                assert cuerpo_error["code"] == "service_unavailable", cuerpo_error
            assert "Traceback" not in r.text

    # 3. Back: the same server answers normally again, with no restart.
    cluster_desechable.arrancar()
    inicio = time.monotonic()
    # Twice in a row, so both gunicorn workers have recovered.
    esperar(
        lambda: estados() == esperados and estados() == esperados,
        timeout=30,
        intervalo=0.2,
        mensaje="every endpoint answers as before once the database returns",
    )
    recuperado_en = time.monotonic() - inicio
    assert servidor.vivo
    print(
        f"\n[postgres caído] peticiones_durante_la_caida={len(durante)} "
        f"respuestas_503={sum(1 for _, e, _ in durante if e == 503)} "
        f"respuesta_mas_lenta={max(t for *_, t in durante):.2f}s "
        f"recuperacion_tras_volver={recuperado_en:.2f}s (sin reiniciar el servidor) "
        f"estados_despues={estados()}"
    )
