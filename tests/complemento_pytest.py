"""The suite's own pytest rules (loaded by the root conftest; no Django needed here).

- **The clock.** ``ALPES_RELOJ=2028-02-29T23:59:59Z`` makes every in-process test start at
  that instant, with the clock ticking from there (time-machine ``travel(..., tick=True)``).
  Tests marked ``@pytest.mark.reloj`` depend on the date ("today", day and month boundaries,
  hold periods counted from now): their clock is pinned for the whole test, at
  ``ALPES_RELOJ`` or at the instant they start, so a run at 23:59:59 cannot cross midnight
  halfway through one. ``make test-reloj`` runs them at the edges of a day, a month, a year
  and 29 February; ``pytest --reloj-bordes`` runs each once more at every edge in the same
  session (CI does). Tests that drive other processes (markers ``integration``, ``faults``,
  ``browser``, or the ``entorno_procesos`` fixture) keep the real clock: a gunicorn, a Celery
  worker or Chromium cannot share this process's.
- **Nothing goes quietly green in CI.** With ``CI=true`` a skipped test fails the run, with
  the skip's reason: a CI machine without PostgreSQL, Redis or Chromium must not pass.
- **Skips say how to stop skipping.** At the end of a run the skipped tests are grouped (needs
  PostgreSQL and Redis, needs PostgreSQL, needs Chromium, …) with the command that runs them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

VARIABLE_RELOJ = "ALPES_RELOJ"
CLAVE_RELOJ = pytest.StashKey[dt.datetime | None]()
# The edges a date-sensitive test must survive: the end of a day, a month and a year, and
# either side of 29 February (`make test-reloj`, `pytest --reloj-bordes`).
BORDES_DEL_RELOJ = (
    "2026-12-31T23:59:59Z",
    "2027-01-01T00:00:01Z",
    "2028-02-29T00:00:01Z",
    "2028-02-29T23:59:59Z",
    "2028-03-01T00:00:01Z",
)

# Markers whose tests talk to processes with their own clock (or a real browser).
MARCAS_CON_PROCESOS = ("integration", "faults", "browser")

# Skip groups in the end-of-run summary: (marker, title, how to run them). First match wins.
GRUPOS_OMITIDOS = (
    (
        "browser",
        "browser",
        "needs Chromium at /usr/bin/chromium: `sudo apt-get install -y chromium` "
        "(or CHROMIUM_PATH=/path/to/chromium), then `make test`",
    ),
    (
        "faults",
        "integration/faults",
        "need PostgreSQL and Redis: "
        "DATABASE_URL=postgres://USER@HOST:5432/DB REDIS_URL=redis://HOST:6379/N make test",
    ),
    (
        "integration",
        "integration/faults",
        "need PostgreSQL and Redis: "
        "DATABASE_URL=postgres://USER@HOST:5432/DB REDIS_URL=redis://HOST:6379/N make test",
    ),
    (
        "postgres",
        "postgresql (row locks, concurrency)",
        "need PostgreSQL: DATABASE_URL=postgres://USER@HOST:5432/DB make test",
    ),
)


# --- Helpers -----------------------------------------------------------------------------------
def en_ci() -> bool:
    """True when the ``CI`` variable says this is a CI run (``true``, ``1``, ``yes``)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def leer_reloj(valor: str | None) -> dt.datetime | None:
    """The instant in ``ALPES_RELOJ`` (ISO 8601 with a time zone), or None when unset."""
    if not valor or not valor.strip():
        return None
    texto = valor.strip()
    try:
        instante = dt.datetime.fromisoformat(texto)
    except ValueError:
        raise pytest.UsageError(
            f"{VARIABLE_RELOJ}={texto!r} is not an ISO 8601 instant; use e.g. 2028-02-29T23:59:59Z"
        ) from None
    if instante.tzinfo is None:
        raise pytest.UsageError(
            f"{VARIABLE_RELOJ}={texto!r} has no time zone; use e.g. 2028-02-29T23:59:59Z"
        )
    return instante


def usa_procesos(item: pytest.Item) -> bool:
    """True for tests whose other processes (server, worker, browser) keep the real clock."""
    if any(item.get_closest_marker(m) for m in MARCAS_CON_PROCESOS):
        return True
    return "entorno_procesos" in getattr(item, "fixturenames", ())


def motivo_omision(informe: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a skip report gives (``Skipped: `` prefix dropped)."""
    largo = informe.longrepr
    texto = largo[2] if isinstance(largo, tuple) and len(largo) == 3 else str(largo or "")
    return texto.removeprefix("Skipped: ").strip()


def grupo_de(informe: pytest.TestReport | pytest.CollectReport) -> tuple[str, str]:
    """(title, how to run them) of the group a skipped test belongs to."""
    palabras = getattr(informe, "keywords", {}) or {}
    for marca, titulo, como in GRUPOS_OMITIDOS:
        if marca in palabras:
            return titulo, como
    return "other", ""


# --- Hooks ---------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reloj-bordes",
        action="store_true",
        help="run every @pytest.mark.reloj test once more at each of: "
        + ", ".join(BORDES_DEL_RELOJ),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[CLAVE_RELOJ] = leer_reloj(os.environ.get(VARIABLE_RELOJ))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With --reloj-bordes, each date-sensitive test also runs pinned at every edge."""
    if not metafunc.config.getoption("reloj_bordes", False):
        return
    if metafunc.definition.get_closest_marker("reloj") is None:
        return
    metafunc.parametrize(
        "_reloj", [None, *BORDES_DEL_RELOJ], indirect=True, ids=["ahora", *BORDES_DEL_RELOJ]
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    lineas = []
    instante = config.stash.get(CLAVE_RELOJ, None)
    if instante is not None:
        lineas.append(
            f"clock: every in-process test starts at {instante.isoformat()} "
            f"({VARIABLE_RELOJ}, ticking)"
        )
    if en_ci():
        lineas.append("CI=true: a skipped test fails the run")
    return lineas


@pytest.fixture(autouse=True)
def _reloj(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The test's clock.

    - ``@pytest.mark.reloj`` (date-sensitive): the clock stands still for the whole test at
      ``ALPES_RELOJ``, or at the moment the test starts, so "today" cannot change halfway.
    - ``@pytest.mark.time_machine(instant)``: the test's own instant, whatever ``ALPES_RELOJ``.
    - any other in-process test: starts at ``ALPES_RELOJ`` when it is set, then ticks.
    - tests with real processes or a browser: the real clock (they cannot share this one).
    """
    instante = request.config.stash.get(CLAVE_RELOJ, None)
    if getattr(request, "param", None):  # --reloj-bordes
        instante = leer_reloj(request.param)
    fechado = request.node.get_closest_marker("reloj") is not None
    if request.node.get_closest_marker("time_machine"):
        yield None  # the test pins its own instant (time-machine's marker)
        return
    if usa_procesos(request.node):
        if fechado:
            pytest.fail(
                "@pytest.mark.reloj is for in-process tests: other processes keep their clock"
            )
        yield None
        return
    if instante is None and not fechado:
        yield None
        return
    import time_machine

    destino = instante or dt.datetime.now(dt.UTC)
    with time_machine.travel(destino, tick=not fechado) as viajero:
        yield viajero


def _ci_convierte_en_fallo(informe: pytest.TestReport | pytest.CollectReport) -> None:
    motivo = motivo_omision(informe)
    informe.outcome = "failed"
    informe.longrepr = (
        f"skipped under CI=true: {motivo}\n"
        "A CI run must run every test: configure what the test needs (PostgreSQL and Redis "
        "through DATABASE_URL/REDIS_URL, /usr/bin/chromium) instead of skipping it."
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    informe = yield
    if informe.skipped and not hasattr(informe, "wasxfail") and en_ci():
        _ci_convierte_en_fallo(informe)
    return informe


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    informe = yield
    if informe.skipped and en_ci():
        _ci_convierte_en_fallo(informe)
    return informe


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Group the skipped tests by what they need, and say how to run them."""
    omitidos = [i for i in terminalreporter.stats.get("skipped", []) if i.skipped]
    if not omitidos:
        return
    grupos: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for informe in omitidos:
        grupos[grupo_de(informe)][motivo_omision(informe)] += 1
    terminalreporter.section("skipped groups, and how to run them")
    for (titulo, como), motivos in sorted(
        grupos.items(), key=lambda g: (g[0][0] == "other", g[0][0])
    ):
        terminalreporter.write_line(f"{titulo}: {sum(motivos.values())} skipped")
        if como:
            terminalreporter.write_line(f"    to run them: {como}")
        for motivo, cuantos in sorted(motivos.items()):
            terminalreporter.write_line(f"    {cuantos} × {motivo}")
