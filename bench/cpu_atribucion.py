"""CPU cost of attribution (B4) and re-attribution (B5), measured in-process.

On a shared, loaded machine wall time says more about the neighbours than about the code, so
this script reports CPU seconds too: the Python process (`time.process_time`) and the
PostgreSQL backend serving it (utime + stime of its pid from ``/proc``, same host only).

    # B4: N pending conversions with 3 touchpoint clicks each (by visitante_id), attributed in
    # batches the way the worker drains them
    python -m bench.cpu_atribucion atribuir --n 20000 --lote 1000
    # the same, through eventos_atribuir(evento_ids=…) in chunks of --lote ids
    python -m bench.cpu_atribucion atribuir --n 20000 --via ids
    # B5: N `atribuido` conversions without credits (as `make bench` loads them), re-attributed;
    # --repetir times a second identical run (nothing to change: the comparison path)
    python -m bench.cpu_atribucion reatribuir --n 200000 --lote 2000 --repetir

Rows are loaded with COPY into the database of DATABASE_URL under a fresh marca (three partners
with asociaciones and rules, like `make bench`). `--limpiar` first empties the event and credit
tables: use it only on a throw-away database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
import uuid
from decimal import Decimal
from typing import Any

import django

HORA = dt.timedelta(hours=1)


def _cpu_backend(pid: int | None) -> float | None:
    """CPU seconds (user + system) used so far by the PostgreSQL backend `pid`, if readable."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            campos = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(campos[11]) + int(campos[12])) / os.sysconf("SC_CLK_TCK")


class Medidor:
    """Wall, process CPU and backend CPU between `__enter__` and `__exit__`."""

    perfil: Any = None  # a cProfile.Profile to run while measuring (--perfil)

    def __init__(self, backend_pid: int | None) -> None:
        self.backend_pid = backend_pid

    def __enter__(self) -> Medidor:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        self.b0 = _cpu_backend(self.backend_pid)
        if self.perfil is not None:
            self.perfil.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.perfil is not None:
            self.perfil.disable()
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0
        b1 = _cpu_backend(self.backend_pid)
        self.backend = None if b1 is None or self.b0 is None else b1 - self.b0

    def informe(self, n: int, unidad: str) -> dict[str, Any]:
        def tasa(segundos: float | None) -> float | None:
            return round(n / segundos) if segundos else None

        total = self.cpu + (self.backend or 0.0)
        return {
            unidad: n,
            "wall_s": round(self.wall, 2),
            "python_cpu_s": round(self.cpu, 2),
            "postgres_cpu_s": None if self.backend is None else round(self.backend, 2),
            f"{unidad}_per_wall_s": tasa(self.wall),
            f"{unidad}_per_python_cpu_s": tasa(self.cpu),
            f"{unidad}_per_cpu_s_python_plus_postgres": tasa(total),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


def _limpiar() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE comision_recompensa_cambioatribucion, comision_recompensa_ajuste, "
            "comision_recompensa_comision, comision_recompensa_recompensa, "
            "comision_recompensa_ejecucionreatribucion, eventos_medios_evento CASCADE"
        )


def _cargar(*, programa: Any, n: int, estado: str, desde: dt.datetime, paso: dt.timedelta) -> None:
    """COPY `n` conversions (state `estado`) and 3 clicks per conversion (same visitante, one
    per partner, 1–3 h before it, `atribuido`)."""
    from django.db import connection

    from bench.datos import COLUMNAS_EVENTO, TABLA_EVENTOS

    pubs = programa.publicacion_ids
    socios = programa.socio_ids
    ahora = dt.datetime.now(dt.UTC)
    columnas = ", ".join(COLUMNAS_EVENTO)
    prefijo = uuid.uuid4().hex[:8]
    valor = Decimal("49.90")
    with connection.cursor() as cur:
        raw = cur.cursor
        with raw.copy(f"COPY {TABLA_EVENTOS} ({columnas}) FROM STDIN") as copia:
            for i in range(n):
                ocurrido = desde + i * paso
                visitante = f"{prefijo}-{i}"
                for k in range(3):
                    j = (i + k) % len(pubs)
                    copia.write_row(
                        (
                            uuid.uuid4(),
                            "click",
                            ocurrido - (k + 1) * HORA,
                            ahora,
                            programa.marca_id,
                            pubs[j],
                            socios[j % len(socios)],
                            None,
                            visitante,
                            "",
                            None,
                            "",
                            "",
                            "{}",
                            "",
                            "bench",
                            "atribuido",
                            "",
                            "",
                            ahora,
                            "marca",  # origen_visitante: the brand vouches for the visitor
                            "",
                        )
                    )
                copia.write_row(
                    (
                        uuid.uuid4(),
                        "conversion",
                        ocurrido,
                        ahora,
                        programa.marca_id,
                        None,
                        None,
                        None,
                        visitante,
                        "",
                        valor,
                        "USD",
                        "",
                        "{}",
                        "",
                        "bench",
                        estado,
                        "",
                        "",
                        None,
                        "marca",
                        "",
                    )
                )
        cur.execute("ANALYZE eventos_medios_evento")


def _backend_pid() -> int | None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return int(cur.fetchone()[0])


def atribuir(args: argparse.Namespace, programa: Any) -> dict[str, Any]:
    from django.db import connection

    from comision_recompensa.atribucion.services import (
        eventos_atribuir,
        eventos_pendientes_atribuir,
    )

    _cargar(
        programa=programa,
        n=args.n,
        estado="pendiente",
        desde=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
        paso=dt.timedelta(milliseconds=1),
    )
    ids: list[Any] = []
    if args.via == "ids":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id FROM eventos_medios_evento WHERE marca_id = %s AND "
                "estado_atribucion = 'pendiente' ORDER BY recibido_en, id",
                [programa.marca_id],
            )
            ids = [f[0] for f in cur.fetchall()]
    pid = _backend_pid()
    hechos = 0
    with Medidor(pid) as m:
        if args.via == "ids":
            for inicio in range(0, len(ids), args.lote):
                hechos += eventos_atribuir(
                    evento_ids=ids[inicio : inicio + args.lote], lote=args.lote
                ).reclamados
        else:
            while True:
                r = eventos_pendientes_atribuir(lote=args.lote)
                hechos += r.reclamados
                if r.reclamados < args.lote:
                    break
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM comision_recompensa_comision) + "
            "(SELECT count(*) FROM comision_recompensa_recompensa)"
        )
        creditos = cur.fetchone()[0]
    return {
        "modo": "atribuir",
        "via": args.via,
        "lote": args.lote,
        "creditos": creditos,
        **m.informe(hechos, "conv"),
    }


def reatribuir(args: argparse.Namespace, programa: Any) -> list[dict[str, Any]]:
    from comision_recompensa.atribucion.reatribucion import (
        ParametrosReatribucion,
        reatribucion_ejecutar,
    )

    desde = dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
    paso = dt.timedelta(seconds=0.5)
    _cargar(programa=programa, n=args.n, estado="atribuido", desde=desde, paso=paso)
    parametros = ParametrosReatribucion(
        desde=desde, hasta=desde + args.n * paso, marca_id=uuid.UUID(programa.marca_id)
    )
    informes = []
    for vuelta in range(2 if args.repetir else 1):
        pid = _backend_pid()
        with Medidor(pid) as m:
            _, balance = reatribucion_ejecutar(parametros=parametros, tamano=args.lote)
        informes.append(
            {
                "modo": "reatribuir",
                "vuelta": vuelta + 1,
                "lote": args.lote,
                "creados": balance.creados,
                "cambiados": balance.cambiados,
                **m.informe(balance.eventos, "ev"),
            }
        )
    return informes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("modo", choices=("atribuir", "reatribuir"))
    p.add_argument("--n", type=int, default=20_000, help="conversions to load (default 20000)")
    p.add_argument("--lote", type=int, default=None, help="batch size")
    p.add_argument("--via", choices=("pendientes", "ids"), default="pendientes")
    p.add_argument("--repetir", action="store_true", help="reatribuir: time a second run too")
    p.add_argument("--perfil", metavar="FILE", help="write a cProfile of the timed part")
    p.add_argument("--limpiar", action="store_true", help="TRUNCATE events and credits first")
    args = p.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")
    # A development tool: the dev-only secrets (DEBUG is switched off below for the timing).
    os.environ.setdefault("DEBUG", "true")
    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        print("PostgreSQL only: set DATABASE_URL", file=sys.stderr)
        return 2
    settings.CELERY_TASK_ALWAYS_EAGER = True  # nothing is queued to a broker from here
    settings.DEBUG = False  # as in production: no query log growing with every statement
    from bench.datos import _programa

    if args.limpiar:
        _limpiar()
    if args.lote is None:
        args.lote = settings.ATRIBUCION_LOTE if args.modo == "atribuir" else 2000
    programa = _programa(f"CPU {args.modo} {uuid.uuid4().hex[:6]}", socios=3)

    if args.perfil:
        import cProfile

        Medidor.perfil = cProfile.Profile()
    resultado = atribuir(args, programa) if args.modo == "atribuir" else reatribuir(args, programa)
    if Medidor.perfil is not None:
        Medidor.perfil.dump_stats(args.perfil)
    for fila in resultado if isinstance(resultado, list) else [resultado]:
        print(json.dumps(fila))
    return 0


if __name__ == "__main__":
    sys.exit(main())
