"""`python -m bench`: set up the bench database, serve the app as production does, measure
every figure beside its baseline, print the table and write `bench/results/latest.json`."""

from __future__ import annotations

import argparse
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

from bench import carga, entorno, procesos
from bench.informe import Figura, escribir_json, tabla

FIGURAS = ("B0", "B1", "B2", "B3", "B4", "B5", "B6")
SALIDA = Path(__file__).resolve().parent / "results" / "latest.json"


def _argumentos(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    p.add_argument("--solo", default="", help="only these figures, e.g. B1,B3 (B0 always runs)")
    p.add_argument("--workers", type=int, default=0, help="gunicorn workers (skips calibration)")
    p.add_argument("--worker-class", default="", help="gunicorn worker class (sync, gthread)")
    p.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    p.add_argument(
        "--calibrar",
        action="store_true",
        help="choose the gunicorn worker class/count by measurement (default in full runs)",
    )
    p.add_argument("--salida", type=Path, default=SALIDA, help="where to write the JSON")
    p.add_argument("--segundos", type=float, default=0, help="duration of each HTTP figure")
    p.add_argument("--sin-instalar", action="store_true", help="never apt-get install wrk")
    p.add_argument("--python-client", action="store_true", help="use the asyncio client")
    p.add_argument("--conservar-logs", action="store_true", help="keep the child processes' logs")
    p.add_argument(
        "--perfil",
        action="store_true",
        help="record py-spy flame graphs of the gunicorn workers during each HTTP figure "
        "(written to a profiles/ folder beside the JSON)",
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
    desconocidas = solo - set(FIGURAS)
    if desconocidas:
        print(f"bench: unknown figures {sorted(desconocidas)}; use {FIGURAS}", file=sys.stderr)
        return 2
    procesos.instalar_limpieza()
    logs = Path(tempfile.mkdtemp(prefix="alpes-bench-"))
    # A fresh Redis namespace per run: our queue never mixes with anybody else's.
    ent.env["REDIS_PREFIJO"] = f"bench-{secrets.token_hex(4)}:"
    rc = 1
    try:
        rc = _ejecutar(args, ent, logs, solo or set(FIGURAS))
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
    _paso(f"load generator: {version_carga}")
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
    if args.segundos:
        t.segundos_http = args.segundos

    cores = os.cpu_count() or 1
    gun = procesos.Gunicorn(env=ent.env, logs=logs)
    calibracion: list[dict[str, Any]] = []
    if args.workers or args.worker_class:
        gun.clase = args.worker_class or "sync"
        gun.workers = args.workers or 2 * cores
        gun.hilos = args.threads
        eleccion = "given on the command line"
    elif args.calibrar or not args.quick:
        _paso("calibrating gunicorn workers on the ORM-insert view")
        calibracion = _calibrar(gun, herramienta, ent, logs, fx, cores, t)
        mejor = _elegir(calibracion)
        gun.clase, gun.workers, gun.hilos = mejor["class"], mejor["workers"], mejor["threads"]
        eleccion = "best req/s of the calibration (gthread only if ≥ 10 % above sync)"
    else:
        gun.clase, gun.workers = "sync", 2 * cores
        eleccion = "default sync 2×cores (calibration skipped in --quick; use --calibrar)"
    _paso(f"gunicorn: {gun.descripcion} ({eleccion})")
    gun.iniciar()

    ctx = figuras.Contexto(
        herramienta=herramienta, gunicorn=gun, env=ent.env, logs=logs, fx=fx, t=t
    )
    if args.perfil:
        if figuras.py_spy() is None:
            _paso("--perfil: py-spy is not installed (pip install py-spy); no profiles")
        else:
            ctx.perfiles = args.salida.parent / "profiles"
            _paso(f"profiles (py-spy) go to {ctx.perfiles}")
    medir = figuras.medir
    resultados: dict[str, Figura] = {}
    orden: list[Figura] = []

    def registrar(clave: str, f: Figura) -> Figura:
        resultados[clave] = f
        orden.append(f)
        estado = f"n/a ({f.na})" if f.na else f"{f.valor:,.1f} {f.unidad}"
        _paso(f"{f.clave} {f.nombre}: {estado}")
        return f

    _paso("B0 baselines")
    b0 = registrar("B0", medir(lambda: figuras.b0_constante(ctx), "B0", "bare view"))
    b0i = registrar(
        "B0_orm_insert", medir(lambda: figuras.b0_insertar(ctx), "B0", "bare view, ORM insert")
    )
    b0c = registrar("B0_copy", medir(lambda: figuras.b0_copia(ctx), "B0", "COPY"))
    if "B1" in solo:
        registrar("B1", medir(lambda: figuras.b1_tracking(ctx, b0), "B1", "GET /t/<codigo>"))
    if "B2" in solo:
        registrar("B2", medir(lambda: figuras.b2_evento(ctx, b0i), "B2", "POST eventos"))
    if "B3" in solo:
        registrar("B3", medir(lambda: figuras.b3_lote(ctx, b0c), "B3", "POST eventos/lote"))
    if "B4" in solo:
        _paso("B4 attribution (real Celery worker, -c 1)")
        worker = procesos.WorkerCelery(env=ent.env, logs=logs)
        try:
            fa, fb = figuras.b4_atribucion(ctx, worker)
        except Exception as exc:  # noqa: BLE001 - keep the other figures
            import traceback

            traceback.print_exc()
            motivo = f"measurement failed: {type(exc).__name__}: {exc}"
            fa = Figura("B4", "attribution", "conv/s").no_disponible(motivo)
            fb = Figura("B4", "attribution lag", "ms p99").no_disponible(motivo)
        registrar("B4", fa)
        registrar("B4_lag", fb)
    if "B5" in solo:
        _paso(f"B5 reatribuir over {t.b5_conversiones:,} conversions")
        registrar("B5", medir(lambda: figuras.b5_reatribuir(ctx), "B5", "reatribuir"))
    if "B6" in solo:
        _paso(f"B6 partner summary over {t.b6_eventos:,} events")
        registrar("B6", medir(lambda: figuras.b6_informe(ctx), "B6", "summary report"))
    gun.detener()

    for clave in FIGURAS:
        if clave not in resultados:
            resultados[clave] = Figura(clave, "", "").no_disponible("not run (--solo)")

    maquina = _maquina(gun, version_carga, herramienta, carga_inicial, calibracion, eleccion)
    extra = {
        "mode": "quick" if args.quick else "full",
        "duration_s": round(time.perf_counter() - inicio, 1),
        "http_seconds_per_figure": t.segundos_http,
        "connections": ctx.conexiones,
    }
    escribir_json(args.salida, claves=resultados, maquina=maquina, extra=extra)
    print()
    print(tabla(orden))
    print()
    print(
        f"machine: {maquina['cores']} cores, {maquina['memory_gb']} GB, "
        f"load {maquina['loadavg_start']}"
        f" · Python {maquina['python']} · Django {maquina['django']} · PostgreSQL "
        f"{maquina['postgresql']} · Redis {maquina['redis']} · gunicorn {gun.descripcion} · "
        f"load tool {maquina['load_tool']}"
    )
    print(f"written: {args.salida} ({extra['duration_s']} s)")
    return 0


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
    segundos = 2.0 if t.segundos_http <= 5 else 4.0
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
    carga_inicial: tuple[float, float, float],
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
        "loadavg_start": [round(x, 2) for x in carga_inicial],
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
