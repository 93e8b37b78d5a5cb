"""The benchmark harness works: `python -m bench --quick` runs end to end and writes a complete
`latest.json`. No timing assertion anywhere: figures are whatever this machine gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.carga import Receta, analizar_wrk, script_lua
from bench.informe import Figura, tabla
from bench.runner import _elegir

RAIZ = Path(__file__).resolve().parent.parent
FIGURAS = ("B0", "B1", "B2", "B3", "B4", "B5", "B6")

SALIDA_WRK = """Running 3s test @ http://127.0.0.1:8000
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    1.01ms  20.00ms   90.00%
    Req/Sec     3.10k   200.00     3.50k    70.00%
  Latency Distribution
     50%    4.98ms
     75%    5.40ms
     90%    6.10ms
     99%    1.20s
  18600 requests in 3.00s, 2.10MB read
  Socket errors: connect 0, read 18600, write 0, timeout 3
  Non-2xx or 3xx responses: 12
Requests/sec:   6200.00
Transfer/sec:    700.00KB
"""


# --- Pure parts (run everywhere) -------------------------------------------------------------


def test_analizar_wrk_lee_tasa_latencias_y_errores():
    r = analizar_wrk(SALIDA_WRK)
    assert r.peticiones == 18600
    assert r.rps == 6200.0
    assert r.p50_ms == pytest.approx(4.98)
    assert r.p99_ms == pytest.approx(1200.0)
    assert r.no_2xx_3xx == 12
    # Closed connections (sync workers) are "read errors" in wrk, not failed requests.
    assert r.errores_socket == 3
    assert r.exitosas == 18600 - 12 - 3


def test_analizar_wrk_rechaza_salida_inesperada():
    with pytest.raises(RuntimeError):
        analizar_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_script_lua_lleva_rutas_token_y_ids_unicos_por_hilo():
    receta = Receta(
        "POST",
        ["/api/v1/eventos/lote/"],
        {"Authorization": "Token abc"},
        cuerpo="lote",
        marca="m-1",
    )
    lua = script_lua(receta)
    assert '"/api/v1/eventos/lote/"' in lua
    assert '["Authorization"] = "Token abc"' in lua
    assert receta.prefijo in lua
    assert 'thread:set("hilo"' in lua  # per-thread id component
    assert receta.nueva().prefijo != receta.prefijo


def test_tabla_muestra_valores_y_na_con_motivo():
    medida = Figura("B1", "GET /t/<codigo>", "req/s", valor=900.0, base=2000.0, cumple=True)
    medida.base_nombre = "bare view"
    ausente = Figura("B5", "reatribuir", "events/s").no_disponible("command missing")
    texto = tabla([medida, ausente])
    assert "0.45×" in texto
    assert "n/a" in texto
    assert "B5: command missing" in texto
    assert ausente.a_json()["value"] == "n/a"
    assert ausente.a_json()["na"] == "command missing"
    assert medida.a_json()["ratio"] == 0.45


def test_calibracion_prefiere_sync_salvo_que_gthread_gane_claramente():
    def candidato(clase, workers, req_s):
        return {"class": clase, "workers": workers, "threads": 4, "req_s": req_s}

    parejos = [candidato("sync", 4, 100.0), candidato("gthread", 2, 105.0)]
    assert _elegir(parejos)["class"] == "sync"
    claro = [candidato("sync", 4, 100.0), candidato("sync", 8, 90.0), candidato("gthread", 2, 130)]
    assert _elegir(claro)["class"] == "gthread"
    assert _elegir([candidato("sync", 4, 80.0), candidato("sync", 6, 95.0)])["workers"] == 6


# --- The real thing --------------------------------------------------------------------------


def _entorno_real() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        pytest.skip("the benchmark needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    return database_url, redis_url


def _numero(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _sesiones_abiertas(database_url: str, nombre: str) -> int:
    import psycopg

    mantenimiento = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    with psycopg.connect(mantenimiento, autocommit=True) as con:
        fila = con.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [nombre]
        ).fetchone()
    return int(fila[0]) if fila else 0


@pytest.mark.integration
def test_bench_quick_escribe_todas_las_figuras(tmp_path):
    database_url, _ = _entorno_real()
    nombre = urlsplit(database_url).path.lstrip("/") + "_benchtest"
    salida = tmp_path / "latest.json"
    env = {**os.environ, "BENCH_DATABASE_NAME": nombre}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--salida", str(salida)],
        cwd=RAIZ,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "figure" in proc.stdout and "ratio" in proc.stdout  # the printed table

    datos = json.loads(salida.read_text())
    assert datos["mode"] == "quick"
    for clave in FIGURAS:
        figura = datos[clave]
        for campo in ("value", "unit", "baseline", "ratio", "target", "met"):
            assert campo in figura, (clave, campo)
        if figura["value"] == "n/a":
            assert isinstance(figura.get("na"), str) and figura["na"], clave
            assert figura["met"] is None
        else:
            assert _numero(figura["value"]), (clave, figura["value"])
            assert figura["met"] in (True, False, None)
            for campo in ("baseline", "ratio"):
                assert figura[campo] is None or _numero(figura[campo]), (clave, campo)
    # The baselines are measured by the harness itself, so they are always there.
    for clave in ("B0", "B0_orm_insert", "B0_copy"):
        assert _numero(datos[clave]["value"]), clave
    for clave in ("B0", "B1", "B2"):
        if datos[clave]["value"] != "n/a":
            assert _numero(datos[clave]["p50_ms"]) and _numero(datos[clave]["p99_ms"]), clave
    maquina = datos["machine"]
    for campo in ("cores", "memory_gb", "python", "django", "postgresql", "redis", "load_tool"):
        assert maquina[campo], campo
    assert maquina["gunicorn"]["worker_class"] and maquina["gunicorn"]["workers"] >= 1

    # Every process the harness started is gone: nothing holds its database any more.
    limite = time.monotonic() + 20
    while _sesiones_abiertas(database_url, nombre) and time.monotonic() < limite:
        time.sleep(0.2)
    assert _sesiones_abiertas(database_url, nombre) == 0
