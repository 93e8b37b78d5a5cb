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

from bench import perfil, registro
from bench.carga import Receta, analizar_wrk, script_lua
from bench.informe import Figura, tabla
from bench.procesos import estado_kb, hijos
from bench.runner import _elegir

RAIZ = Path(__file__).resolve().parent.parent
# Every figure the benchmark must report; the registry may hold more.
FIGURAS = ("B0", "B0_orm_insert", "B0_copy", "B1", "B2", "B3", "gunicorn_rss", "B4", "B4_lag")
FIGURAS += ("B5", "B6", "B7")
INTERCALADAS = {"B1": "B0", "B2": "B0_orm_insert", "B3": "B0_copy"}

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


def _pares(*filas):
    """Interleaved pairs: (baseline rate, baseline p99, figure rate, figure p99) per slice."""
    pares = []
    for i, (br, bp, fr, fp) in enumerate(filas):
        pares.append(
            {
                "slice": i + 1,
                "baseline": {"rate": br, "p50_ms": bp / 2, "p99_ms": bp},
                "figure": {"rate": fr, "p50_ms": fp / 2, "p99_ms": fp},
                "ratio": fr / br,
                "p99_ratio": fp / bp,
            }
        )
    return pares


def test_intercalado_usa_la_mediana_de_los_cocientes_de_cada_rebanada():
    from bench.intercalado import _llenar

    base, fig = Figura("B0", "bare view", "req/s"), Figura("B1", "/t/", "req/s")
    # The machine halves its speed in the middle slice: both sides see it, the ratio does not.
    _llenar(base, fig, _pares((1000, 10, 400, 30), (500, 20, 210, 60), (1000, 10, 380, 40)))
    assert fig.ratio == pytest.approx(0.40)  # median of 0.40, 0.42, 0.38 — not 400 / 1000
    assert (fig.ratio_min, fig.ratio_max) == (pytest.approx(0.38), pytest.approx(0.42))
    assert fig.dispersion == pytest.approx(0.04 / 0.40)
    assert fig.p99_ratio == pytest.approx(3.0)  # median of 3, 3, 4
    assert (base.valor, fig.valor, fig.base) == (1000, 380, 1000)  # medians of each side
    assert fig.base_p99_ms == 10 and fig.p99_ms == 40
    datos = fig.a_json()
    assert datos["ratio_spread"] == pytest.approx(0.1) and len(datos["slices"]) == 3
    assert len(base.a_json()["slices"]) == 3


def test_tabla_muestra_rebanadas_p99_y_cpu():
    fig = Figura("B2", "POST /api/v1/eventos/", "req/s", valor=300.0, base=900.0)
    fig.base_nombre = "ORM-insert view"
    fig.ratio_rebanadas, fig.ratio_min, fig.ratio_max = 0.33, 0.30, 0.36
    fig.p99_ratio, fig.cpu_ratio, fig.cpu_ms = 1.5, 0.59, 2.71
    fig.rebanadas = []
    texto = tabla([fig])
    assert "0.33×" in texto and "0.30–0.36 (18 %)" in texto
    assert "1.50×" in texto and "0.59× (2.71 ms)" in texto


def test_resumen_de_perfil_ordena_por_tiempo_propio():
    crudo = (
        'process 11:"gunicorn: worker\n[app; x]";handle (gunicorn/workers/sync.py:10);'
        "execute (/srv/.venv/lib/python3.11/site-packages/django/db/utils.py:20) 30\n"
        'process 12:"gunicorn";handle (gunicorn/workers/sync.py:10);'
        "execute (/srv/.venv/lib/python3.11/site-packages/django/db/utils.py:21) 10\n"
        'process 12:"gunicorn";handle (gunicorn/workers/sync.py:12);dumps (json/encoder.py:5) 60\n'
    )
    texto = perfil.resumir(crudo, titulo="B1", top=5)
    assert "100 samples" in texto
    propio = texto.split("by self time:")[1].split("by total time:")[0].splitlines()
    assert "dumps (json/encoder.py)" in propio[2] and propio[2].split()[0] == "60.0"
    # Lines of one function add up; site-packages paths are shortened.
    assert "40.0" in propio[3] and "execute (django/db/utils.py)" in propio[3]
    assert "handle (gunicorn/workers/sync.py)" in texto.split("by total time:")[1].splitlines()[2]
    assert perfil.principales(crudo, top=1) == [["dumps (json/encoder.py)", 60.0]]
    assert "no samples" in perfil.resumir("", titulo="B4")


def test_registro_cubre_las_figuras_y_cada_funcion_existe():
    claves = registro.claves()
    assert len(claves) == len(set(claves))
    assert set(FIGURAS) <= set(claves)
    for entrada in registro.FIGURAS:
        assert callable(registro._funcion(entrada.funcion)), entrada.funcion
    assert {"B0", "B1", "B7"} <= set(registro.SELECCIONABLES)
    rss = next(e for e in registro.FIGURAS if e.clave == "RSS")
    assert rss.elegida({"B2"}) and not rss.elegida({"B4"})


def test_registro_convierte_un_fallo_en_na_con_motivo(monkeypatch):
    entrada = registro.Entrada("B9", ("B9", "B9_extra"), "B9 test", "bench.webhooks:no_existe")
    resultado = registro.medir(entrada, None)  # type: ignore[arg-type]
    assert set(resultado) == {"B9", "B9_extra"}
    assert all("AttributeError" in (f.na or "") for f in resultado.values())


def test_b7_sin_contexto_es_na_con_motivo():
    """B7 measures webhook deliveries; a broken run of it becomes n/a with the reason."""
    entrada = next(e for e in registro.FIGURAS if e.clave == "B7")
    f = registro.medir(entrada, None)["B7"]  # type: ignore[arg-type]
    assert f.na and "measurement failed" in f.na and f.a_json()["value"] == "n/a"


def test_memoria_y_procesos_hijos_desde_proc():
    hijo = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert hijo.pid in hijos(os.getpid())
        assert estado_kb(hijo.pid, "VmHWM") > 0
    finally:
        hijo.kill()
        hijo.wait()
    assert estado_kb(hijo.pid, "VmHWM") == 0  # gone: 0, not an error


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


def _comprobar_rebanadas(datos):
    """B0–B3 come from interleaved slices: every slice recorded with its figures."""
    pares = datos["slices"]["pairs"]
    assert pares >= 1 and _numero(datos["slices"]["seconds_each"])
    for figura, base in INTERCALADAS.items():
        assert _numero(datos[base]["value"]), base  # baselines run even when the figure cannot
        assert len(datos[base]["slices"]) == pares, base
        for rebanada in datos[base]["slices"]:
            assert _numero(rebanada["rate"]) and _numero(rebanada["loadavg_1m"]), base
        f = datos[figura]
        if f["value"] == "n/a":
            continue
        assert len(f["slices"]) == pares, figura
        assert [p["slice"] for p in f["slices"]] == list(range(1, pares + 1))
        assert {p["first"] for p in f["slices"]} <= {"baseline", "figure"}
        for par in f["slices"]:
            for lado in ("baseline", "figure"):
                assert _numero(par[lado]["rate"]) and _numero(par[lado]["loadavg_1m"])
            assert par["ratio"] is None or _numero(par["ratio"])
        for campo in ("ratio", "ratio_min", "ratio_max", "ratio_spread"):
            assert _numero(f[campo]), (figura, campo)
        assert f["ratio_min"] <= f["ratio"] <= f["ratio_max"]
    for figura in ("B0", "B1", "B2", "B0_orm_insert"):
        if datos[figura]["value"] != "n/a":
            assert _numero(datos[figura]["p50_ms"]) and _numero(datos[figura]["p99_ms"]), figura
    for figura in ("B1", "B2"):
        if datos[figura]["value"] != "n/a":
            assert _numero(datos[figura]["p99_ratio"]), figura
            assert _numero(datos[figura]["baseline_p99_ms"]), figura
    if datos["B1"]["value"] != "n/a":
        control = datos["B1"]["details"]["commit_check"]
        assert isinstance(control["every_click_committed"], bool)
        assert control["redirects_counted"] == sum(
            p["figure"]["successful"] for p in datos["B1"]["slices"]
        )


def _comprobar_cpu(datos):
    """The in-process CPU per request ran, and its ratios sit beside B1 and B2."""
    cpu = datos["cpu_per_request"]
    if cpu.get("value") == "n/a":
        assert isinstance(cpu.get("na"), str) and cpu["na"]
        return
    assert set(cpu["cpu_ms_per_request"]) == {"B0", "B0i", "B1", "B2"}
    assert all(_numero(x) for x in cpu["cpu_ms_per_request"].values())
    for figura in ("B1", "B2"):
        assert _numero(cpu["cpu_ratios"][figura]), figura
        if datos[figura]["value"] != "n/a":
            assert datos[figura]["cpu_ratio"] == pytest.approx(cpu["cpu_ratios"][figura], abs=1e-3)
            assert _numero(datos[figura]["cpu_ms_per_request"])


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
    for clave in registro.claves():
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
    _comprobar_rebanadas(datos)
    _comprobar_cpu(datos)
    b7 = datos["B7"]
    assert _numero(b7["value"]) and _numero(b7["baseline"]), b7  # webhooks beside Pagos
    assert b7["details"]["receiver_duplicates"] == 0
    rss = datos["gunicorn_rss"]
    assert rss["value"] == "n/a" or rss["details"]["workers"] >= 1
    maquina = datos["machine"]
    for campo in ("cores", "memory_gb", "python", "django", "postgresql", "redis", "load_tool"):
        assert maquina[campo], campo
    for campo in ("loadavg_start", "loadavg_end"):
        assert len(maquina[campo]) == 3 and all(_numero(x) for x in maquina[campo]), campo
    assert maquina["gunicorn"]["worker_class"] and maquina["gunicorn"]["workers"] >= 1

    # Every process the harness started is gone: nothing holds its database any more.
    limite = time.monotonic() + 20
    while _sesiones_abiertas(database_url, nombre) and time.monotonic() < limite:
        time.sleep(0.2)
    assert _sesiones_abiertas(database_url, nombre) == 0


def test_comparar_dos_corridas_por_sus_ratios(tmp_path):
    from bench.comparar import comparar, main

    def corrida(b1, b3, p99, cpu):
        return {
            "B1": {"ratio": b1, "p99_ratio": p99},
            "B3": {"ratio": b3},
            "B5": {"ratio": None},
            "cpu_per_request": {"cpu_ratios": {"B1": cpu}},
            "machine": {"loadavg_start": [1, 1, 1], "loadavg_end": [2, 2, 2]},
        }

    a, b = corrida(0.40, 0.60, 2.0, 0.09), corrida(0.44, 0.75, 3.0, 0.09)
    filas = {f["ratio"]: f for f in comparar(a, b, tolerancia=0.15)}
    assert set(filas) == {"B1", "B1 p99", "B3", "B1 CPU"}
    assert filas["B1"]["agrees"] and filas["B1"]["difference"] == pytest.approx(0.04 / 0.42)
    assert not filas["B3"]["agrees"]
    assert not filas["B1 p99"]["counted"] and filas["B1"]["counted"]
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    (tmp_path / "c.json").write_text(json.dumps(corrida(0.41, 0.62, 9.0, 0.5)))
    assert main([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1  # B3 disagrees
    assert main([str(tmp_path / "a.json"), str(tmp_path / "c.json")]) == 0  # p99/CPU not counted
