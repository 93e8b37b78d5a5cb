"""`manage.py refrescar_resumen [--desde FECHA --hasta FECHA] [--ventana N]`: rebuild the
report rollup."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from alpespartners.comandos import Cierre, ComandoOperador
from comision_recompensa.reportes.resumen_diario import (
    dias_por_refrescar,
    resumen_cerrojo,
    resumen_dia_refrescar,
)


def _dia(texto: str, opcion: str) -> dt.date:
    try:
        return dt.date.fromisoformat(texto)
    except ValueError:
        raise CommandError(f"{opcion}: use a date, YYYY-MM-DD (got {texto!r}).") from None


class Command(ComandoOperador):
    help = (
        "Rebuild the daily rollup the reports and the admin dashboard read (events per\n"
        "socio, marca and tipo, unique clicks, and money per estado, per UTC day).\n"
        "\n"
        "Without dates: past days not summarised yet or invalidated since, plus the last\n"
        "--ventana days, at most RESUMEN_MAX_DIAS_POR_EJECUCION of them, newest first (a long\n"
        "history is backfilled over several runs); the beat schedule runs this every few\n"
        "minutes. With --desde/--hasta: exactly those days (inclusive), e.g. after a\n"
        "re-attribution or a manual data fix. Today is never summarised: reports read it\n"
        "live. Idempotent and safe to run while the app serves traffic; it refuses to start\n"
        "while another refresh (the periodic task) is running."
    )
    ejemplos = """
  # what the periodic task does
  python manage.py refrescar_resumen
  # rebuild March after re-attributing it
  python manage.py refrescar_resumen --desde 2026-03-01 --hasta 2026-03-31
"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--desde", metavar="FECHA", help="First day (YYYY-MM-DD).")
        parser.add_argument("--hasta", metavar="FECHA", help="Last day, inclusive (YYYY-MM-DD).")
        parser.add_argument(
            "--ventana",
            type=int,
            metavar="N",
            help="Without dates: also rebuild the last N days (default RESUMEN_VENTANA_DIAS).",
        )

    def handle(self, *args: Any, **opciones: Any) -> None:
        cierre = Cierre("refrescar_resumen")
        hoy = timezone.now().astimezone(dt.UTC).date()
        desde, hasta = opciones.get("desde"), opciones.get("hasta")
        if bool(desde) != bool(hasta):
            raise CommandError("--desde and --hasta go together.")
        if opciones.get("ventana") is not None and opciones["ventana"] < 0:
            raise CommandError("--ventana: must be 0 or more.")
        if desde and hasta:
            primero, ultimo = _dia(desde, "--desde"), _dia(hasta, "--hasta")
            if ultimo < primero:
                raise CommandError("--hasta: must be on or after --desde.")
            ultimo = min(ultimo, hoy - dt.timedelta(days=1))
            dias = [
                primero + dt.timedelta(days=i) for i in range(max(0, (ultimo - primero).days + 1))
            ]
        else:
            dias = dias_por_refrescar(ventana_dias=opciones.get("ventana"))
        with resumen_cerrojo() as obtenido:
            if not obtenido:
                raise CommandError("Another rollup refresh is running: try again when it ends.")
            self._refrescar(dias, cierre)
        self.stdout.write(self.style.SUCCESS(f"{len(dias)} days refreshed."))
        cierre.imprimir(self, con_dinero=False)

    def _refrescar(self, dias: list[dt.date], cierre: Cierre) -> None:
        barra = self.barra(total=len(dias), desc="refrescar_resumen", unit="día")
        try:
            for dia in dias:
                filas = resumen_dia_refrescar(dia=dia)
                if filas is None:
                    cierre.contar("days skipped (invalidated meanwhile)")
                else:
                    cierre.contar("days rebuilt")
                    cierre.contar("rollup rows", filas)
                barra.update(1)
        finally:
            barra.close()
