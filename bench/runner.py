"""`python -m bench`: set up the bench database, serve the app as production does, measure
every figure beside its baseline, print the table and write `bench/results/latest.json`."""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import carga, entorno, perfil, procesos, registro
from bench.informe import Figura, escribir_json, tabla

SALIDA = Path(__file__).resolve().parent / "results" / "latest.json"


def _argumentos(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    p.add_argument(
        "--solo",
        default="",
        help="only these figures, e.g. B1,B3 (B0 baselines run interleaved with B1–B3)",
    )
    p.add_argument("--workers", type=int, default=0, help="gunicorn workers (skips calibration)")
    p.add_argument("--worker-class", default="", help="gunicorn worker class (sync, gthread)")
    p.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    p.add_argument(
        "--calibrar",
        action="store_true",
        help="choose the gunicorn worker class/count by measurement (default in full runs)",
    )
    p.add_argument("--salida", type=Path, default=SALIDA, help="where to write the JSON")
    p.add_argument(
        "--rebanadas",
        type=int,
        default=0,
        help="pairs of interleaved slices per HTTP figure and its baseline (6; --quick 3)",
    )
    p.add_argument(
        "--segundos-rebanada",
        "--segundos",
        dest="segundos_rebanada",
        type=float,
        default=0,
        help="seconds of each slice, whole seconds (5; --quick 2; B3 at least 3)",
    )
    p.add_argument(
        "--sin-cpu",
        action="store_true",
        help="skip the in-process CPU per request (bench.cpu_por_peticion) after B1–B3",
    )
    p.add_argument("--sin-instalar", action="store_true", help="never apt-get install wrk")
    p.add_argument("--python-client", action="store_true", help="use the asyncio client")
    p.add_argument("--conservar-logs", action="store_true", help="keep the child processes' logs")
    p.add_argument(
        "--perfil",
        action="store_true",
        help="py-spy flame graphs and top-frame summaries (a profiles/ folder beside the "
        "JSON): gunicorn workers in one extra slice per HTTP side, the Celery worker child in "
        "B4, the reatribuir process in B5",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _argumentos(argv)
    try:
        ent = entorno.preparar()
    except entorno.ErrorEntorno as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    solo = {s.strip().upper() for s in args.solo.split(",") if s.strip()}
    desconocidas = solo - set(registro.SELECCIONABLES)
    if desconocidas:
        print(
            f"bench: unknown figures {sorted(desconocidas)}; use {registro.SELECCIONABLES}",
            file=sys.stderr,
        )
        return 2
    if "B0" in solo:  # the baselines only run interleaved with their figures
        solo |= {"B1", "B2", "B3"}
    procesos.instalar_limpieza()
    logs = Path(tempfile.mkdtemp(prefix="alpes-bench-"))
    # A fresh Redis namespace per run: our queue never mixes with anybody else's.
    ent.env["REDIS_PREFIJO"] = f"bench-{secrets.token_hex(4)}:"
    rc = 1
    try:
        rc = _ejecutar(args, ent, logs, solo or set(registro.SELECCIONABLES))
        return rc
    except KeyboardInterrupt:
        print("\nbench: interrupted; child processes stopped.", file=sys.stderr)
        rc = 130
        return rc
    except entorno.ErrorEntorno as exc:
        print(f"bench: {exc}", file=sys.stderr)
        rc = 2
        return rc
    except RuntimeError as exc:  # a process that would not start, unexpected tool output
        print(f"bench: {exc}", file=sys.stderr)
        return rc
    finally:
        procesos.terminar_todos()
        entorno.limpiar_prefijo(ent.redis_url, ent.env.get("REDIS_PREFIJO", ""))
        if rc == 0 and not args.conservar_logs:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            print(f"(logs of this run: {logs})")


def _paso(texto: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {texto}", flush=True)


def _ejecutar(args: argparse.Namespace, ent: entorno.Entorno, logs: Path, solo: set[str]) -> int:
    inicio = time.perf_counter()
    carga_inicial = os.getloadavg()
    herramienta = (
        "python"
        if args.python_client
        else carga.herramienta_disponible(instalar=not args.sin_instalar)
    )
    version_carga = carga.version_wrk() if herramienta == "wrk" else "bench.cliente (asyncio)"
    _paso(f"load generator: {version_carga}; load average {_carga(carga_inicial)}")
    _paso(f"bench database {ent.nombre_bd!r}: drop, create, migrate")
    entorno.recrear_bd(ent)

    # From here on this process is a Django process against the bench database.
    os.environ.update(ent.env)
    import django

    django.setup()
    from bench import datos, figuras

    _paso("fixtures")
    fx = datos.sembrar()
    t = figuras.Tamanos.de(rapido=args.quick)
    if args.rebanadas:
        t.rebanadas = args.rebanadas
    if args.segundos_rebanada:
        t.segundos_rebanada = max(round(args.segundos_rebanada), 1)  # wrk takes whole seconds
    gun = procesos.Gunicorn(env=ent.env, logs=logs)
    calibracion, eleccion = _elegir_gunicorn(args, gun, herramienta, ent, logs, fx, t)
    _paso(f"gunicorn: {gun.descripcion} ({eleccion})")
    gun.iniciar()

    ctx = figuras.Contexto(
        herramienta=herramienta, gunicorn=gun, env=ent.env, logs=logs, fx=fx, t=t
    )
    if args.perfil:
        if perfil.py_spy() is None:
            _paso("--perfil: py-spy is not installed (pip install py-spy); no profiles")
        else:
            ctx.perfiles = args.salida.parent / "profiles"
            _paso(f"profiles (py-spy) go to {ctx.perfiles}")
    _paso(
        f"HTTP figures: {t.rebanadas} pairs of {t.segundos_rebanada:g} s slices, interleaved "
        "with their baseline"
    )
    resultados, orden = _medir_figuras(ctx, solo)
    gun.detener()

    cpu = _cpu_por_peticion(args, ent, logs, solo)
    _anotar_cpu(resultados, cpu)
    carga_final = os.getloadavg()
    maquina = _maquina(gun, version_carga, herramienta, calibracion, eleccion)
    maquina["loadavg_start"] = [round(x, 2) for x in carga_inicial]
    maquina["loadavg_end"] = [round(x, 2) for x in carga_final]
    perfiles = _perfiles(ctx.perfiles, desde=inicio)
    extra = {
        "mode": "quick" if args.quick else "full",
        "duration_s": round(time.perf_counter() - inicio, 1),
        "slices": {
            "pairs": t.rebanadas,
            "seconds_each": t.segundos_rebanada,
            "warmup_s": t.calentamiento,
            "order": "baseline first in odd pairs, figure first in even pairs",
        },
        "connections": ctx.conexiones,
        "cpu_per_request": cpu,
        "profiles": perfiles,
    }
    escribir_json(args.salida, claves=resultados, maquina=maquina, extra=extra)
    print()
    print(tabla(orden))
    print()
    print(_texto_cpu(cpu))
    print(
        f"machine: {maquina['cores']} cores, {maquina['memory_gb']} GB, load average "
        f"{_carga(carga_inicial)} at start, {_carga(carga_final)} at end"
        f" · Python {maquina['python']} · Django {maquina['django']} · PostgreSQL "
        f"{maquina['postgresql']} · Redis {maquina['redis']} · gunicorn {gun.descripcion} · "
        f"load tool {maquina['load_tool']}"
    )
    if perfiles:
        print(f"profiles: {ctx.perfiles} ({len(perfiles)} recordings; summaries in *-top.txt)")
    print(f"written: {args.salida} ({extra['duration_s']} s)")
    return 0


def _carga(carga: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in carga)


def _elegir_gunicorn(
    args: argparse.Namespace,
    gun: procesos.Gunicorn,
    herramienta: str,
    ent: entorno.Entorno,
    logs: Path,
    fx: Any,
    t: Any,
) -> tuple[list[dict[str, Any]], str]:
    """Worker class and count: from the command line, by calibration, or the quick default."""
    cores = os.cpu_count() or 1
    if args.workers or args.worker_class:
        gun.clase = args.worker_class or "sync"
        gun.workers = args.workers or 2 * cores
        gun.hilos = args.threads
        return [], "given on the command line"
    if args.calibrar or not args.quick:
        _paso("calibrating gunicorn workers on the ORM-insert view")
        calibracion = _calibrar(gun, herramienta, ent, logs, fx, cores, t)
        mejor = _elegir(calibracion)
        gun.clase, gun.workers, gun.hilos = mejor["class"], mejor["workers"], mejor["threads"]
        return calibracion, "best req/s of the calibration (gthread only if ≥ 10 % above sync)"
    gun.clase, gun.workers = "sync", 2 * cores
    return [], "default sync 2×cores (calibration skipped in --quick; use --calibrar)"


def _medir_figuras(ctx: Any, solo: set[str]) -> tuple[dict[str, Figura], list[Figura]]:
    """Every figure of the registry, in order: measured when chosen, `n/a` otherwise."""
    resultados: dict[str, Figura] = {}
    orden: list[Figura] = []
    for entrada in registro.FIGURAS:
        if not entrada.elegida(solo):
            motivo = "not run (none of B1–B3 ran)" if entrada.tras else "not run (--solo)"
            resultados.update(registro.no_ejecutada(entrada, motivo))
            continue
        _paso(entrada.titulo)
        for clave, f in registro.medir(entrada, ctx).items():
            resultados[clave] = f
            orden.append(f)
            estado = f"n/a ({f.na})" if f.na else f"{f.valor:,.1f} {f.unidad}"
            if f.ratio is not None:
                estado += f", ratio {f.ratio:.2f}×"
            _paso(f"  {f.clave} {f.nombre}: {estado}")
    return resultados, orden


def _cpu_por_peticion(
    args: argparse.Namespace, ent: entorno.Entorno, logs: Path, solo: set[str]
) -> dict[str, Any]:
    """In-process CPU per request of B0, B0 insert, B1 and B2 (`bench.cpu_por_peticion`), in
    its own throw-away database, once the server has stopped."""
    if args.sin_cpu:
        return {"value": "n/a", "na": "skipped (--sin-cpu)"}
    if not {"B1", "B2"} & solo:
        return {"value": "n/a", "na": "not run (--solo without B1 or B2)"}
    n, rondas, calentar = (100, 2, 50) if args.quick else (1000, 3, 200)
    orden = f"python -m bench.cpu_por_peticion -n {n} --rondas {rondas} --calentar {calentar}"
    _paso(f"in-process CPU per request: {orden}")
    salida = logs / "cpu_por_peticion.json"
    log = logs / "cpu_por_peticion.log"
    nombre_bd = f"{ent.nombre_bd}_cpu"
    cmd = [sys.executable, "-m", "bench.cpu_por_peticion", "-n", str(n), "--rondas", str(rondas)]
    cmd += ["--calentar", str(calentar), "--json", str(salida)]
    proc = procesos.lanzar(cmd, env={**ent.env, "BENCH_DATABASE_NAME": nombre_bd}, log=log)
    try:
        rc = proc.wait(timeout=900)
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        procesos.terminar(proc)
        entorno.borrar_bd(ent, nombre_bd)
    if rc != 0 or not salida.exists():
        cola = " | ".join(procesos.cola(log, 3).splitlines())
        return {"value": "n/a", "na": f"bench.cpu_por_peticion failed (rc {rc}): {cola[:300]}"}
    datos: dict[str, Any] = json.loads(salida.read_text())
    datos["command"] = orden
    return datos


_RUTAS_CPU = (("B0", "B0"), ("B0_orm_insert", "B0i"), ("B1", "B1"), ("B2", "B2"))


def _anotar_cpu(resultados: dict[str, Figura], cpu: dict[str, Any]) -> None:
    """CPU ms per request beside B0, B0 insert, B1 and B2; the CPU ratio beside B1 and B2."""
    ms = cpu.get("cpu_ms_per_request") or {}
    for clave, ruta in _RUTAS_CPU:
        if clave in resultados and ruta in ms:
            resultados[clave].cpu_ms = ms[ruta]
    for clave, ratio in (cpu.get("cpu_ratios") or {}).items():
        if clave in resultados and resultados[clave].na is None and ratio is not None:
            resultados[clave].cpu_ratio = ratio


def _texto_cpu(cpu: dict[str, Any]) -> str:
    if cpu.get("na"):
        return f"in-process CPU per request: n/a ({cpu['na']})"
    ms = cpu["cpu_ms_per_request"]
    nombres = cpu["paths"]
    ratios = cpu["cpu_ratios"]
    lineas = [
        f"in-process CPU per request ({cpu['command']}; minimum over the rounds):",
        "  " + " · ".join(f"{nombres[k]} {v:.3f} ms" for k, v in ms.items()),
        "  CPU ratios (baseline CPU ÷ path CPU, the req/s ratio if the app's CPU were all): "
        + " · ".join(f"{k} {v:.2f}×" if v is not None else f"{k} n/a" for k, v in ratios.items()),
    ]
    return "\n".join(lineas)


def _perfiles(carpeta: Path | None, *, desde: float) -> dict[str, Any]:
    """The recordings of this run: flame graph, raw stacks, summary and top self frames."""
    if carpeta is None or not carpeta.exists():
        return {}
    limite = time.time() - (time.perf_counter() - desde)
    resultado: dict[str, Any] = {}
    for crudo in sorted(carpeta.glob("*.txt")):
        if crudo.name.endswith("-top.txt") or crudo.stat().st_mtime < limite:
            continue
        svg = crudo.with_suffix(".svg")
        resumen = crudo.with_name(crudo.stem + "-top.txt")
        resultado[crudo.stem] = {
            "svg": str(svg) if svg.exists() else None,
            "raw": str(crudo),
            "summary": str(resumen) if resumen.exists() else None,
            "top_self": perfil.principales(crudo.read_text(errors="replace")),
        }
    return resultado


def _elegir(calibracion: list[dict[str, Any]]) -> dict[str, Any]:
    """The candidate with the best req/s; gthread must beat the best sync by 10 %, because with
    keep-alive it can pile connections onto one worker and its p99 suffers first."""
    mejor = max(calibracion, key=lambda c: c["req_s"])
    sync = [c for c in calibracion if c["class"] == "sync"]
    if mejor["class"] != "sync" and sync:
        mejor_sync = max(sync, key=lambda c: c["req_s"])
        if mejor["req_s"] < 1.10 * mejor_sync["req_s"]:
            return mejor_sync
    return mejor


def _calibrar(
    gun: procesos.Gunicorn,
    herramienta: str,
    ent: entorno.Entorno,
    logs: Path,
    fx: Any,
    cores: int,
    t: Any,
) -> list[dict[str, Any]]:
    candidatos = [
        ("sync", 2 * cores, 1),
        ("sync", 3 * cores, 1),
        ("sync", 4 * cores, 1),
        ("gthread", cores, 4),
    ]
    segundos = 2.0 if t.segundos_rebanada <= 2 else 4.0
    resultados = []
    for clase, workers, hilos in candidatos:
        gun.clase, gun.workers, gun.hilos = clase, workers, hilos
        gun.iniciar()
        try:
            receta = carga.Receta("GET", ["/bench/insertar"], {"User-Agent": carga.USER_AGENT})
            carga.ejecutar(
                herramienta,
                receta.nueva(),
                base=gun.base,
                segundos=1,
                conexiones=32,
                env=ent.env,
                logs=logs,
            )
            r = carga.ejecutar(
                herramienta,
                receta.nueva(),
                base=gun.base,
                segundos=segundos,
                conexiones=32,
                env=ent.env,
                logs=logs,
            )
        finally:
            gun.detener()
        fila = {
            "class": clase,
            "workers": workers,
            "threads": hilos,
            "req_s": round(r.rps, 1),
            "p99_ms": r.p99_ms,
        }
        _paso(f"  {gun.descripcion}: {fila['req_s']} req/s, p99 {r.p99_ms} ms")
        resultados.append(fila)
    return resultados


def _maquina(
    gun: procesos.Gunicorn,
    version_carga: str,
    herramienta: str,
    calibracion: list[dict[str, Any]],
    eleccion: str,
) -> dict[str, Any]:
    import django
    import gunicorn
    import redis
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        fila = cur.fetchone()
    pg = fila[0] if fila else "?"
    try:
        r = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        version_redis = str(r.info("server").get("redis_version", "?"))
        r.close()
    except redis.RedisError:
        version_redis = "?"
    memoria_gb = 0.0
    try:
        with open("/proc/meminfo") as f:
            for linea in f:
                if linea.startswith("MemTotal:"):
                    memoria_gb = round(int(linea.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "commit": _commit(),
        "cores": os.cpu_count(),
        "memory_gb": memoria_gb,
        "platform": platform.platform(),
        "cpu": _cpu(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg,
        "redis": version_redis,
        "gunicorn": {
            "version": gunicorn.__version__,
            "worker_class": gun.clase,
            "workers": gun.workers,
            "threads": gun.hilos if gun.clase == "gthread" else 1,
            "chosen_by": eleccion,
            "calibration": calibracion,
        },
        "celery_worker": "celery -A alpespartners worker -Q atribucion -c 1 (prefork)",
        "load_tool": version_carga,
        "load_tool_kind": herramienta,
        "wrk_path": shutil.which("wrk") is not None,
    }


def _commit() -> str:
    """The code measured: short commit id, with `+changes` when the work tree differs."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=procesos.RAIZ,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        sucio = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=procesos.RAIZ,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+changes" if sucio else "")


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for linea in f:
                if linea.startswith("model name"):
                    return linea.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
