"""Shared helpers for the project's management commands (operator-facing CLI).

One place for what every command does the same way:

- `ComandoOperador`: a `BaseCommand` whose `--help` keeps the layout of `help` and `ejemplos`
  (shown as the epilog) and which adds `--no-progress` / `--progress` / `--quiet`.
- `leer_fecha` / `leer_uuid`: parse an option or fail with a one-line `CommandError` naming it.
- `barra_progreso`: a tqdm bar on the command's stderr, shown only on a terminal (or forced).
- `Cierre`: the closing summary of a command: counts, money per currency, elapsed time.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import uuid
from argparse import RawDescriptionHelpFormatter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
)
from django.utils import timezone
from tqdm import tqdm

__all__ = [
    "Cierre",
    "ComandoOperador",
    "FormatoAyuda",
    "barra_progreso",
    "formatear_dinero",
    "leer_fecha",
    "leer_uuid",
]


class FormatoAyuda(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    """Django's ordering (command options first) with the description and epilog kept as
    written, so multi-line help and examples stay readable."""


class ComandoOperador(BaseCommand):
    """Base for operator commands: rich `--help` and the common output options.

    Subclasses set `help` (what it does and when to use it) and `ejemplos` (the epilog, one
    example per line). Options added here: `--no-progress` (alias `--sin-progreso`),
    `--progress` (force the bar even when stderr is not a terminal) and `-q/--quiet` (no bar,
    no per-item detail: only the summary). `self.detallar` tells whether detail lines are
    wanted.
    """

    ejemplos: str = ""
    con_progreso: bool = True

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs.setdefault("formatter_class", FormatoAyuda)
        if self.ejemplos:
            kwargs.setdefault("epilog", "examples:\n" + self.ejemplos.strip("\n"))
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if self.con_progreso:
            grupo = parser.add_argument_group("output")
            grupo.add_argument(
                "--no-progress",
                "--sin-progreso",
                action="store_true",
                dest="sin_progreso",
                help="Never draw the progress bar (it is drawn only when stderr is a terminal).",
            )
            grupo.add_argument(
                "--progress",
                action="store_true",
                dest="progreso",
                help="Draw the progress bar even when stderr is not a terminal.",
            )
            grupo.add_argument(
                "-q",
                "--quiet",
                action="store_true",
                dest="silencioso",
                help="No progress bar and no per-item lines: print only the summary.",
            )
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        self._opciones_salida = options
        return super().execute(*args, **options)

    @property
    def detallar(self) -> bool:
        """Whether per-item detail lines are wanted (not with --quiet or --verbosity 0)."""
        o = getattr(self, "_opciones_salida", {})
        return not o.get("silencioso") and int(o.get("verbosity", 1)) >= 1

    def barra(
        self,
        *,
        total: int | None,
        desc: str,
        unit: str = "it",
        opciones: Mapping[str, Any] | None = None,
    ) -> tqdm[Any]:
        """A progress bar for this run, honouring the output options (those of this run, or
        `opciones` when a caller drives the command without `execute`)."""
        o = opciones if opciones is not None else getattr(self, "_opciones_salida", {})
        return barra_progreso(
            self,
            total=total,
            desc=desc,
            unit=unit,
            desactivar=bool(o.get("sin_progreso") or o.get("silencioso")),
            forzar=bool(o.get("progreso")),
        )


def leer_fecha(texto: str, *, fin_del_dia: bool, opcion: str = "") -> dt.datetime:
    """`YYYY-MM-DD` (start, or with `fin_del_dia` end, of that day) or an ISO datetime; the
    result is aware (naive values are in TIME_ZONE). Bad input → `CommandError` naming
    `opcion` (e.g. "--desde") and the accepted formats."""
    prefijo = f"{opcion}: " if opcion else ""
    try:
        if len(texto) == 10:
            dia = dt.date.fromisoformat(texto)
            momento = dt.datetime.combine(dia, dt.time.max if fin_del_dia else dt.time.min)
        else:
            momento = dt.datetime.fromisoformat(texto)
    except (TypeError, ValueError) as exc:
        raise CommandError(
            f"{prefijo}invalid date {texto!r}: use YYYY-MM-DD or an ISO datetime "
            "(e.g. 2026-11-01 or 2026-11-01T08:00:00+00:00)."
        ) from exc
    if timezone.is_naive(momento):
        momento = timezone.make_aware(momento)
    return momento


def leer_uuid(texto: str, *, opcion: str) -> uuid.UUID:
    """`texto` as a UUID, or a `CommandError` naming `opcion`."""
    try:
        return uuid.UUID(str(texto))
    except ValueError as exc:
        raise CommandError(f"{opcion}: {texto!r} is not a valid id (a UUID).") from exc


def _flujo(comando: BaseCommand) -> Any:
    """The raw stream behind the command's stderr (sys.stderr unless a caller redirected it)."""
    return getattr(comando.stderr, "_out", sys.stderr)


def barra_progreso(
    comando: BaseCommand,
    *,
    total: int | None,
    desc: str,
    unit: str = "it",
    desactivar: bool = False,
    forzar: bool = False,
) -> tqdm[Any]:
    """A tqdm bar on `comando`'s stderr. Drawn when stderr is a terminal, or with `forzar`;
    never with `desactivar`. A disabled bar still accepts `update()`/`close()`."""
    flujo = _flujo(comando)
    es_terminal = bool(getattr(flujo, "isatty", lambda: False)())
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=flujo,
        disable=desactivar or not (forzar or es_terminal),
        dynamic_ncols=True,
        leave=False,
    )


def formatear_dinero(por_moneda: Mapping[str, Decimal]) -> str:
    """`{"EUR": 12, "USD": 3}` → "12.00 EUR, 3.00 USD" (sorted; "0" when empty)."""
    if not por_moneda:
        return "0"
    return ", ".join(
        f"{Decimal(v).quantize(Decimal('0.01'))} {k}" for k, v in sorted(por_moneda.items())
    )


@dataclass
class Cierre:
    """The closing summary of a command run: ordered counts, money per currency, elapsed.

    Create it at the start of the work (the clock starts then), `contar` / `sumar` as the
    work goes, `imprimir(comando)` at the end.
    """

    titulo: str
    conteos: dict[str, int] = field(default_factory=dict)
    dinero: dict[str, Decimal] = field(default_factory=dict)
    notas: list[str] = field(default_factory=list)
    etiqueta_dinero: str = "money"
    inicio: float = field(default_factory=time.monotonic)

    def contar(self, clave: str, n: int = 1) -> None:
        self.conteos[clave] = self.conteos.get(clave, 0) + n

    def fijar(self, clave: str, n: int) -> None:
        self.conteos[clave] = n

    def sumar(self, moneda: str, monto: Decimal) -> None:
        self.dinero[moneda] = self.dinero.get(moneda, Decimal("0")) + Decimal(monto)

    def sumar_todo(self, montos: Iterable[tuple[str, Decimal]]) -> None:
        for moneda, monto in montos:
            self.sumar(moneda, monto)

    @property
    def segundos(self) -> float:
        return time.monotonic() - self.inicio

    def lineas(self, *, con_dinero: bool = True) -> list[str]:
        lineas = [f"Summary: {self.titulo}"]
        lineas += [f"  {clave}: {n}" for clave, n in self.conteos.items()]
        if con_dinero:
            lineas.append(f"  {self.etiqueta_dinero}: {formatear_dinero(self.dinero)}")
        lineas += [f"  {nota}" for nota in self.notas]
        lineas.append(f"  elapsed: {self.segundos:.2f} s")
        return lineas

    def imprimir(self, comando: BaseCommand, *, con_dinero: bool = True) -> None:
        for linea in self.lineas(con_dinero=con_dinero):
            comando.stdout.write(linea)
