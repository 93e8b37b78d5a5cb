"""How each figure is measured. Every function returns a `Figura` — measured, or `n/a` with
the reason when the endpoint or command it needs is not there."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management import get_commands
from django.db import connection
from django.utils import timezone

from bench import datos, perfil
from bench.carga import USER_AGENT
from bench.entorno import limpiar_prefijo
from bench.informe import Figura
from bench.procesos import Gunicorn, WorkerCelery, estado_kb, lanzar, terminar


@dataclass
class Tamanos:
    """Durations and data sizes of one run (full or `--quick`). HTTP figures run as
    `rebanadas` pairs of slices of `segundos_rebanada` each, interleaved with their baseline
    (`bench.intercalado`)."""

    rebanadas: int
    segundos_rebanada: float
    calentamiento: float
    b4_conversiones: int
    b4_lag_segundos: float
    b4_lag_tasa: int
    b5_conversiones: int
    b5_plazo: float
    b6_eventos: int
    b6_peticiones: int
    plazo_drenaje: float

    @classmethod
    def de(cls, *, rapido: bool) -> Tamanos:
        if rapido:
            return cls(3, 2, 1, 2_000, 3, 1_000, 20_000, 25, 50_000, 20, 20)
        return cls(6, 5, 3, 60_000, 20, 1_000, 1_000_000, 600, 1_000_000, 20, 180)


@dataclass
class Contexto:
    herramienta: str
    gunicorn: Gunicorn
    env: dict[str, str]
    logs: Path
    fx: datos.Fixtures
    t: Tamanos
    conexiones: int = 32
    hilos_carga: int = 2
    perfiles: Path | None = None  # where py-spy flame graphs go (`--perfil`)


# --- HTTP helpers ----------------------------------------------------------------------------


def sondear(
    ctx: Contexto,
    metodo: str,
    ruta: str,
    *,
    cabeceras: dict[str, str] | None = None,
    cuerpo: str | None = None,
    completo: bool = False,
) -> tuple[int, str]:
    """One request (no redirects followed): status and the body (its start unless
    `completo`)."""
    con = http.client.HTTPConnection("127.0.0.1", ctx.gunicorn.puerto, timeout=60)
    try:
        h = {"User-Agent": USER_AGENT, **(cabeceras or {})}
        if cuerpo is not None:
            h["Content-Type"] = "application/json"
        con.request(metodo, ruta, body=cuerpo.encode() if cuerpo else None, headers=h)
        resp = con.getresponse()
        texto = resp.read().decode(errors="replace")
        return resp.status, texto if completo else texto[:300]
    finally:
        con.close()


def no_disponible_http(f: Figura, que: str, estado: int, cuerpo: str) -> Figura:
    return f.no_disponible(f"{que} answered {estado} (not available): {cuerpo[:120]!r}")


# --- Peak RSS of the gunicorn workers after B1–B3 ----------------------------------------------


def rss_gunicorn(ctx: Contexto) -> Figura:
    """The largest RSS high-water mark (`VmHWM`) of the gunicorn workers once B0–B3 have run
    on them (one server for the whole run, no `--max-requests`: the same worker processes)."""
    f = Figura(
        "RSS",
        "peak RSS of one gunicorn worker after B1–B3",
        "MB",
        objetivo=150,
        objetivo_texto="≤ 150 MB",
    )
    pids = ctx.gunicorn.pids_workers()
    picos = {pid: estado_kb(pid, "VmHWM") / 1024 for pid in pids}
    picos = {pid: mb for pid, mb in picos.items() if mb > 0}
    if not picos:
        return f.no_disponible("no gunicorn worker's /proc/<pid>/status could be read")
    f.valor = max(picos.values())
    f.detalle = {
        "workers": len(picos),
        "peak_rss_mb_per_worker": sorted(round(mb, 1) for mb in picos.values()),
        "rss_now_mb_per_worker": sorted(round(estado_kb(pid, "VmRSS") / 1024, 1) for pid in picos),
        "source": "/proc/<worker pid>/status VmHWM",
    }
    f.cumple = f.valor <= 150
    return f


# --- B4: attribution -------------------------------------------------------------------------


def _receptor_conectado() -> bool:
    from eventos_medios.signals import eventos_registrados

    return bool(eventos_registrados.has_listeners())


def _senalar(ids: list[Any]) -> None:
    """What ingestion does after commit: announce the new events to attribution."""
    from eventos_medios.signals import eventos_registrados

    eventos_registrados.send(sender=_senalar, evento_ids=ids)


def _pendientes(marca_id: str, prefijo: str) -> int:
    return datos.contar(
        f"SELECT count(*) FROM {datos.TABLA_EVENTOS} WHERE marca_id = %(m)s "
        "AND tipo = 'conversion' AND estado_atribucion = 'pendiente' "
        "AND visitante_id LIKE %(p)s",
        {"m": marca_id, "p": prefijo + "%"},
    )


def b4(ctx: Contexto) -> dict[str, Figura]:
    fa, fb = b4_atribucion(ctx, WorkerCelery(env=ctx.env, logs=ctx.logs))
    return {"B4": fa, "B4_lag": fb}


def b4_atribucion(ctx: Contexto, worker: WorkerCelery) -> tuple[Figura, Figura]:
    """(a) throughput of one worker process draining preloaded conversions; (b) lag at a
    sustained rate of conversions inserted and announced as ingestion does."""
    fa = Figura(
        "B4",
        "attribution, 1 worker process (3 touchpoints)",
        "conv/s",
        objetivo=3000,
        objetivo_texto="≥ 3,000 conv/s; lag p99 ≤ 1 s at 1,000/s",
    )
    fb = Figura(
        "B4",
        f"attribution lag at {ctx.t.b4_lag_tasa:,} conv/s",
        "ms p99",
        objetivo=1000,
        objetivo_texto="p99 ≤ 1,000 ms",
    )
    if not _receptor_conectado():
        motivo = "no receiver of eventos_registrados: attribution not available"
        return fa.no_disponible(motivo), fb.no_disponible(motivo)
    prog = ctx.fx.atribucion
    # What B1–B3 left pending (and their queued drains) is not B4's work: set it aside so the
    # worker starts on an empty queue.
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {datos.TABLA_EVENTOS} SET estado_atribucion = 'sin_atribucion' "
            "WHERE estado_atribucion = 'pendiente'"
        )
    limpiar_prefijo(ctx.env["REDIS_URL"], ctx.env.get("REDIS_PREFIJO", ""))
    worker.iniciar()
    try:
        # With `--perfil`: py-spy on the worker and its prefork child, one profile per part.
        pid = worker.proc.pid if worker.proc is not None else None
        g = perfil.grabar(ctx.perfiles, "B4-atribucion", pid, env=ctx.env, logs=ctx.logs)
        try:
            _b4_rendimiento(ctx, fa, prog)
        finally:
            perfil.terminar_grabacion(g)
        g = perfil.grabar(ctx.perfiles, "B4-retraso", pid, env=ctx.env, logs=ctx.logs)
        try:
            _b4_retraso(ctx, fb, prog)
        finally:
            perfil.terminar_grabacion(g)
    finally:
        worker.detener()
    fa.p50_ms, fa.p99_ms = fb.p50_ms, fb.p99_ms
    if fa.valor is not None:
        fa.cumple = fa.valor >= 3000 and (fb.cumple is True)
    return fa, fb


def _b4_rendimiento(ctx: Contexto, f: Figura, prog: datos.Programa) -> None:
    n = ctx.t.b4_conversiones
    ahora = timezone.now()
    datos.generar_conversiones(
        programa=prog,
        n=n,
        estado="pendiente",
        conversion_desde=ahora - dt.timedelta(days=1),
        conversion_paso=dt.timedelta(milliseconds=1),
        clic_antes=dt.timedelta(hours=1),
        prefijo="b4a-",
    )
    datos.analizar()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id FROM {datos.TABLA_EVENTOS} WHERE marca_id = %(m)s "
            "AND tipo = 'conversion' AND estado_atribucion = 'pendiente' "
            "AND visitante_id LIKE 'b4a-%%'",
            {"m": prog.marca_id},
        )
        ids = [fila[0] for fila in cur.fetchall()]
    t0 = time.perf_counter()
    _senalar(ids)
    restantes = n
    limite = t0 + ctx.t.plazo_drenaje
    while time.perf_counter() < limite:
        restantes = _pendientes(prog.marca_id, "b4a-")
        if restantes == 0:
            break
        time.sleep(0.05)
    segundos = time.perf_counter() - t0
    hechas = n - restantes
    f.valor = hechas / segundos if segundos > 0 else None
    f.detalle.update({"conversions": n, "attributed": hechas, "seconds": round(segundos, 2)})
    f.detalle["credits_created"] = datos.contar(
        "SELECT (SELECT count(*) FROM comision_recompensa_comision c "
        f"JOIN {datos.TABLA_EVENTOS} e ON e.id = c.evento_id "
        "WHERE e.marca_id = %(m)s AND e.visitante_id LIKE 'b4a-%%') + "
        "(SELECT count(*) FROM comision_recompensa_recompensa r "
        f"JOIN {datos.TABLA_EVENTOS} e ON e.id = r.evento_id "
        "WHERE e.marca_id = %(m)s AND e.visitante_id LIKE 'b4a-%%')",
        {"m": prog.marca_id},
    )
    if restantes:
        f.notas.append(
            f"throughput: {restantes} of {n} conversions still pendiente after "
            f"{ctx.t.plazo_drenaje:.0f}s; the figure is the partial rate"
        )


def _b4_retraso(ctx: Contexto, f: Figura, prog: datos.Programa) -> None:
    tasa = ctx.t.b4_lag_tasa
    total = int(tasa * ctx.t.b4_lag_segundos)
    ahora = timezone.now()
    # Touchpoints first (3 clicks per future conversion), as a flash sale's clicks would be.
    datos.generar_conversiones(
        programa=prog,
        n=total,
        estado="pendiente",
        conversion_desde=ahora,
        conversion_paso=dt.timedelta(0),
        clic_antes=dt.timedelta(minutes=10),
        prefijo="b4b-",
        solo_clics=True,
    )
    tick = 0.1
    por_tick = max(int(tasa * tick), 1)
    enviadas = 0
    t0 = time.perf_counter()
    siguiente = t0
    with connection.cursor() as cur:
        while enviadas < total:
            fin = min(enviadas + por_tick, total)
            cur.execute(
                f"""
                INSERT INTO {datos.TABLA_EVENTOS} ({", ".join(datos.COLUMNAS_EVENTO)})
                SELECT gen_random_uuid(), 'conversion', clock_timestamp(), clock_timestamp(),
                       %(m)s, NULL, NULL, NULL, 'b4b-' || i, '', 49.90, 'USD', '',
                       '{{}}'::jsonb, '', 'bench', 'pendiente', '', '', NULL, 'marca', ''
                FROM generate_series(%(i0)s::int, %(i1)s::int) AS i
                RETURNING id
                """,
                {"m": prog.marca_id, "i0": enviadas + 1, "i1": fin},
            )
            _senalar([fila[0] for fila in cur.fetchall()])
            enviadas = fin
            siguiente += tick
            espera = siguiente - time.perf_counter()
            if espera > 0:
                time.sleep(espera)
    duracion = time.perf_counter() - t0
    limite = time.perf_counter() + ctx.t.plazo_drenaje
    restantes = total
    while time.perf_counter() < limite:
        restantes = _pendientes(prog.marca_id, "b4b-")
        if restantes == 0:
            break
        time.sleep(0.05)
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT count(*), count(atribuido_en),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY atribuido_en - recibido_en),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY atribuido_en - recibido_en)
            FROM {datos.TABLA_EVENTOS}
            WHERE marca_id = %(m)s AND tipo = 'conversion' AND visitante_id LIKE 'b4b-%%'
              AND estado_atribucion <> 'pendiente'
            """,
            {"m": prog.marca_id},
        )
        fila = cur.fetchone()
    assert fila is not None
    hechas, con_fecha, p50, p99 = fila
    f.detalle.update(
        {
            "conversions": total,
            "achieved_rate": round(total / duracion, 1) if duracion else None,
            "attributed": hechas,
            "still_pending": restantes,
        }
    )
    if hechas and not con_fecha:
        f.no_disponible("the engine does not set atribuido_en: lag cannot be measured")
        return
    if not hechas:
        f.no_disponible(f"no conversion attributed within {ctx.t.plazo_drenaje:.0f}s")
        return
    f.p50_ms = p50.total_seconds() * 1000
    f.p99_ms = p99.total_seconds() * 1000
    f.valor = f.p99_ms
    f.cumple = f.p99_ms <= 1000 and restantes == 0 and total / duracion >= 0.9 * tasa
    if total / duracion < 0.9 * tasa:
        f.notas.append(
            f"lag: the benchmark could only drive {total / duracion:.0f} conversions/s "
            f"(asked {tasa}/s); the lag was measured at that rate"
        )
    if restantes:
        f.notas.append(f"lag: {restantes} of {total} conversions never attributed in time")


# --- B5: re-attribution ----------------------------------------------------------------------


def b5_reatribuir(ctx: Contexto) -> Figura:
    f = Figura(
        "B5",
        "manage.py reatribuir",
        "events/s",
        objetivo=4000,
        objetivo_texto="≥ 4,000 ev/s, peak RSS ≤ 300 MB",
    )
    if "reatribuir" not in get_commands():
        return f.no_disponible("manage.py reatribuir does not exist yet")
    prog = ctx.fx.reatribucion
    n = ctx.t.b5_conversiones
    t_carga = time.perf_counter()
    datos.generar_conversiones(
        programa=prog,
        n=n,
        estado="atribuido",
        conversion_desde=dt.datetime(2025, 3, 20, tzinfo=dt.UTC),
        conversion_paso=dt.timedelta(seconds=0.5),
        clic_antes=dt.timedelta(days=8),
        prefijo="b5-",
    )
    datos.analizar()
    f.detalle["load_seconds"] = round(time.perf_counter() - t_carga, 1)
    salida = ctx.logs / "reatribuir.log"
    cmd = [
        sys.executable,
        "-m",
        "bench.medir_rss",
        "--plazo",
        str(ctx.t.b5_plazo),
        "--salida",
        str(salida),
        *_perfil_reatribuir(ctx),
        "--",
        sys.executable,
        "manage.py",
        "reatribuir",
        "--desde",
        "2025-03-20",
        "--hasta",
        "2025-03-31",
        "--marca",
        prog.marca_id,
    ]
    medida_log = ctx.logs / "medir_rss.out"
    with medida_log.open("wb") as out:
        proc = lanzar(cmd, env=ctx.env, stdout=out.fileno())
        try:
            proc.wait(timeout=ctx.t.b5_plazo + 60)
        finally:
            terminar(proc)
    try:
        medida = json.loads(medida_log.read_text().strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return f.no_disponible(f"reatribuir could not be measured: {medida_log.read_text()!r}")
    if ctx.perfiles is not None:
        perfil.escribir_resumen(
            ctx.perfiles / "B5-reatribuir.txt",
            ctx.perfiles / "B5-reatribuir-top.txt",
            titulo="B5-reatribuir",
        )
    procesados = _procesados_reatribucion()
    f.detalle.update(
        {
            "conversions": n,
            "seconds": medida["segundos"],
            "peak_rss_mb": medida["pico_rss_mb"],
            "exit_code": medida["rc"],
            "processed_by_command": procesados,
        }
    )
    if medida["rc"] != 0 and not medida["agotado"]:
        cola = " | ".join(salida.read_text(errors="replace").strip().splitlines()[-3:])
        return f.no_disponible(f"reatribuir exited with code {medida['rc']}: {cola[:200]}")
    hechos, segundos = n, medida["segundos"]
    if medida["agotado"]:
        hechos, segundos = procesados or 0, medida["segundos"]
        progreso = _ultimo_progreso(salida.read_text(errors="replace"))
        if progreso is not None and progreso[0] >= hechos:
            hechos, segundos = progreso
        f.notas.append(
            f"reatribuir stopped after {ctx.t.b5_plazo:.0f}s with {hechos} of {n} processed: "
            "partial rate"
        )
    f.valor = hechos / segundos if segundos else None
    f.detalle["peak_rss_mb"] = medida["pico_rss_mb"]
    f.notas.append(f"reatribuir peak RSS {medida['pico_rss_mb']:.0f} MB (target ≤ 300 MB)")
    if f.valor is not None:
        f.cumple = f.valor >= 4000 and medida["pico_rss_mb"] <= 300 and not medida["agotado"]
    return f


def _perfil_reatribuir(ctx: Contexto) -> list[str]:
    """With `--perfil`: `bench.medir_rss` attaches py-spy to the command it runs."""
    ejecutable = perfil.py_spy()
    if ctx.perfiles is None or ejecutable is None:
        return []
    ctx.perfiles.mkdir(parents=True, exist_ok=True)
    return ["--py-spy", ejecutable, "--perfil", str(ctx.perfiles / "B5-reatribuir")]


def _ultimo_progreso(texto: str) -> tuple[int, float] | None:
    """(events done, seconds) from the last progress-bar update (`1234/20000 [00:27`)."""
    encontrados = re.findall(r"(\d+)/\d+ \[(?:(\d+):)?(\d+):(\d+)", texto)
    if not encontrados:
        return None
    hechos, horas, minutos, segundos = encontrados[-1]
    total = int(horas or 0) * 3600 + int(minutos) * 60 + int(segundos)
    return (int(hechos), float(total)) if total else None


def _procesados_reatribucion() -> int | None:
    try:
        from comision_recompensa.models import EjecucionReatribucion

        ultima = EjecucionReatribucion.objects.order_by("-iniciada_en").first()
    except Exception:  # noqa: BLE001 - informative only
        return None
    return ultima.eventos_procesados if ultima else None


# --- B6: partner summary report --------------------------------------------------------------


def b6_informe(ctx: Contexto) -> Figura:
    f = Figura(
        "B6",
        "partner summary report",
        "ms p50",
        objetivo=20,
        objetivo_texto="≤ 20 ms",
    )
    ruta = "/api/v1/reportes/resumen/"
    cab = {"Authorization": f"Token {ctx.fx.token_socio_informe}"}
    estado, cuerpo = sondear(ctx, "GET", ruta, cabeceras=cab)
    if estado != 200:
        return no_disponible_http(f, f"GET {ruta}", estado, cuerpo)
    prog = ctx.fx.informe
    t_carga = time.perf_counter()
    datos.generar_informe(programa=prog, n=ctx.t.b6_eventos)
    datos.analizar(vacuum=True)
    # The report rollup, as the beat task keeps it in steady state (past days summarised;
    # today is read live). Timed apart: it is background work, not the request's.
    t_rollup = time.perf_counter()
    from comision_recompensa.reportes.resumen_diario import resumen_refrescar

    f.detalle["rollup"] = resumen_refrescar()
    f.detalle["rollup_seconds"] = round(time.perf_counter() - t_rollup, 1)
    f.detalle["load_seconds"] = round(time.perf_counter() - t_carga, 1)
    tiempos: list[float] = []
    for i in range(ctx.t.b6_peticiones + 1):
        t0 = time.perf_counter()
        estado, cuerpo = sondear(ctx, "GET", ruta, cabeceras=cab)
        if estado != 200:
            return no_disponible_http(f, f"GET {ruta}", estado, cuerpo)
        if i:  # the first request warms the worker up
            tiempos.append((time.perf_counter() - t0) * 1000)
    f.valor = statistics.median(tiempos)
    _, completo = sondear(ctx, "GET", ruta, cabeceras=cab, completo=True)
    try:
        f.detalle["events_reported"] = json.loads(completo).get("eventos_total")
    except (ValueError, AttributeError):
        f.detalle["events_reported"] = None
    f.p50_ms = f.valor
    f.p99_ms = max(tiempos)
    f.detalle.update({"events": ctx.t.b6_eventos, "requests": len(tiempos)})
    f.base, f.base_nombre = _sql_informe(prog.socio_ids[0]), "raw SQL"
    f.cumple = f.valor <= 20
    return f


def _sql_informe(socio_id: str) -> float:
    """Baseline: the same totals computed with two hand-written GROUP BY queries (p50 ms)."""
    tiempos = []
    with connection.cursor() as cur:
        for _ in range(6):
            t0 = time.perf_counter()
            cur.execute(
                f"SELECT tipo, count(*) FROM {datos.TABLA_EVENTOS} WHERE socio_id = %s "
                "GROUP BY tipo",
                [socio_id],
            )
            cur.fetchall()
            cur.execute(
                "SELECT estado, moneda, sum(monto) FROM comision_recompensa_comision "
                "WHERE socio_id = %s GROUP BY estado, moneda",
                [socio_id],
            )
            cur.fetchall()
            tiempos.append((time.perf_counter() - t0) * 1000)
    return statistics.median(tiempos[1:])


def medir(f: Callable[[], Figura], clave: str, nombre: str) -> Figura:
    """Run one measurement; an unexpected failure becomes an n/a with the reason."""
    try:
        return f()
    except Exception as exc:  # noqa: BLE001 - one broken figure must not lose the others
        import traceback

        traceback.print_exc()
        return Figura(clave, nombre, "").no_disponible(
            f"measurement failed: {type(exc).__name__}: {exc}"
        )
