"""`manage.py reatribuir`: recompute attribution for past conversions (PRODUCT.md §5).

    python manage.py reatribuir --desde 2026-11-01 --hasta 2026-11-30 [--marca ID] [--socio ID]
                                [--modelo M] [--dry-run] [--lote N]
    python manage.py reatribuir --reanudar <run id>

Dates are `YYYY-MM-DD` (inclusive: `--hasta` covers the whole day) or ISO datetimes (naive ones
are in TIME_ZONE). `--modelo` is a what-if: it implies `--dry-run` (see services/reatribucion.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.management.base import CommandError, CommandParser

from alpespartners.comandos import Cierre, ComandoOperador, formatear_dinero, leer_uuid
from alpespartners.comandos import leer_fecha as _leer_fecha
from alpespartners.errors import ErrorDominio
from comision_recompensa.atribucion.reatribucion import (
    TAMANO_LOTE_POR_DEFECTO,
    BalanceReatribucion,
    ParametrosReatribucion,
    reatribucion_contar,
    reatribucion_ejecutar,
)
from comision_recompensa.models import EjecucionReatribucion
from eventos_medios.models import Marca, ModeloAtribucion, Socio


def leer_fecha(texto: str, *, fin_del_dia: bool, opcion: str = "") -> dt.datetime:
    """`YYYY-MM-DD` (start or end of that day) or an ISO datetime; aware in TIME_ZONE."""
    return _leer_fecha(texto, fin_del_dia=fin_del_dia, opcion=opcion)


def _uuid(texto: str, nombre: str) -> uuid.UUID:
    return leer_uuid(texto, opcion=f"--{nombre}")


class Command(ComandoOperador):
    help = (
        "Recompute the attribution of past conversions with each marca's current attribution\n"
        "model and window, and correct the credits: new, changed and reversed Comisiones/\n"
        "Recompensas; money already paid is corrected with Ajustes, never rewritten.\n"
        "\n"
        "Use it after changing a marca's modelo_atribucion or window, after loading late\n"
        "touchpoints, or with --dry-run (or a --modelo what-if) to preview the effect. Every\n"
        "real run is recorded (EjecucionReatribucion) and can be resumed with --reanudar if\n"
        "it was interrupted. Dates are inclusive; naive datetimes are in TIME_ZONE."
    )
    ejemplos = """
  # preview November for one brand, writing nothing
  python manage.py reatribuir --desde 2026-11-01 --hasta 2026-11-30 --marca <marca id> --dry-run
  # what would a linear model pay? (implies --dry-run)
  python manage.py reatribuir --desde 2026-11-01 --hasta 2026-11-30 --modelo lineal
  # apply, touching only one partner's credits
  python manage.py reatribuir --desde 2026-11-01 --hasta 2026-11-30 --socio <socio id>
  # resume an interrupted run (Ctrl-C prints its id; the admin lists the runs)
  python manage.py reatribuir --reanudar <run id>
"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--desde",
            metavar="FECHA",
            help="First day (YYYY-MM-DD, inclusive) or ISO datetime of the conversions.",
        )
        parser.add_argument(
            "--hasta",
            metavar="FECHA",
            help="Last day (YYYY-MM-DD, the whole day is included) or ISO datetime.",
        )
        parser.add_argument(
            "--marca", metavar="ID", help="Only this marca's conversions (Marca id)."
        )
        parser.add_argument(
            "--socio", metavar="ID", help="Only change this partner's credits (Socio id)."
        )
        parser.add_argument(
            "--modelo",
            choices=ModeloAtribucion.values,
            help="What-if: use this model instead of the marca's (implies --dry-run). "
            "One of: %(choices)s.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Compute and show the changes, write nothing."
        )
        parser.add_argument(
            "--reanudar",
            metavar="RUN_ID",
            help="Resume an interrupted run by its id (its other options are reused).",
        )
        parser.add_argument(
            "--lote",
            type=int,
            default=TAMANO_LOTE_POR_DEFECTO,
            metavar="N",
            help="Conversions per transaction (default: %(default)s).",
        )

    def handle(self, *args: Any, **opciones: Any) -> None:
        cronometro = Cierre("reatribuir")
        ejecucion, balance, dry_run = self.handle_one(**opciones)
        self.imprimir(balance, ejecucion=ejecucion, dry_run=dry_run, cronometro=cronometro)

    def handle_one(
        self, **opciones: Any
    ) -> tuple[EjecucionReatribucion | None, BalanceReatribucion, bool]:
        """Parse the options, run (or resume) the re-attribution; return (run, balance,
        dry_run). Tests call this directly."""
        reanudar = opciones.get("reanudar")
        if opciones.get("lote") is not None and int(opciones["lote"]) < 1:
            raise CommandError(f"--lote must be a positive number, got {opciones['lote']}.")
        lote = int(opciones.get("lote") or TAMANO_LOTE_POR_DEFECTO)
        if reanudar:
            parametros, total = self._reanudacion(reanudar)
        else:
            parametros = self._parametros(opciones)
            total = reatribucion_contar(parametros=parametros)
        barra = self.barra(total=total, unit="ev", desc="reatribuir", opciones=opciones)
        try:
            ejecucion_final, balance = reatribucion_ejecutar(
                parametros=None if reanudar else parametros,
                reanudar=reanudar,
                tamano=lote,
                al_avanzar=barra.update,
            )
        except KeyboardInterrupt:
            pendiente = EjecucionReatribucion.objects.filter(
                terminada_en__isnull=True, dry_run=False
            ).first()
            pista = (
                f"; resume with `manage.py reatribuir --reanudar {pendiente.pk}`"
                if pendiente is not None
                else ""
            )
            raise CommandError(f"Interrupted{pista}.") from None
        finally:
            barra.close()
        return ejecucion_final, balance, parametros.dry_run

    def _reanudacion(self, reanudar: str) -> tuple[ParametrosReatribucion, int]:
        """The stored parameters of the run to resume, and what is left of it."""
        try:
            ejecucion = EjecucionReatribucion.objects.get(pk=_uuid(reanudar, "reanudar"))
        except EjecucionReatribucion.DoesNotExist as exc:
            raise CommandError(f"--reanudar: no re-attribution run {reanudar}.") from exc
        parametros = ParametrosReatribucion.de_dict(ejecucion.parametros)
        if ejecucion.terminada_en:
            return parametros, 0
        cursor = (
            (ejecucion.cursor_ocurrido_en, ejecucion.cursor_evento_id)
            if ejecucion.cursor_ocurrido_en and ejecucion.cursor_evento_id
            else None
        )
        return parametros, reatribucion_contar(parametros=parametros, cursor=cursor)

    def _parametros(self, opciones: dict[str, Any]) -> ParametrosReatribucion:
        """A new run's parameters from the options (CommandError naming the bad one)."""
        if not opciones.get("desde") or not opciones.get("hasta"):
            raise CommandError("--desde and --hasta are required (or --reanudar).")
        modelo = opciones.get("modelo")
        if modelo and not opciones.get("dry_run"):
            self.stderr.write("--modelo is a what-if: running as --dry-run, nothing written.")
        marca_id = _uuid(opciones["marca"], "marca") if opciones.get("marca") else None
        socio_id = _uuid(opciones["socio"], "socio") if opciones.get("socio") else None
        if marca_id and not Marca.objects.filter(pk=marca_id).exists():
            raise CommandError(f"--marca: no marca {marca_id}.")
        if socio_id and not Socio.objects.filter(pk=socio_id).exists():
            raise CommandError(f"--socio: no socio {socio_id}.")
        desde = leer_fecha(opciones["desde"], fin_del_dia=False, opcion="--desde")
        hasta = leer_fecha(opciones["hasta"], fin_del_dia=True, opcion="--hasta")
        if hasta < desde:
            raise CommandError(
                f"--hasta ({opciones['hasta']}) is before --desde ({opciones['desde']})."
            )
        parametros = ParametrosReatribucion(
            desde=desde,
            hasta=hasta,
            marca_id=marca_id,
            socio_id=socio_id,
            modelo=modelo,
            dry_run=bool(opciones.get("dry_run")) or modelo is not None,
        )
        try:
            parametros.validar()
        except ErrorDominio as exc:
            raise CommandError(exc.mensaje) from exc
        return parametros

    def imprimir(
        self,
        balance: BalanceReatribucion,
        *,
        ejecucion: EjecucionReatribucion | None,
        dry_run: bool,
        cronometro: Cierre | None = None,
    ) -> None:
        out = self.stdout
        cierre = cronometro or Cierre("reatribuir")
        cierre.titulo = "reatribuir (dry run, nothing written)" if dry_run else "reatribuir"
        for clave, n in (
            ("events", balance.eventos),
            ("events with changes", balance.eventos_con_cambios),
            ("credits created", balance.creados),
            ("credits changed", balance.cambiados),
            ("credits reversed", balance.revertidos),
            ("adjustments", balance.ajustes),
            ("partners affected", len(balance.por_socio)),
        ):
            cierre.fijar(clave, n)
        cierre.etiqueta_dinero = "net change to partners"
        for fila in balance.por_socio.values():
            cierre.sumar_todo(fila["delta"].items())
        if ejecucion is not None:
            cierre.notas.append(f"run id: {ejecucion.pk}")
        titulo = (
            "DRY RUN — nothing was written"
            if dry_run
            else f"Run {ejecucion.pk if ejecucion else ''}"
        )
        out.write(titulo)
        out.write(
            f"events: {balance.eventos}  with changes: {balance.eventos_con_cambios}  "
            f"created: {balance.creados}  changed: {balance.cambiados}  "
            f"reversed: {balance.revertidos}  adjustments: {balance.ajustes}"
        )
        if not balance.por_socio:
            out.write("No changes.")
        elif self.detallar:
            nombres = dict(
                Socio.objects.filter(id__in=list(balance.por_socio)).values_list("id", "nombre")
            )
            out.write(
                f"{'partner':<40} {'created':>7} {'changed':>7} {'reversed':>8} {'adjust':>6}  "
                "delta"
            )
            for socio, fila in sorted(balance.por_socio.items()):
                nombre = nombres.get(uuid.UUID(socio), socio)
                delta = formatear_dinero(fila["delta"])
                out.write(
                    f"{str(nombre)[:40]:<40} {fila['creados']:>7} {fila['cambiados']:>7} "
                    f"{fila['revertidos']:>8} {fila['ajustes']:>6}  {delta}"
                )
        cierre.imprimir(self)
