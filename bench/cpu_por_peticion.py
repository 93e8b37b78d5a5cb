"""CPU cost per request of the HTTP hot paths, measured in-process (no server, no load tool).

    python -m bench.cpu_por_peticion                 # 2,000 requests per path, 3 rounds
    python -m bench.cpu_por_peticion -n 5000 --rondas 5
    python -m bench.cpu_por_peticion --perfil B2     # cProfile of one path (top functions)
    python -m bench.cpu_por_peticion --json cpu.json # also write the figures as JSON

`make bench` runs it once after the HTTP figures (its own database, `<bench db>_cpu`) and prints
its ratios beside the interleaved req/s ratios.

Wall-clock req/s on a shared, loaded machine are noise; the CPU time the application process
spends per request is not (much). This calls the production WSGI application
(`bench.settings`, `DEBUG` off) directly with a prebuilt WSGI environ — what gunicorn hands
it, minus gunicorn's own HTTP parsing — N times per path and reports `time.process_time()` per
request (the app's own CPU: Django, DRF, drivers; not PostgreSQL's nor Redis's) and the
wall time per request (adds the round trips to PostgreSQL and Redis). Paths, interleaved in
rounds so that a burst of load on the machine hits them all alike (the minimum over rounds
is reported):

- `B0`: the bare constant view (framework ceiling);
- `B0 insert`: the bare view doing `Evento.objects.create` + 302;
- `B1`: `GET /t/<codigo>` over 100 publicaciones, a random `X-Forwarded-For` per request;
- `B2`: `POST /api/v1/eventos/` with the staff token, one conversion with a fresh id.

It uses its own database, `<name>_cpu` (or BENCH_DATABASE_NAME), dropped and recreated, and a
fresh Redis key namespace deleted at the end; DATABASE_URL/REDIS_URL must point to PostgreSQL
and Redis, as for `python -m bench`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any


def _argumentos(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.cpu_por_peticion", description=__doc__)
    p.add_argument("-n", type=int, default=2000, help="requests per path and round")
    p.add_argument("--rondas", type=int, default=3, help="rounds (the minimum is reported)")
    p.add_argument("--solo", default="", help="comma-separated paths (B0,B0i,B1,B2)")
    p.add_argument("--perfil", default="", help="cProfile this path (B0, B0i, B1 or B2)")
    p.add_argument("--calentar", type=int, default=200, help="warm-up requests per path")
    p.add_argument("--json", default="", help="also write the figures to this JSON file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _argumentos(argv)
    os.environ.setdefault(
        "BENCH_DATABASE_NAME",
        (os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] or "alpes") + "_cpu",
    )
    from bench import entorno

    try:
        ent = entorno.preparar()
    except entorno.ErrorEntorno as exc:
        print(f"cannot measure: {exc}", file=sys.stderr)
        return 2
    ent.env["REDIS_PREFIJO"] = f"cpu-{secrets.token_hex(4)}:"
    print(f"database {ent.nombre_bd!r}: drop, create, migrate", flush=True)
    entorno.recrear_bd(ent)
    os.environ.update(ent.env)
    try:
        return _medir(args)
    finally:
        entorno.limpiar_prefijo(ent.redis_url, ent.env["REDIS_PREFIJO"])


def _medir(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from bench import datos

    fx = datos.sembrar()
    app = WSGIHandler()
    marca = fx.http.marca_id
    prefijo = uuid.uuid4().hex[:8]
    contador = iter(range(10**9))
    ua = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Safari/537.36"
    )

    def entorno_wsgi(metodo: str, ruta: str, cuerpo: bytes = b"", **extra: str) -> dict[str, Any]:
        return {
            "REQUEST_METHOD": metodo,
            "PATH_INFO": ruta,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_USER_AGENT": ua,
            "wsgi.input": io.BytesIO(cuerpo),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(cuerpo)) if cuerpo else "",
            **extra,
        }

    def b0() -> dict[str, Any]:
        return entorno_wsgi("GET", "/bench/constante")

    def b0i() -> dict[str, Any]:
        return entorno_wsgi("GET", "/bench/insertar")

    def b1() -> dict[str, Any]:
        ip = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        return entorno_wsgi("GET", "/t/" + random.choice(fx.http.codigos), HTTP_X_FORWARDED_FOR=ip)

    def b2() -> dict[str, Any]:
        id_ = f"{prefijo}-0000-4000-8000-{next(contador):012x}"
        cuerpo = (
            f'{{"id":"{id_}","tipo":"conversion","marca":"{marca}","visitante_id":"v-{id_}",'
            '"valor":"49.90","moneda":"USD","metadata":{"canal":"bench","campania":"flash"}}'
        ).encode()
        return entorno_wsgi(
            "POST",
            "/api/v1/eventos/",
            cuerpo,
            CONTENT_TYPE="application/json",
            HTTP_AUTHORIZATION=f"Token {fx.token_staff}",
        )

    rutas: dict[str, tuple[str, Callable[[], dict[str, Any]], set[int]]] = {
        "B0": ("bare constant view", b0, {200}),
        "B0i": ("bare ORM-insert view + 302", b0i, {302}),
        "B1": ("GET /t/<codigo>", b1, {302}),
        "B2": ("POST /api/v1/eventos/", b2, {201}),
    }
    if args.solo:
        rutas = {k: v for k, v in rutas.items() if k in args.solo.split(",")}

    def respuesta(_estado: str, _cabeceras: list[tuple[str, str]], *_: Any) -> Any:
        respuesta.estado = int(_estado[:3])  # type: ignore[attr-defined]
        return None

    def llamar(hacer: Callable[[], dict[str, Any]], esperado: set[int]) -> None:
        cuerpo = app(hacer(), respuesta)  # type: ignore[arg-type]
        b"".join(cuerpo)
        if hasattr(cuerpo, "close"):
            cuerpo.close()
        if respuesta.estado not in esperado:  # type: ignore[attr-defined]
            raise SystemExit(f"unexpected status {respuesta.estado}")  # type: ignore[attr-defined]

    for _nombre, hacer, esperado in rutas.values():  # warm up: imports, caches, connections
        for _ in range(args.calentar):
            llamar(hacer, esperado)

    if args.perfil:
        _nombre, hacer, esperado = rutas[args.perfil]
        perfil = cProfile.Profile(time.process_time)  # CPU, not waits
        perfil.enable()
        for _ in range(args.n):
            llamar(hacer, esperado)
        perfil.disable()
        pstats.Stats(perfil).sort_stats("tottime").print_stats(35)
        pstats.Stats(perfil).sort_stats("cumulative").print_stats(45)
        return 0

    cpu: dict[str, list[float]] = {k: [] for k in rutas}
    pared: dict[str, list[float]] = {k: [] for k in rutas}
    for _ in range(args.rondas):
        for clave, (_nombre, hacer, esperado) in rutas.items():
            c0, p0 = time.process_time(), time.perf_counter()
            for _ in range(args.n):
                llamar(hacer, esperado)
            cpu[clave].append((time.process_time() - c0) * 1000 / args.n)
            pared[clave].append((time.perf_counter() - p0) * 1000 / args.n)
    connection.close()

    base = min(cpu["B0"]) if "B0" in cpu else None
    base_i = min(cpu["B0i"]) if "B0i" in cpu else None
    print(f"\n{args.n} requests x {args.rondas} rounds per path; loadavg {os.getloadavg()}")
    print(f"{'path':<30} {'CPU ms/req':>10} {'(median)':>9} {'wall ms':>8}  ratio")
    for clave, (nombre, _, _) in rutas.items():
        c = min(cpu[clave])
        textos = []
        if base:
            textos.append(f"B0/x = {base / c:.2f}")
        if base_i:
            textos.append(f"B0i/x = {base_i / c:.2f}")
        print(
            f"{nombre:<30} {c:>10.3f} {statistics.median(cpu[clave]):>9.3f} "
            f"{min(pared[clave]):>8.3f}  {'  '.join(textos)}"
        )
    print(
        "\nratio = CPU of the baseline / CPU of the path: the req/s ratio the path would reach "
        "if the app's CPU were the only cost (B1 target 0.50 of B0, B2 target 1.0 of B0i)."
    )
    if args.json:
        _escribir_json(args, rutas, cpu, pared)
    return 0


def _escribir_json(
    args: argparse.Namespace,
    rutas: dict[str, Any],
    cpu: dict[str, list[float]],
    pared: dict[str, list[float]],
) -> None:
    """The minimum CPU and wall ms per request of each path, and the ratios they predict
    (baseline CPU ÷ path CPU: B1 against B0, B2 against B0i)."""
    minimo = {k: round(min(v), 4) for k, v in cpu.items()}

    def ratio(base: str, ruta: str) -> float | None:
        if base not in minimo or ruta not in minimo or not minimo[ruta]:
            return None
        return round(minimo[base] / minimo[ruta], 4)

    datos = {
        "requests_per_round": args.n,
        "rounds": args.rondas,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "paths": {k: rutas[k][0] for k in rutas},
        "cpu_ms_per_request": minimo,
        "cpu_ms_per_request_median": {k: round(statistics.median(v), 4) for k, v in cpu.items()},
        "wall_ms_per_request": {k: round(min(v), 4) for k, v in pared.items()},
        "cpu_ratios": {"B1": ratio("B0", "B1"), "B2": ratio("B0i", "B2")},
    }
    with open(args.json, "w") as f:
        json.dump(datos, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
