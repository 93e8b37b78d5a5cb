"""Reproducible timing of the reports on a million events (figure B6 and the admin dashboard).

    DATABASE_URL=postgres://… python -m bench.tiempo_reportes [--eventos 1000000] [--veces 15]

Loads, once, `--eventos` events (default 1,000,000) for four partners of two marcas over the
last 30 days with COPY into the database of `DATABASE_URL` (never the benchmark's own one; a
marca named "tiempo-reportes" marks the data set, `--recargar` drops and reloads it), plus a
comision for each lead/conversion/venta. It then refreshes the daily rollup (as the beat task
does in production; `--sin-rollup` empties it instead, to time the live path) and times, in
process through Django's test client:

- `GET /api/v1/reportes/resumen/` as the biggest partner (its statement, about 70 % of rows);
- `GET /admin/tablero/` as staff (the default 30 days);
- as a same-run baseline, raw `SELECT count(*)` over the partner's events and over the 30 days.

It prints p50/p95 in ms. The machine may be shared: compare medians with the baseline of the
same run, not with absolute numbers from another day.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

MARCA_DATOS = "tiempo-reportes"
TIPOS = ["click"] * 6 + ["interaccion", "interaccion", "lead", "conversion", "venta"]


def _configurar() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")
    # A development tool: the dev-only secrets (DEBUG is switched off below for the timing).
    os.environ.setdefault("DEBUG", "true")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the timing means nothing elsewhere.")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS.append("testserver")


def _cargar(n: int) -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from comision_recompensa.models import Comision
    from eventos_medios.models import (
        Evento,
        Marca,
        MedioMarketing,
        Plataforma,
        Publicacion,
        Socio,
        TipoPublicacion,
        TipoSocio,
    )

    User = get_user_model()
    with transaction.atomic():
        marcas = [Marca.objects.create(nombre=MARCA_DATOS)]
        marcas.append(Marca.objects.create(nombre=f"{MARCA_DATOS} B"))
        socios, pubs = [], []
        for i in range(4):
            socio = Socio.objects.create(nombre=f"tiempo socio {i + 1}", tipo=TipoSocio.AFILIADO)
            medio = MedioMarketing.objects.create(socio=socio, plataforma=Plataforma.BLOG)
            for marca in marcas:
                pubs.append(
                    Publicacion.objects.create(
                        medio=medio, marca=marca, tipo=TipoPublicacion.POST, titulo=f"p{i}"
                    )
                )
            socios.append(socio)
        usuario = User.objects.create_user(username=f"tiempo-socio-{uuid.uuid4().hex[:8]}")
        Socio.objects.filter(id=socios[0].id).update(usuario=usuario)
        User.objects.create_user(
            username=f"tiempo-staff-{uuid.uuid4().hex[:8]}", is_staff=True, is_superuser=True
        )

    ahora = dt.datetime.now(dt.UTC)
    segundos = 30 * 86400
    columnas = (
        "id, tipo, ocurrido_en, recibido_en, marca_id, publicacion_id, socio_id, visitante_id, "
        "codigo_referido, moneda, referencia_externa, metadata, ip_hash, user_agent, "
        "estado_atribucion, motivo_descarte, huella, origen_visitante, motivo_atribucion"
    )
    t0 = time.perf_counter()
    with connection.cursor() as cur, cur.connection.cursor() as crudo:
        with crudo.copy(f"COPY {Evento._meta.db_table} ({columnas}) FROM STDIN") as copia:
            for i in range(n):
                # Partner 1 owns 70 % of the rows, the other three 10 % each.
                k = i % 10
                s = 0 if k < 7 else k - 6
                pub = pubs[2 * s + (i % 2)]
                # Rows in time order, as ingestion stores them (oldest first).
                cuando = ahora - dt.timedelta(seconds=segundos * (n - i) / n)
                descartado = i % 97 == 0
                copia.write_row(
                    (
                        uuid.uuid4(),
                        TIPOS[i % 11],
                        cuando,
                        cuando,
                        pub.marca_id,
                        pub.id,
                        socios[s].id,
                        f"v{i % 50000}" if i % 13 else "",
                        "",
                        "",
                        "",
                        "{}",
                        f"{(i * 31) % 90000:x}",
                        "tiempo",
                        "descartado" if descartado else "atribuido",
                        "duplicado" if descartado else "",
                        "",
                        "marca" if i % 13 else "",
                        "",
                    )
                )
        cur.execute(
            f"""
            INSERT INTO {Comision._meta.db_table}
                (id, socio_id, evento_id, participacion, monto, moneda, estado, detalle_atribucion,
                 motivo_reversion, creado_en, actualizado_en)
            SELECT gen_random_uuid(), e.socio_id, e.id, 1, 5.00,
                   CASE WHEN random() < 0.9 THEN 'USD' ELSE 'EUR' END,
                   (ARRAY['pendiente','aprobada','pagada','revertida'])[1 + (random() * 3)::int],
                   '{{}}'::jsonb, '', e.ocurrido_en, e.ocurrido_en
            FROM {Evento._meta.db_table} e
            WHERE e.marca_id IN (%s, %s) AND e.tipo IN ('lead', 'conversion', 'venta')
              AND e.estado_atribucion <> 'descartado'
            """,
            [marcas[0].id, marcas[1].id],
        )
        cur.execute(f"VACUUM ANALYZE {Evento._meta.db_table}")
        cur.execute(f"VACUUM ANALYZE {Comision._meta.db_table}")
    print(f"loaded {n:,} events in {time.perf_counter() - t0:.1f} s")
    return {"socio": socios[0], "usuario": usuario}


def _medir(nombre: str, veces: int, f: Callable[[], object]) -> tuple[float, float]:
    f()  # warm-up
    tiempos = []
    for _ in range(veces):
        t0 = time.perf_counter()
        f()
        tiempos.append((time.perf_counter() - t0) * 1000)
    tiempos.sort()
    p50 = statistics.median(tiempos)
    p95 = tiempos[min(len(tiempos) - 1, round(0.95 * (len(tiempos) - 1)))]
    print(f"{nombre:<58} p50 {p50:9.1f} ms   p95 {p95:9.1f} ms")
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eventos", type=int, default=1_000_000, help="events to load")
    parser.add_argument("--veces", type=int, default=15, help="timed requests per figure")
    parser.add_argument("--recargar", action="store_true", help="drop and reload the data set")
    parser.add_argument(
        "--sin-rollup", action="store_true", help="empty the rollup: time the live path"
    )
    args = parser.parse_args()
    _configurar()

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from comision_recompensa.models import Comision, DiaResumido
    from comision_recompensa.reportes.resumen_diario import resumen_refrescar
    from eventos_medios.models import Evento, Marca, Socio

    call_command("migrate", verbosity=0)
    marcas = Marca.objects.filter(nombre__startswith=MARCA_DATOS)
    if args.recargar and marcas.exists():
        ids = list(marcas.values_list("id", flat=True))
        Comision.objects.filter(evento__marca_id__in=ids).delete()
        with connection.cursor() as cur:
            cur.execute(
                f"DELETE FROM {Evento._meta.db_table} WHERE marca_id = ANY(%s)",
                [ids],
            )
        DiaResumido.objects.all().delete()
    if not Evento.objects.filter(marca__nombre=MARCA_DATOS).exists():
        _cargar(args.eventos)
    # The latest load's partner and staff user (a reload leaves the earlier, now empty, ones).
    socio = (
        Socio.objects.filter(nombre="tiempo socio 1", usuario__isnull=False)
        .order_by("-creado_en")
        .first()
    )
    staff = (
        get_user_model()
        .objects.filter(username__startswith="tiempo-staff-")
        .order_by("-date_joined")
        .first()
    )
    assert socio is not None and socio.usuario is not None and staff is not None

    if args.sin_rollup:
        DiaResumido.objects.all().delete()
    else:
        t0 = time.perf_counter()
        resultado = resumen_refrescar()
        print(f"rollup refresh: {resultado} in {time.perf_counter() - t0:.1f} s")

    cliente_socio = Client()
    cliente_socio.force_login(socio.usuario)
    cliente_staff = Client()
    cliente_staff.force_login(staff)

    def contar(sql: str, params: list[Any]) -> None:
        with connection.cursor() as cur:
            cur.execute(sql, params)
            cur.fetchall()

    tabla = Evento._meta.db_table
    desde = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    desde -= dt.timedelta(days=29)
    n = Evento.objects.filter(socio_id=socio.id).count()
    print(f"partner rows: {n:,}; table rows: {Evento.objects.count():,}")

    def resumen() -> None:
        r = cliente_socio.get("/api/v1/reportes/resumen/")
        assert r.status_code == 200, r.content[:300]

    def tablero() -> None:
        r = cliente_staff.get("/admin/tablero/")
        assert r.status_code == 200, r.content[:300]

    _medir(
        "baseline: SELECT count(*) of the partner's events",
        args.veces,
        lambda: contar(f"SELECT count(*) FROM {tabla} WHERE socio_id = %s", [socio.id]),
    )
    _medir("GET /api/v1/reportes/resumen/ as the partner", args.veces, resumen)
    _medir(
        "baseline: SELECT count(*) of the last 30 days",
        max(3, args.veces // 3),
        lambda: contar(f"SELECT count(*) FROM {tabla} WHERE ocurrido_en >= %s", [desde]),
    )
    _medir("GET /admin/tablero/ as staff (30 days)", max(3, args.veces // 3), tablero)


if __name__ == "__main__":
    main()
