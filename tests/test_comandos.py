"""Operator-facing behaviour of every management command: `--help` that explains it, a clear
one-line error and a non-zero exit on bad arguments, a closing summary, and a progress bar only
on a terminal (or when forced). The commands' business effects are tested beside their
services; here we test what an operator sees."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import uuid
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.utils import timezone

from alpespartners.comandos import Cierre, formatear_dinero, leer_fecha, leer_uuid
from comision_recompensa.atribucion.services import eventos_atribuir
from comision_recompensa.pagos.desarrollo.simulador import SimuladorPagos
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from comision_recompensa.tests.pagos_helpers import comision_aprobada, perfil_completo
from eventos_medios.models import TipoEvento
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

RAIZ = Path(__file__).resolve().parent.parent
COMANDOS = (
    "cargar_demo",
    "reatribuir",
    "generar_pagos",
    "enviar_pagos",
    "pagos_simulado",
    "refrescar_resumen",
    "drf_create_token",
)


def ejecutar(*args: str, **opciones) -> tuple[str, str]:
    """call_command with captured stdout/stderr; returns (out, err)."""
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **opciones)
    return out.getvalue(), err.getvalue()


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    """`manage.py <args>` in a subprocess (the operator's view: exit code and stderr)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=RAIZ,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def app_de(comando: str) -> str:
    return get_commands()[comando]


def puerto_ocupado() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


# --- --help ---------------------------------------------------------------------------------


def test_todos_los_comandos_del_proyecto_estan_cubiertos():
    """A new command must join COMANDOS (and so get these tests)."""
    encontrados = {
        p.stem
        for p in RAIZ.glob("*/management/commands/*.py")
        if not p.stem.startswith("_") and ".venv" not in p.parts
    }
    assert encontrados == set(COMANDOS)


@pytest.mark.parametrize("comando", COMANDOS)
def test_help_explica_el_comando_con_ejemplos(comando, capsys):
    with pytest.raises(SystemExit) as salida:
        call_command(comando, "--help")
    assert salida.value.code == 0
    texto = capsys.readouterr().out
    assert f"manage.py {comando}" in texto
    assert "examples:" in texto and f"python manage.py {comando}" in texto
    # Every option carries a help text.
    parser = load_command_class(app_de(comando), comando).create_parser("manage.py", comando)
    for accion in parser._actions:
        assert accion.help, accion.option_strings


@pytest.mark.parametrize(
    "comando,frase",
    [
        ("cargar_demo", "idempotent"),
        ("reatribuir", "--reanudar"),
        ("generar_pagos", "Safe to run"),
        ("enviar_pagos", "PAGOS_URL"),
        ("pagos_simulado", "Never use it in production"),
        ("refrescar_resumen", "Idempotent"),
        ("drf_create_token", "previous key stops working"),
    ],
)
def test_help_dice_cuando_usarlo(comando, frase, capsys):
    with pytest.raises(SystemExit):
        call_command(comando, "--help")
    assert frase in capsys.readouterr().out


def test_help_por_linea_de_comandos_sale_con_cero():
    resultado = manage("reatribuir", "--help")
    assert resultado.returncode == 0, resultado.stderr
    assert "--desde FECHA" in resultado.stdout and "examples:" in resultado.stdout


# --- bad arguments: one clear line, non-zero exit -------------------------------------------


@pytest.mark.parametrize(
    "args,mensaje",
    [
        (
            ("reatribuir", "--desde", "ayer", "--hasta", "2026-01-01"),
            "--desde: invalid date 'ayer'",
        ),
        (("pagos_simulado", "--puerto", "70000"), "--puerto must be between 0 and 65535"),
    ],
)
def test_error_por_linea_de_comandos_una_linea_y_codigo_distinto_de_cero(args, mensaje):
    resultado = manage(*args)
    assert resultado.returncode == 1
    lineas = resultado.stderr.strip().splitlines()
    assert len(lineas) == 1 and lineas[0].startswith("CommandError: ")
    assert mensaje in lineas[0]
    assert "Traceback" not in resultado.stderr


def test_opcion_desconocida_por_linea_de_comandos_sale_con_dos():
    resultado = manage("reatribuir", "--modelo", "magia")
    assert resultado.returncode == 2
    assert "argument --modelo: invalid choice: 'magia'" in resultado.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args,mensaje",
    [
        (("reatribuir",), "--desde and --hasta are required"),
        (("reatribuir", "--desde", "2026-01-02"), "--desde and --hasta are required"),
        (("reatribuir", "--desde", "2026-13-01", "--hasta", "2026-12-01"), "--desde: invalid date"),
        (("reatribuir", "--desde", "2026-01-01", "--hasta", "mañana"), "--hasta: invalid date"),
        (("reatribuir", "--desde", "2026-01-02", "--hasta", "2026-01-01"), "is before --desde"),
        (
            ("reatribuir", "--desde", "2026-01-01", "--hasta", "2026-01-02", "--marca", "nope"),
            "--marca: 'nope' is not a valid id",
        ),
        (
            (
                "reatribuir",
                *("--desde", "2026-01-01", "--hasta", "2026-01-02"),
                *("--marca", str(uuid.UUID(int=1))),
            ),
            "--marca: no marca 00000000-0000-0000-0000-000000000001",
        ),
        (
            (
                "reatribuir",
                *("--desde", "2026-01-01", "--hasta", "2026-01-02"),
                *("--socio", str(uuid.UUID(int=2))),
            ),
            "--socio: no socio",
        ),
        (
            ("reatribuir", "--desde", "2026-01-01", "--hasta", "2026-01-02", "--modelo", "magia"),
            "argument --modelo: invalid choice: 'magia'",
        ),
        (("reatribuir", "--reanudar", str(uuid.UUID(int=3))), "--reanudar: no re-attribution"),
        (
            ("reatribuir", "--desde", "2026-01-01", "--hasta", "2026-01-02", "--lote", "0"),
            "--lote must be a positive number",
        ),
        (("generar_pagos", "--socio", "nope"), "--socio: 'nope' is not a valid id"),
        (("generar_pagos", "--socio", str(uuid.UUID(int=4))), "--socio: no socio"),
        (("enviar_pagos", "--limite", "0"), "--limite must be at least 1"),
        (("enviar_pagos", "--intervalo", "0"), "--intervalo must be positive"),
        (("enviar_pagos", "--limite", "muchos"), "argument --limite: invalid int value"),
        (("pagos_simulado", "--puerto", "-1"), "--puerto must be between 0 and 65535"),
        (("pagos_simulado", "--puerto", "http"), "argument --puerto: invalid int value"),
        (("pagos_simulado", "--tasa-fallos", "-0.1"), "--tasa-fallos must be between 0 and 1"),
        (("pagos_simulado", "--tasa-fallos", "2"), "--tasa-fallos must be between 0 and 1"),
        (("pagos_simulado", "--modo", "roto"), "argument --modo: invalid choice: 'roto'"),
        (("pagos_simulado", "--segundos", "-1"), "--segundos must not be negative"),
        (("pagos_simulado", "--callback-base", "ftp://x"), "--callback-base must be an http"),
        (
            ("pagos_simulado", "--callback-base", "http://127.0.0.1:1", "--secreto", ""),
            "--callback-base needs a signing secret",
        ),
        (("cargar_demo", "--borrar-todo"), "unrecognized arguments: --borrar-todo"),
    ],
)
def test_argumentos_invalidos_dan_un_error_claro(args, mensaje):
    with pytest.raises(CommandError) as error:
        ejecutar(*args)
    assert mensaje in str(error.value)
    assert "\n" not in str(error.value).strip()


def test_pagos_simulado_puerto_ocupado():
    ocupado = puerto_ocupado()
    try:
        puerto = ocupado.getsockname()[1]
        with pytest.raises(CommandError, match=rf"cannot listen on 127\.0\.0\.1:{puerto}"):
            ejecutar("pagos_simulado", "--puerto", str(puerto), "--segundos", "0")
    finally:
        ocupado.close()


# --- normal runs print a summary ------------------------------------------------------------


@pytest.fixture
def minimo_bajo(settings):
    """These summaries are about printing: small amounts, so the minimum Pago is one cent."""
    settings.PAGO_MINIMO = Decimal("0.01")
    settings.PAGO_MINIMO_POR_MONEDA = {}


@pytest.mark.django_db
def test_generar_pagos_resumen_con_dinero_por_moneda(minimo_bajo, marca):
    socio = SocioFactory()
    comision_aprobada(socio, "12.00", marca=marca)
    comision_aprobada(socio, "0.50", marca=marca)
    comision_aprobada(SocioFactory(), "3.00", "USD")
    out, err = ejecutar("generar_pagos")
    assert "2 Pagos generated: 12.50 EUR, 3.00 USD." in out
    assert "Summary: generar_pagos" in out
    assert "  pagos generated: 2" in out and "  items paid: 3" in out
    assert "  partners paid: 2" in out
    assert "  money: 12.50 EUR, 3.00 USD" in out
    assert "  elapsed: " in out
    assert err == ""  # not a terminal: no progress bar

    out, _ = ejecutar("generar_pagos", "--socio", str(socio.id))
    assert "0 Pagos generated: nothing to pay." in out and "  money: 0" in out


@pytest.mark.django_db
def test_generar_pagos_quiet_solo_resumen_y_progress_forzado(minimo_bajo):
    comision_aprobada(SocioFactory(), "5.00")
    comision_aprobada(SocioFactory(), "6.00")
    out, err = ejecutar("generar_pagos", "--quiet", "--progress")
    assert "Pago " not in out  # no per-Pago lines
    assert "  money: 11.00 EUR" in out
    assert err == ""  # --quiet wins over --progress

    comision_aprobada(SocioFactory(), "7.00")
    out, err = ejecutar("generar_pagos", "--progress")
    assert "Pago " in out and "generar_pagos" in err  # the bar, forced onto a non-terminal


@pytest.mark.django_db
def test_enviar_pagos_resumen_con_dinero_aceptado(settings, minimo_bajo):
    with SimuladorPagos() as simulador:
        settings.PAGOS_URL = simulador.url
        settings.PAGOS_SECRETO = "s3cr3t"
        settings.PAGOS_TIMEOUT_SEGUNDOS = 2
        for socio, monto, moneda in (
            (SocioFactory(), "8.00", "EUR"),
            (SocioFactory(), "2.25", "USD"),
        ):
            perfil_completo(socio)  # the payout-data control passes
            comision_aprobada(socio, monto, moneda)
        # Inside the test transaction the on-commit fast path never fires: the sweep sends.
        call_command("generar_pagos", stdout=StringIO())
        out, err = ejecutar("enviar_pagos", "--no-progress")
    assert len(simulador.aceptados) == 2
    assert "2 Pagos attempted (enviado: 2)" in out
    assert "Summary: enviar_pagos" in out and "  sweeps: 1" in out
    assert "  attempted: 2" in out and "  enviado: 2" in out and "  fallido: 0" in out
    assert "  money accepted: 8.00 EUR, 2.25 USD" in out
    assert "  elapsed: " in out and err == ""


def test_enviar_pagos_sin_pagos_url(settings):
    settings.PAGOS_URL = ""
    out, err = ejecutar("enviar_pagos")
    assert "PAGOS_URL is not set" in err and out == ""


def test_pagos_simulado_resumen_al_parar():
    out, _ = ejecutar("pagos_simulado", "--puerto", "0", "--segundos", "0")
    assert "Payments simulator on http://127.0.0.1:" in out
    assert '"recibidos": 0' in out  # the machine-readable counters
    assert "Summary: pagos_simulado" in out
    assert "  requests received: 0" in out and "  pagos accepted: 0" in out
    assert "  money accepted: 0" in out and "  elapsed: " in out


@pytest.mark.django_db(transaction=True)
def test_cargar_demo_resumen():
    out, err = ejecutar("cargar_demo", "--sin-eventos")
    assert "Demo data ready." in out and "staff user: admin / " in out
    assert "Summary: cargar_demo" in out
    assert "  socios: 6" in out and "  publicaciones: 6" in out
    assert "  eventos added: 0" in out and "  money credited: 0" in out
    assert "  elapsed: " in out and err == ""


@pytest.fixture
def venta_atribuida(db):
    """A marca on last-click; visitor v clicked A then B, then bought: B earns 10 %."""
    ahora = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    marca = MarcaFactory(modelo_atribucion="ultimo_clic")
    socios = []
    for horas in (3, 1):
        socio = SocioFactory()
        pub = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=socio))
        ReglaPagoFactory(asociacion=AsociacionFactory(marca=marca, socio=socio))
        EventoFactory(
            tipo=TipoEvento.CLICK,
            publicacion=pub,
            visitante_id="v",
            ocurrido_en=ahora - dt.timedelta(hours=horas),
        )
        socios.append(socio)
    venta = EventoFactory(
        tipo=TipoEvento.VENTA,
        publicacion=None,
        socio=None,
        marca=marca,
        visitante_id="v",
        valor=Decimal("100.00"),
        moneda="EUR",
        ocurrido_en=ahora,
    )
    eventos_atribuir(evento_ids=[venta.id])
    return marca, socios, ahora


@pytest.mark.reloj  # --desde/--hasta: the day of an event minutes old
def test_reatribuir_resumen_de_un_what_if(venta_atribuida):
    marca, (a, b), ahora = venta_atribuida
    dia = timezone.localdate(ahora).isoformat()
    out, err = ejecutar(
        "reatribuir",
        "--desde",
        dia,
        "--hasta",
        dia,
        "--marca",
        str(marca.id),
        "--modelo",
        "primer_clic",
    )
    assert "--modelo is a what-if" in err
    assert "DRY RUN" in out and a.nombre in out and b.nombre in out
    assert "Summary: reatribuir (dry run, nothing written)" in out
    assert "  events: 1" in out and "  partners affected: 2" in out
    assert "  net change to partners: 0.00 EUR" in out  # 10 EUR moves from B to A
    assert "  elapsed: " in out


@pytest.mark.reloj  # --desde/--hasta: the day of an event minutes old
def test_reatribuir_quiet_omite_la_tabla(venta_atribuida):
    marca, (a, _b), ahora = venta_atribuida
    marca.modelo_atribucion = "primer_clic"
    marca.save()
    dia = timezone.localdate(ahora).isoformat()
    out, err = ejecutar("reatribuir", "--desde", dia, "--hasta", dia, "--quiet")
    assert a.nombre not in out and "Summary: reatribuir" in out
    assert "  credits changed: " in out and "  run id: " in out
    assert err == ""


# --- shared helpers -------------------------------------------------------------------------


def test_leer_fecha_y_uuid_nombran_la_opcion():
    assert leer_fecha("2026-11-03", fin_del_dia=True).time() == dt.time.max
    assert timezone.is_aware(leer_fecha("2026-11-03T10:15:00", fin_del_dia=False))
    with pytest.raises(CommandError, match=r"^--desde: invalid date 'ayer': use YYYY-MM-DD"):
        leer_fecha("ayer", fin_del_dia=False, opcion="--desde")
    with pytest.raises(CommandError, match=r"^--socio: 'x' is not a valid id"):
        leer_uuid("x", opcion="--socio")


def test_resumen_imprime_conteos_dinero_y_tiempo():
    cierre = Cierre("prueba")
    cierre.contar("filas", 2)
    cierre.contar("filas")
    cierre.sumar("USD", Decimal("1.5"))
    cierre.sumar_todo([("EUR", Decimal("2")), ("EUR", "0.25")])
    lineas = cierre.lineas()
    assert lineas[:3] == ["Summary: prueba", "  filas: 3", "  money: 2.25 EUR, 1.50 USD"]
    assert lineas[-1].startswith("  elapsed: ") and lineas[-1].endswith(" s")
    assert formatear_dinero({}) == "0"


class _BarraQueInterrumpe:
    """Stands for the operator pressing Ctrl-C once the first batch is done."""

    def update(self, n=1):
        raise KeyboardInterrupt

    def close(self):
        pass


@pytest.mark.reloj  # --desde/--hasta: the day of an event minutes old
def test_reatribuir_interrumpido_dice_como_reanudar(venta_atribuida):
    from comision_recompensa.management.commands.reatribuir import Command
    from comision_recompensa.models import EjecucionReatribucion

    marca, _socios, ahora = venta_atribuida
    marca.modelo_atribucion = "primer_clic"
    marca.save()
    dia = timezone.localdate(ahora).isoformat()
    comando = Command(stdout=StringIO(), stderr=StringIO())
    comando.barra = lambda **_: _BarraQueInterrumpe()
    with pytest.raises(CommandError) as error:
        comando.handle_one(desde=dia, hasta=dia, lote=1)
    pendiente = EjecucionReatribucion.objects.get(terminada_en__isnull=True)
    assert str(error.value) == (
        f"Interrupted; resume with `manage.py reatribuir --reanudar {pendiente.pk}`."
    )


@pytest.mark.django_db
def test_generar_pagos_redondea_el_dinero_a_centimos(minimo_bajo, marca):
    """SQLite sums decimals as floats: the Pago and the printout must still be 24.99."""
    socio = SocioFactory()
    for monto in ("8.33", "8.33", "8.33"):
        comision_aprobada(socio, monto, marca=marca)
    out, _ = ejecutar("generar_pagos", "--verbosity", "2")
    assert "1 Pagos generated: 24.99 EUR." in out
    assert "24.990000" not in out
    from comision_recompensa.models import Pago

    pago = Pago.objects.get(socio=socio)
    assert pago.monto == Decimal("24.99") and str(pago.monto) == "24.99"
