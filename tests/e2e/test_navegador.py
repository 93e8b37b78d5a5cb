"""End to end in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Staff logs into the admin, creates a publicacion through the admin form, follows its tracking
link, opens the dashboard and sees the click counted, and exports a CSV. A screenshot of the
dashboard is saved to `test-output/tablero.png` for a reviewer.

Playwright only drives the browser: it never downloads one (`playwright install` is not used).
Without `/usr/bin/chromium` the test is skipped; install it with
`sudo apt-get install -y chromium` (CI does this in `.ci/run`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS_CHROMIUM = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A regular desktop browser: the tracking link rightly discards "HeadlessChrome" as a bot.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
SALIDA = Path(__file__).resolve().parents[2] / "test-output"
CLAVE = "clave-segura-123"  # the factories' password
ESPERA_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=(
            f"Chromium not found at {CHROMIUM}: install it with "
            "`sudo apt-get install -y chromium` to run the browser test."
        ),
    ),
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is missing: pip install -r requirements-dev.txt"
)


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _orm_junto_a_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop running in this thread, which makes Django
    refuse ORM calls from the test body; the test's own queries are synchronous and safe."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _datos_demo():
    """Two weeks of a small programme so the screenshot shows real charts, not empty axes."""
    from comision_recompensa.models import EstadoCredito, EstadoPago
    from comision_recompensa.tests.factories import ComisionFactory, PagoFactory
    from eventos_medios.models import EstadoAtribucion, TipoEvento
    from eventos_medios.tests.factories import (
        EventoFactory,
        MarcaFactory,
        MedioMarketingFactory,
        PublicacionFactory,
        SocioFactory,
    )

    azar = random.Random(6)
    # Its links may redirect to the test server itself (PRODUCT.md §8, destinations).
    marca = MarcaFactory(nombre="Alpes Outdoor", dominios=["example.com", "localhost"])
    socios = [SocioFactory(nombre=n) for n in ("Ana Trail", "Blog Cumbres", "Carlos Bici")]
    pubs = [
        PublicacionFactory(
            medio=MedioMarketingFactory(socio=s), marca=marca, titulo=f"{t} de {s.nombre}"
        )
        for s in socios
        for t in ("Reseña", "Reel")
    ]
    ahora = timezone.now()
    for dia in range(14):
        for pub in pubs:
            cuando = ahora - dt.timedelta(days=dia, hours=1)
            for _ in range(azar.randint(1, 6)):
                EventoFactory(
                    publicacion=pub, ocurrido_en=cuando, visitante_id=f"v{azar.randint(1, 40)}"
                )
            if azar.random() < 0.5:
                EventoFactory(publicacion=pub, tipo=TipoEvento.LEAD, ocurrido_en=cuando)
            if azar.random() < 0.3:
                venta = EventoFactory(
                    publicacion=pub,
                    tipo=TipoEvento.VENTA,
                    ocurrido_en=cuando,
                    recibido_en=cuando,
                    atribuido_en=cuando + dt.timedelta(milliseconds=azar.randint(200, 4000)),
                    estado_atribucion=EstadoAtribucion.ATRIBUIDO,
                    valor=Decimal(azar.randint(20, 200)),
                    moneda="EUR",
                )
                ComisionFactory(
                    evento=venta,
                    monto=(venta.valor * Decimal("0.1")).quantize(Decimal("0.01")),
                    estado=azar.choice(
                        [EstadoCredito.PENDIENTE, EstadoCredito.APROBADA, EstadoCredito.PAGADA]
                    ),
                )
    PagoFactory(socio=socios[0], estado=EstadoPago.PAGADO)
    PagoFactory(socio=socios[1], estado=EstadoPago.PENDIENTE)
    PagoFactory(socio=socios[2], estado=EstadoPago.FALLIDO)
    return marca, socios


def test_staff_crea_publicacion_sigue_enlace_y_ve_el_click(live_server, transactional_db):
    from eventos_medios.models import Evento, MedioMarketing, Publicacion, TipoEvento
    from eventos_medios.tests.factories import StaffFactory

    marca, socios = _datos_demo()
    medio = MedioMarketing.objects.filter(socio=socios[0]).first()
    assert medio is not None
    staff = StaffFactory(username="staff-e2e")
    SALIDA.mkdir(exist_ok=True)

    with sync_api.sync_playwright() as pw:
        navegador = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS_CHROMIUM)
        contexto = navegador.new_context(
            user_agent=USER_AGENT, accept_downloads=True, viewport={"width": 1400, "height": 900}
        )
        contexto.set_default_timeout(ESPERA_MS)
        pagina = contexto.new_page()
        try:
            # 1. Log into the admin.
            pagina.goto(f"{live_server.url}/admin/login/?next=/admin/")
            pagina.fill("#id_username", staff.username)
            pagina.fill("#id_password", CLAVE)
            pagina.click("input[type=submit]")
            pagina.wait_for_url(f"{live_server.url}/admin/")
            assert pagina.locator("a[href='/admin/tablero/']").count() == 1

            # 2. Create a publicacion through the admin form (autocomplete widgets included).
            pagina.goto(f"{live_server.url}/admin/eventos_medios/publicacion/add/")
            _autocompletar(pagina, "medio", medio.nombre)
            _autocompletar(pagina, "marca", marca.nombre)
            pagina.select_option("#id_tipo", "reel")
            pagina.fill("#id_titulo", "Reel E2E")
            pagina.fill("#id_url_destino", f"{live_server.url}/health")
            pagina.click("input[name=_save]")
            pagina.wait_for_selector(".messagelist .success")
            publicacion = Publicacion.objects.get(titulo="Reel E2E")

            # 3. The dashboard before the click, then follow the tracking link (302 to /health).
            pagina.goto(f"{live_server.url}/admin/tablero/")
            clicks_antes = _kpi(pagina, "Clicks")
            pagina.goto(f"{live_server.url}/t/{publicacion.codigo}")
            pagina.wait_for_url(f"{live_server.url}/health*")
            assert _esperar(
                lambda: (
                    Evento.objects.filter(publicacion=publicacion, tipo=TipoEvento.CLICK)
                    .exclude(estado_atribucion="descartado")
                    .count()
                    == 1
                )
            ), "the tracking link did not record a (non-bot) click"

            # 4. The dashboard counts it.
            pagina.goto(f"{live_server.url}/admin/tablero/")
            assert pagina.locator(".tablero-grafico svg").count() >= 7
            assert _kpi(pagina, "Clicks") == clicks_antes + 1
            pagina.screenshot(path=str(SALIDA / "tablero.png"), full_page=True)

            # 5. Export the events of the range as CSV: the new click is in it.
            with pagina.expect_download() as descarga:
                pagina.click("#tablero-exportar a:has-text('eventos.csv')")
            ruta = descarga.value.path()
            filas = list(csv.reader(io.StringIO(Path(ruta).read_text(encoding="utf-8"))))
            assert filas[0][:3] == ["id", "tipo", "ocurrido_en"]
            columna_pub = filas[0].index("publicacion_id")
            assert [f[1] for f in filas[1:] if f[columna_pub] == str(publicacion.id)] == ["click"]
        except Exception:
            pagina.screenshot(path=str(SALIDA / "fallo.png"), full_page=True)
            raise
        finally:
            contexto.close()
            navegador.close()


def _kpi(pagina, etiqueta: str) -> int:
    tarjeta = pagina.locator(".tablero-kpi", has_text=etiqueta).first
    return int(tarjeta.locator(".valor").inner_text().replace(",", ""))


def _autocompletar(pagina, campo: str, texto: str) -> None:
    """Pick `texto` in the admin's select2 autocomplete widget for `campo`."""
    pagina.click(f"#id_{campo} + .select2-container .select2-selection")
    pagina.fill(".select2-container--open .select2-search__field", texto)
    pagina.click(f".select2-results__option:has-text('{texto}')")


def _esperar(condicion, segundos: float = 10.0) -> bool:
    """Poll `condicion` until true or the deadline (the click may be written after the 302)."""
    import time

    limite = time.monotonic() + segundos
    while time.monotonic() < limite:
        if condicion():
            return True
        time.sleep(0.1)
    return bool(condicion())


# Records every Content-Security-Policy violation of the page (injected by the browser driver,
# which the page's CSP does not apply to).
_ESCUCHA_CSP = """
window.__violaciones = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violaciones.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def test_hallazgo_15_docs_y_admin_sin_violaciones_de_csp(live_server, transactional_db):
    """Swagger UI renders every operation, and the admin (login, dashboard, forms with their
    autocomplete widgets) works, under the CSP: no violation, no request to another host."""
    from eventos_medios.tests.factories import StaffFactory

    _datos_demo()
    staff = StaffFactory(username="staff-csp")
    with sync_api.sync_playwright() as pw:
        navegador = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS_CHROMIUM)
        contexto = navegador.new_context(user_agent=USER_AGENT)
        contexto.set_default_timeout(ESPERA_MS)
        contexto.add_init_script(_ESCUCHA_CSP)
        pagina = contexto.new_page()
        pedidas: list[str] = []
        pagina.on("request", lambda peticion: pedidas.append(peticion.url))
        violaciones: dict[str, list[str]] = {}

        def visitar(ruta: str, esperar: str) -> None:
            pagina.goto(f"{live_server.url}{ruta}")
            pagina.wait_for_selector(esperar)
            violaciones[ruta] = pagina.evaluate("window.__violaciones")

        try:
            visitar("/api/v1/docs/", ".opblock")
            assert pagina.locator(".opblock").count() > 20  # every operation rendered
            visitar("/admin/login/?next=/admin/", "#id_username")
            pagina.fill("#id_username", staff.username)
            pagina.fill("#id_password", CLAVE)
            pagina.click("input[type=submit]")
            pagina.wait_for_url(f"{live_server.url}/admin/")
            visitar("/admin/tablero/", ".tablero-grafico svg")
            visitar("/admin/eventos_medios/evento/", "#result_list")
            visitar("/admin/eventos_medios/publicacion/add/", "#id_medio")
            pagina.click("#id_medio + .select2-container .select2-selection")
            pagina.wait_for_selector(".select2-results__option")
            violaciones["autocompletar"] = pagina.evaluate("window.__violaciones")
        except Exception:
            SALIDA.mkdir(exist_ok=True)
            pagina.screenshot(path=str(SALIDA / "fallo-csp.png"), full_page=True)
            raise
        finally:
            contexto.close()
            navegador.close()
    assert {ruta: v for ruta, v in violaciones.items() if v} == {}
    ajenas = [u for u in pedidas if not u.startswith((live_server.url, "data:", "blob:"))]
    assert ajenas == []
