"""The suite's own rules (tests/complemento_pytest.py) work: a frozen clock reaches the app, a
skip fails a CI run, the end-of-run summary says how to run what was skipped, and no test reads
the clock at import time (where ALPES_RELOJ cannot reach it)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from tests.complemento_pytest import BORDES_DEL_RELOJ, leer_reloj

RAIZ = Path(__file__).resolve().parent.parent
BISIESTO = dt.datetime(2028, 2, 29, 23, 59, 59, tzinfo=dt.UTC)


# --- The clock ------------------------------------------------------------------------------------
def test_leer_reloj_acepta_iso_con_zona_y_rechaza_lo_demas():
    assert leer_reloj(None) is None and leer_reloj(" ") is None
    assert leer_reloj("2028-02-29T23:59:59Z") == BISIESTO
    assert leer_reloj("2027-01-01T01:00:01+01:00") == dt.datetime(
        2027, 1, 1, 0, 0, 1, tzinfo=dt.UTC
    )
    with pytest.raises(pytest.UsageError, match="no time zone"):
        leer_reloj("2028-02-29T23:59:59")
    with pytest.raises(pytest.UsageError, match="ISO 8601"):
        leer_reloj("mañana")


@pytest.mark.reloj
def test_un_test_fechado_tiene_el_reloj_quieto():
    """Marked tests are pinned: "today" cannot change halfway through one."""
    antes = timezone.now()
    assert timezone.now() == antes


@pytest.mark.django_db
def test_el_reloj_congelado_llega_a_la_base_de_datos(time_machine):
    """Timestamps come from Python (time-machine moves them), never from the database server's
    clock, so a frozen run writes the frozen instant on SQLite and PostgreSQL alike."""
    from eventos_medios.tests.factories import EventoFactory, MarcaFactory

    time_machine.move_to(BISIESTO, tick=False)
    marca = MarcaFactory()  # creado_en / actualizado_en: auto_now
    evento = EventoFactory(tipo="lead", marca=marca)
    marca.refresh_from_db()
    evento.refresh_from_db()
    assert marca.creado_en == marca.actualizado_en == BISIESTO
    assert evento.recibido_en == evento.ocurrido_en == BISIESTO
    assert timezone.localdate() == dt.date(2028, 2, 29)


def test_ningun_campo_toma_la_hora_del_servidor_de_base_de_datos():
    """A `db_default` (e.g. `Now()`) would take PostgreSQL's clock, which no frozen run moves."""
    con_db_default = [
        f"{modelo._meta.label}.{campo.name}"
        for modelo in apps.get_models()
        for campo in modelo._meta.concrete_fields
        if getattr(campo, "db_default", NOT_PROVIDED) is not NOT_PROVIDED
    ]
    assert con_db_default == []


_LECTURAS_DEL_RELOJ = {"now", "utcnow", "today", "localdate", "localtime"}


class _LecturasAlImportar(ast.NodeVisitor):
    """Calls that read the clock in code that runs at import: module and class bodies,
    decorators and default values (function bodies run later, inside the test)."""

    def __init__(self) -> None:
        self.lineas: list[int] = []

    def visit_FunctionDef(self, nodo: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for parte in [*nodo.decorator_list, *nodo.args.defaults, *nodo.args.kw_defaults]:
            if parte is not None:
                self.visit(parte)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, nodo: ast.Lambda) -> None:
        for parte in [*nodo.args.defaults, *nodo.args.kw_defaults]:
            if parte is not None:
                self.visit(parte)

    def visit_Call(self, nodo: ast.Call) -> None:
        funcion = nodo.func
        if isinstance(funcion, ast.Attribute) and (
            funcion.attr in _LECTURAS_DEL_RELOJ
            or (
                funcion.attr == "time"
                and isinstance(funcion.value, ast.Name)
                and funcion.value.id == "time"
            )
        ):
            self.lineas.append(nodo.lineno)
        self.generic_visit(nodo)


def _lecturas_del_reloj_al_importar(arbol: ast.Module) -> list[int]:
    visitante = _LecturasAlImportar()
    visitante.visit(arbol)
    return visitante.lineas


def test_ningun_modulo_de_tests_lee_el_reloj_al_importarse():
    """`AHORA = timezone.now()` at module level is evaluated at collection, before ALPES_RELOJ
    (or the pin of a date-sensitive test) applies: compute it per test instead."""
    encontrados = {}
    for carpeta in ("eventos_medios", "comision_recompensa", "tests", "alpespartners"):
        for ruta in (RAIZ / carpeta).rglob("*.py"):
            if "tests" not in ruta.parts and ruta.name != "conftest.py":
                continue
            lineas = _lecturas_del_reloj_al_importar(ast.parse(ruta.read_text(encoding="utf-8")))
            if lineas:
                encontrados[str(ruta.relative_to(RAIZ))] = lineas
    assert encontrados == {}


def test_el_detector_encuentra_una_lectura_al_importar():
    fuente = (
        "from django.utils import timezone\nAHORA = timezone.now()\ndef f():\n    timezone.now()\n"
    )
    assert _lecturas_del_reloj_al_importar(ast.parse(fuente)) == [2]


# --- The rules, run in a separate pytest ----------------------------------------------------------
CASOS = """
import datetime as dt
import time

import pytest


@pytest.mark.integration
def test_integracion():
    pytest.skip("integration tests need PostgreSQL (set DATABASE_URL)")


@pytest.mark.browser
def test_navegador():
    pytest.skip("Chromium not found at /usr/bin/chromium")


@pytest.mark.postgres
def test_bloqueos():
    pytest.skip("needs PostgreSQL (row locks)")


def test_otro():
    pytest.skip("for no reason")


def test_pasa():
    pass


@pytest.mark.reloj
def test_fechado():
    assert dt.datetime.now(dt.UTC).isoformat() == "2028-02-29T23:59:59+00:00"
    time.sleep(0.01)
    assert dt.datetime.now(dt.UTC).isoformat() == "2028-02-29T23:59:59+00:00"


def test_con_tic_tac():
    inicio = dt.datetime.now(dt.UTC)
    assert dt.datetime(2028, 2, 29, 23, 59, 59, tzinfo=dt.UTC) <= inicio
    assert inicio < dt.datetime(2028, 3, 1, 0, 0, 59, tzinfo=dt.UTC)
    time.sleep(0.01)
    assert dt.datetime.now(dt.UTC) > inicio


@pytest.mark.reloj
def test_en_el_borde(request):
    callspec = getattr(request.node, "callspec", None)
    borde = callspec.id if callspec else "ahora"
    if borde != "ahora":
        assert dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == borde


@pytest.mark.integration
def test_con_procesos_reloj_real():
    assert dt.datetime.now(dt.UTC).year != 2100
"""


@pytest.fixture
def correr_pytest(pytester, monkeypatch):
    """Run the cases in a separate pytest (no Django) with only the suite's plugin loaded."""
    monkeypatch.setenv("PYTHONPATH", str(RAIZ))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # no Django, quick start
    for variable in ("CI", "ALPES_RELOJ", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
        monkeypatch.delenv(variable, raising=False)
    pytester.makepyfile(test_casos=CASOS)
    pytester.makeini("[pytest]\nmarkers =\n    integration\n    browser\n    postgres\n    reloj\n")

    def correr(*args: str, **entorno: str):
        for variable, valor in entorno.items():
            monkeypatch.setenv(variable, valor)
        return pytester.runpytest_subprocess(
            "-p", "tests.complemento_pytest", "-p", "no:cacheprovider", *args
        )  # fmt: skip

    return correr


def test_sin_ci_los_omitidos_se_agrupan_con_como_correrlos(correr_pytest):
    resultado = correr_pytest("-k", "not reloj_real", ALPES_RELOJ="2028-02-29T23:59:59Z")
    resultado.assert_outcomes(passed=4, skipped=4)
    salida = resultado.stdout.str()
    assert "skipped groups, and how to run them" in salida
    resultado.stdout.fnmatch_lines(
        [
            "browser: 1 skipped",
            "*to run them: needs Chromium at /usr/bin/chromium*apt-get install -y chromium*",
            "integration/faults: 1 skipped",
            "*to run them: need PostgreSQL and Redis: DATABASE_URL=postgres://*REDIS_URL=redis://*",
            "postgresql (row locks, concurrency): 1 skipped",
            "*to run them: need PostgreSQL: DATABASE_URL=postgres://*",
            "other: 1 skipped",
            "*1 × for no reason",
        ]
    )
    assert "every in-process test starts at 2028-02-29T23:59:59+00:00" in salida


def test_con_ci_un_test_omitido_hace_fallar_la_ejecucion(correr_pytest):
    resultado = correr_pytest(
        "-k", "integracion or navegador or bloqueos or otro or pasa", CI="true"
    )
    resultado.assert_outcomes(passed=1, failed=4)
    assert resultado.ret != 0
    salida = resultado.stdout.str()
    assert "skipped under CI=true: Chromium not found at /usr/bin/chromium" in salida
    assert "skipped under CI=true: integration tests need PostgreSQL" in salida
    assert "skipped under CI=true: needs PostgreSQL (row locks)" in salida
    assert "skipped groups" not in salida


def test_con_ci_un_modulo_omitido_al_importar_tambien_falla(correr_pytest, pytester):
    pytester.makepyfile(test_modulo='import pytest\npytest.importorskip("no_existe_este_modulo")\n')
    resultado = correr_pytest("test_modulo.py", CI="1")
    assert resultado.ret != 0
    assert (
        "skipped under CI=true: could not import 'no_existe_este_modulo'" in resultado.stdout.str()
    )


def test_los_tests_con_procesos_conservan_el_reloj_real(correr_pytest):
    resultado = correr_pytest("-k", "reloj_real", ALPES_RELOJ="2100-01-01T00:00:00Z")
    resultado.assert_outcomes(passed=1)


def test_reloj_invalido_es_un_error_de_uso(correr_pytest):
    resultado = correr_pytest(ALPES_RELOJ="ayer")
    assert resultado.ret == pytest.ExitCode.USAGE_ERROR
    assert "ALPES_RELOJ='ayer' is not an ISO 8601 instant" in resultado.stderr.str()


def test_reloj_bordes_corre_cada_test_fechado_en_cada_borde(correr_pytest):
    resultado = correr_pytest("-k", "en_el_borde", "--reloj-bordes", "-v")
    resultado.assert_outcomes(passed=1 + len(BORDES_DEL_RELOJ))
    for borde in BORDES_DEL_RELOJ:
        resultado.stdout.fnmatch_lines([f"*test_en_el_borde?{borde}? PASSED*"])
