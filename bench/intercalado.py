"""B0–B3: each HTTP figure interleaved with its baseline, in short slices on the same server.

A neighbour's load on a shared machine changes within minutes: a baseline measured for 15 s
and a figure measured a minute later do not see the same machine. So each comparison runs as
`rebanadas` pairs of short slices of `segundos_rebanada` each — baseline then figure, then
figure then baseline, and so on (the order alternates, so a steady drift weighs on both sides
alike) — and reports:

- the median of the per-pair ratios (figure ÷ baseline), their min–max and relative spread
  ((max − min) / median);
- each side's median rate and median p50/p99 over its slices;
- the median of the per-pair p99 ratios (B1's target compares p99s in the same slices);
- every slice's own figures and the 1-minute load average when it started.

Between slices the harness waits until every gunicorn worker is idle, so requests still in
flight when a slice ends (a batch of 1,000 events can take seconds) never run into the next.
With `--perfil`, one more slice per side runs under py-spy after the measured ones: profiles
are recorded, the measured figures are not disturbed by the sampling.

The three comparisons: B1 `GET /t/<codigo>` against the bare constant view (B0), B2
`POST /api/v1/eventos/` against the ORM-insert view (B0 insert), B3 batches of 1,000 against a
psycopg COPY of rows shaped like B3's (B0 COPY), copied in chunks for the same slice length.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from bench import datos, perfil
from bench.carga import USER_AGENT, Receta, Resultado, ejecutar
from bench.figuras import Contexto, no_disponible_http, sondear
from bench.informe import Figura

TAMANO_LOTE = 1000
TROZO_COPIA = 2000  # rows per COPY statement of the baseline (one transaction each)

Rebanada = dict[str, Any]


@dataclass
class Lado:
    """One side of a comparison: how to run one slice of it (→ its record, with `rate`)."""

    nombre: str
    rebanada: Callable[[float], Rebanada]
    perfil: str = ""  # name of its flame graph with `--perfil` ("" = not profiled)


# --- The slices ------------------------------------------------------------------------------


def intercalar(ctx: Contexto, base: Lado, figura: Lado | None, *, segundos: float) -> list[Any]:
    """Warm both sides up, then run the pairs of slices. Without `figura` (its endpoint is
    missing) the baseline still runs its slices, so B0 is always measured."""
    lados = [("baseline", base)] + ([("figure", figura)] if figura else [])
    for _, lado in lados:
        if ctx.t.calentamiento:
            lado.rebanada(ctx.t.calentamiento)
            ctx.gunicorn.esperar_reposo()
    pares: list[dict[str, Any]] = []
    for i in range(ctx.t.rebanadas):
        orden = lados if i % 2 == 0 else list(reversed(lados))
        par: dict[str, Any] = {"slice": i + 1, "first": orden[0][0]}
        for etiqueta, lado in orden:
            carga_1m = round(os.getloadavg()[0], 2)
            registro = lado.rebanada(segundos)
            registro["loadavg_1m"] = carga_1m
            registro["settle_s"] = round(ctx.gunicorn.esperar_reposo(), 2)
            par[etiqueta] = registro
        if figura is not None:
            par["ratio"] = _cociente(par["figure"].get("rate"), par["baseline"].get("rate"))
            par["p99_ratio"] = _cociente(par["figure"].get("p99_ms"), par["baseline"].get("p99_ms"))
        pares.append(par)
    for _, lado in lados:
        _rebanada_perfilada(ctx, lado, segundos)
    return pares


def _rebanada_perfilada(ctx: Contexto, lado: Lado, segundos: float) -> None:
    """With `--perfil`: one extra slice (not counted) with py-spy on every gunicorn worker."""
    if ctx.perfiles is None or not lado.perfil or ctx.gunicorn.proc is None:
        return
    segundos = max(segundos, 5)
    g = perfil.grabar(
        ctx.perfiles,
        lado.perfil,
        ctx.gunicorn.proc.pid,
        env=ctx.env,
        logs=ctx.logs,
        segundos=segundos,
    )
    try:
        lado.rebanada(segundos)
    finally:
        perfil.terminar_grabacion(g)
        ctx.gunicorn.esperar_reposo()


def _cociente(a: float | None, b: float | None) -> float | None:
    return round(a / b, 4) if a is not None and b else None


def _mediana(valores: list[Any]) -> float | None:
    numeros = [v for v in valores if v is not None]
    return statistics.median(numeros) if numeros else None


def _llenar(base: Figura, f: Figura | None, pares: list[dict[str, Any]]) -> None:
    """Medians, ratios and slices into the baseline's and the figure's `Figura`."""
    lado_base = [p["baseline"] for p in pares]
    base.valor = _mediana([r.get("rate") for r in lado_base])
    base.p50_ms = _mediana([r.get("p50_ms") for r in lado_base])
    base.p99_ms = _mediana([r.get("p99_ms") for r in lado_base])
    base.rebanadas = lado_base
    _sumar(base, lado_base)
    if f is None:
        return
    lado_fig = [p["figure"] for p in pares]
    f.valor = _mediana([r.get("rate") for r in lado_fig])
    f.p50_ms = _mediana([r.get("p50_ms") for r in lado_fig])
    f.p99_ms = _mediana([r.get("p99_ms") for r in lado_fig])
    f.base = base.valor
    f.base_p50_ms, f.base_p99_ms = base.p50_ms, base.p99_ms
    ratios = [p["ratio"] for p in pares if p.get("ratio") is not None]
    if ratios:
        f.ratio_rebanadas = statistics.median(ratios)
        f.ratio_min, f.ratio_max = min(ratios), max(ratios)
    f.p99_ratio = _mediana([p.get("p99_ratio") for p in pares])
    f.rebanadas = pares
    _sumar(f, lado_fig)


def _sumar(f: Figura, registros: list[Rebanada]) -> None:
    """Totals over the slices in `details`, and a note when requests failed."""
    for campo in ("requests", "non_2xx_3xx", "socket_errors", "rows_stored", "rows"):
        if any(campo in r for r in registros):
            f.detalle[campo] = sum(r.get(campo, 0) for r in registros)
    f.detalle["seconds"] = round(sum(r.get("seconds", 0) for r in registros), 2)
    pedidas = f.detalle.get("requests", 0)
    fallidas = f.detalle.get("non_2xx_3xx", 0) + f.detalle.get("socket_errors", 0)
    if pedidas and fallidas > 0.01 * pedidas:
        f.notas.append(
            f"{f.detalle['non_2xx_3xx']} non-2xx/3xx answers and {f.detalle['socket_errors']} "
            f"socket errors out of {pedidas} requests: the figure counts successful requests only"
        )


# --- Sides -----------------------------------------------------------------------------------


def _tasa_exitosa(r: Resultado) -> float:
    if r.peticiones == 0 or r.segundos <= 0:
        return 0.0
    return r.rps * r.exitosas / r.peticiones


def _registro_http(r: Resultado) -> Rebanada:
    return {
        "rate": round(_tasa_exitosa(r), 2),
        "p50_ms": r.p50_ms,
        "p99_ms": r.p99_ms,
        "requests": r.peticiones,
        "successful": r.exitosas,
        "seconds": round(r.segundos, 2),
        "non_2xx_3xx": r.no_2xx_3xx,
        "socket_errors": r.errores_socket,
    }


def lado_http(
    ctx: Contexto,
    nombre: str,
    receta: Receta,
    *,
    contar: Callable[[], int] | None = None,
    conexiones: int | None = None,
    perfil_nombre: str = "",
) -> Lado:
    """A side driven by the load generator; `contar` counts the rows it stores, so that an
    acknowledged request that stored nothing shows (`rows_stored` per slice)."""

    def rebanada(segundos: float) -> Rebanada:
        antes = contar() if contar else 0
        r = ejecutar(
            ctx.herramienta,
            receta.nueva(),
            base=ctx.gunicorn.base,
            segundos=segundos,
            conexiones=conexiones or ctx.conexiones,
            hilos=ctx.hilos_carga,
            env=ctx.env,
            logs=ctx.logs,
        )
        registro = _registro_http(r)
        if contar:
            registro["rows_stored"] = contar() - antes
        return registro

    return Lado(nombre, rebanada, perfil_nombre)


def _contar_eventos(marca_id: str, tipo: str) -> int:
    return datos.contar(
        f"SELECT count(*) FROM {datos.TABLA_EVENTOS} WHERE marca_id = %(m)s AND tipo = %(t)s",
        {"m": marca_id, "t": tipo},
    )


def _filas_orm() -> int:
    return datos.contar(f"SELECT count(*) FROM {datos.TABLA_EVENTOS} WHERE marca_id IS NULL")


# --- B1 --------------------------------------------------------------------------------------


def b1_tracking(ctx: Contexto) -> dict[str, Figura]:
    base = Figura("B0", "bare view (constant)", "req/s")
    f = Figura(
        "B1",
        "GET /t/<codigo>",
        "req/s",
        objetivo=0.50,
        objetivo_texto="≥ 0.50×, p99 ≤ 2× bare p99, committed",
    )
    lado_base = lado_http(
        ctx,
        "bare view",
        Receta("GET", ["/bench/constante"], {"User-Agent": USER_AGENT}),
        perfil_nombre="B0-constante",
    )
    codigos = ctx.fx.http.codigos
    marca = ctx.fx.http.marca_id
    estado, cuerpo = sondear(ctx, "GET", f"/t/{codigos[0]}")
    lado_fig: Lado | None = None
    if estado == 302:
        receta = Receta(
            "GET", [f"/t/{c}" for c in codigos], {"User-Agent": USER_AGENT}, ip_aleatoria=True
        )
        lado_fig = lado_http(
            ctx,
            "GET /t/<codigo>",
            receta,
            contar=lambda: _contar_eventos(marca, "click"),
            perfil_nombre="B1-tracking",
        )
    else:
        no_disponible_http(f, "GET /t/<codigo>", estado, cuerpo)
    pares = intercalar(ctx, lado_base, lado_fig, segundos=ctx.t.segundos_rebanada)
    _llenar(base, f if lado_fig else None, pares)
    if lado_fig is None:
        return {"B0": base, "B1": f}
    f.base_nombre = "bare view"
    f.detalle["publicaciones"] = len(codigos)
    f.detalle["commit_check"] = _comprobar_commits(pares)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT estado_atribucion || coalesce(nullif(':' || motivo_descarte, ':'), ''), "
            f"count(*) FROM {datos.TABLA_EVENTOS} WHERE marca_id = %s AND tipo = 'click' "
            "GROUP BY 1",
            [marca],
        )
        f.detalle["clicks_by_estado"] = dict(cur.fetchall())
    if f.ratio is not None:
        f.cumple = (
            f.ratio >= 0.50
            and f.p99_ratio is not None
            and f.p99_ratio <= 2.0
            and f.detalle["commit_check"]["every_click_committed"]
        )
    return {"B0": base, "B1": f}


def _comprobar_commits(pares: list[dict[str, Any]]) -> dict[str, Any]:
    """Every redirect the load generator counted has its row committed when the slice ends.

    The rows are counted right after the load stops, so a design that answers before the
    click is durable (a buffer flushed later) shows as fewer rows than redirects. A commit
    that lands within the few milliseconds between the last answer and the count cannot be
    told apart: this is a sanity check, the tests are the proof."""
    redirecciones = sum(p["figure"].get("successful", 0) for p in pares)
    filas = sum(p["figure"].get("rows_stored", 0) for p in pares)
    cortas = [
        p["slice"]
        for p in pares
        if p["figure"].get("rows_stored", 0) < p["figure"].get("successful", 0)
    ]
    return {
        "redirects_counted": redirecciones,
        "rows_stored": filas,
        "slices_short_of_rows": cortas,
        "every_click_committed": not cortas,
    }


# --- B2 --------------------------------------------------------------------------------------


def b2_evento(ctx: Contexto) -> dict[str, Figura]:
    base = Figura("B0", "bare view, ORM insert + 302", "req/s")
    f = Figura(
        "B2",
        "POST /api/v1/eventos/",
        "req/s",
        objetivo=1.0,
        objetivo_texto="≥ 1.0× ORM-insert view",
    )
    lado_base = lado_http(
        ctx,
        "ORM-insert view",
        Receta("GET", ["/bench/insertar"], {"User-Agent": USER_AGENT}),
        contar=_filas_orm,
        perfil_nombre="B0-insertar",
    )
    cab = {"Authorization": f"Token {ctx.fx.token_staff}", "Content-Type": "application/json"}
    marca = ctx.fx.http.marca_id
    prueba = json.dumps(
        {
            "tipo": "conversion",
            "marca": marca,
            "visitante_id": "v-sonda",
            "valor": "49.90",
            "moneda": "USD",
        }
    )
    estado, cuerpo = sondear(ctx, "POST", "/api/v1/eventos/", cabeceras=cab, cuerpo=prueba)
    lado_fig: Lado | None = None
    if estado in (200, 201, 202):
        lado_fig = lado_http(
            ctx,
            "POST /api/v1/eventos/",
            Receta("POST", ["/api/v1/eventos/"], cab, cuerpo="evento", marca=marca),
            contar=lambda: _contar_eventos(marca, "conversion"),
            perfil_nombre="B2-evento",
        )
    else:
        no_disponible_http(f, "POST /api/v1/eventos/", estado, cuerpo)
    pares = intercalar(ctx, lado_base, lado_fig, segundos=ctx.t.segundos_rebanada)
    _llenar(base, f if lado_fig else None, pares)
    if lado_fig is not None:
        f.base_nombre = "ORM-insert view"
        if f.ratio is not None:
            f.cumple = f.ratio >= 1.0
    return {"B0_orm_insert": base, "B2": f}


# --- B3 --------------------------------------------------------------------------------------


def lado_copia(ctx: Contexto) -> Lado:
    """The B3 baseline: psycopg COPY of event rows built client-side, in chunks of
    `TROZO_COPIA` rows (one statement and one transaction each) until the slice is over."""

    def rebanada(segundos: float) -> Rebanada:
        filas = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < segundos:
            datos.copiar_eventos(marca_id=ctx.fx.copia.marca_id, n=TROZO_COPIA)
            filas += TROZO_COPIA
        duracion = time.perf_counter() - t0
        return {"rate": round(filas / duracion, 1), "rows": filas, "seconds": round(duracion, 2)}

    return Lado("COPY", rebanada)


def _lado_lote(ctx: Contexto, cab: dict[str, str], conexiones: int) -> Lado:
    """B3 proper: the rate is the events the database received during the slice (by
    `recibido_en`), counted once the workers are idle again — a steady-state rate that stays
    right when a batch takes longer than the slice; the acknowledged rate is beside it."""
    marca = ctx.fx.http.marca_id
    receta = Receta("POST", ["/api/v1/eventos/lote/"], cab, cuerpo="lote", marca=marca)

    def rebanada(segundos: float) -> Rebanada:
        inicio = timezone.now()
        r = ejecutar(
            ctx.herramienta,
            receta.nueva(),
            base=ctx.gunicorn.base,
            segundos=segundos,
            conexiones=conexiones,
            hilos=min(ctx.hilos_carga, conexiones),
            env=ctx.env,
            logs=ctx.logs,
        )
        fin = timezone.now()
        ctx.gunicorn.esperar_reposo()
        en_ventana = _en_ventana(marca, inicio, fin)
        registro = _registro_http(r)
        registro.update(
            {
                "rate": round(en_ventana / (fin - inicio).total_seconds(), 1),
                "rows_in_window": en_ventana,
                "rows_stored": _en_ventana(marca, inicio, timezone.now()),
                "events_per_s_acknowledged": round(_tasa_exitosa(r) * TAMANO_LOTE, 1),
            }
        )
        return registro

    return Lado("POST /api/v1/eventos/lote/", rebanada, "B3-lote")


def _en_ventana(marca: str, inicio: dt.datetime, fin: dt.datetime) -> int:
    return datos.contar(
        f"SELECT count(*) FROM {datos.TABLA_EVENTOS} WHERE recibido_en >= %(a)s "
        "AND recibido_en < %(b)s AND marca_id = %(m)s AND tipo = 'conversion'",
        {"m": marca, "a": inicio, "b": fin},
    )


def b3_lote(ctx: Contexto) -> dict[str, Figura]:
    base = Figura("B0", "psycopg COPY of event rows", "rows/s")
    f = Figura(
        "B3",
        f"POST /api/v1/eventos/lote/ ({TAMANO_LOTE}/batch)",
        "events/s",
        objetivo=0.60,
        objetivo_texto="≥ 0.60× COPY",
    )
    cab = {"Authorization": f"Token {ctx.fx.token_staff}", "Content-Type": "application/json"}
    marca = ctx.fx.http.marca_id
    evento = {
        "tipo": "conversion",
        "marca": marca,
        "visitante_id": "v-sonda-lote",
        "valor": "49.90",
        "moneda": "USD",
    }
    prueba = json.dumps({"eventos": [evento, {**evento, "visitante_id": "v-sonda-lote-2"}]})
    estado, cuerpo = sondear(ctx, "POST", "/api/v1/eventos/lote/", cabeceras=cab, cuerpo=prueba)
    # One connection per gunicorn worker (thread): 32 × 1,000 events in flight would only
    # queue inside gunicorn.
    conexiones = max(ctx.gunicorn.workers * max(ctx.gunicorn.hilos, 1), 2)
    lado_fig: Lado | None = None
    if estado in (200, 201, 202):
        lado_fig = _lado_lote(ctx, cab, conexiones)
    else:
        no_disponible_http(f, "POST /api/v1/eventos/lote/", estado, cuerpo)
    # At least 3 s a slice, so that batches complete inside it even on a slow machine.
    segundos = max(ctx.t.segundos_rebanada, 3)
    pares = intercalar(ctx, lado_copia(ctx), lado_fig, segundos=segundos)
    _llenar(base, f if lado_fig else None, pares)
    base.detalle["rows_per_copy_statement"] = TROZO_COPIA
    if lado_fig is not None:
        f.base_nombre = "COPY"
        f.detalle["connections"] = conexiones
        f.detalle["rows_in_window"] = sum(p["figure"]["rows_in_window"] for p in pares)
        f.detalle["events_per_s_acknowledged"] = _mediana(
            [p["figure"]["events_per_s_acknowledged"] for p in pares]
        )
        if f.ratio is not None:
            f.cumple = f.ratio >= 0.60
    return {"B0_copy": base, "B3": f}
