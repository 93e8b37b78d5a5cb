"""The partner portal end to end in a real headless Chromium (Debian's `chromium`, driven by
Playwright), with an accessibility check of every page by axe-core (from the
`axe-playwright-python` package, injected by the test: nothing is loaded from the network).

A person applies to a programme → staff approve it in the admin → the applicant sets a password
from the invitation e-mail → signs in → issues an API key and creates a publicacion with it →
copies its tracking link with the copy button → the brand reports a sale through the API → the
commission appears in the portal with its explanation. A screenshot of each page is saved under
`test-output/portal/`. A second test walks the portal with JavaScript off.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

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
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
SALIDA = Path(__file__).resolve().parents[2] / "test-output" / "portal"
ESPERA_MS = 15_000
CLAVE_NUEVA = "Montañas-y-rutas-2026"
# WCAG 2.1 A and AA rules; a violation of impact serious or critical fails the test.
ETIQUETAS_AXE = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
GRAVES = {"serious", "critical"}

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
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright",
    reason="axe-playwright-python is missing: pip install -r requirements-dev.txt",
)

_ESCUCHA_CSP = """
window.__violaciones = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violaciones.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _orm_junto_a_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop running in this thread (see test_navegador)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def programa(settings, live_server):
    """A brand with an open programme, its API user, and e-mail links pointing at the server."""
    from comision_recompensa.tests.portal.datos import terminos_para
    from eventos_medios.tests.factories import MarcaFactory, UsuarioFactory

    settings.PORTAL_URL = live_server.url
    settings.SOLICITUD_TIEMPO_MINIMO_SEGUNDOS = 1
    marca = MarcaFactory(
        nombre="Alpes Outdoor", slug="alpes-outdoor", sitio_web="https://alpes.example.com"
    )
    terminos_para(marca)
    usuario_marca = UsuarioFactory(username="marca-e2e")
    marca.usuarios.add(usuario_marca)
    return marca, usuario_marca


class Recorrido:
    """One browser page plus what every step checks: a screenshot, axe-core and the CSP."""

    def __init__(self, pagina, base: str) -> None:
        self.pagina = pagina
        self.base = base
        self.numero = 0
        self.violaciones_csp: dict[str, list[str]] = {}
        self.axe = axe_playwright.Axe()

    def ir(self, ruta: str) -> None:
        self.pagina.goto(f"{self.base}{ruta}")

    def revisar(self, nombre: str, *, accesibilidad: bool = True) -> None:
        self.numero += 1
        self.pagina.wait_for_load_state("load")
        self.pagina.screenshot(path=str(SALIDA / f"{self.numero:02d}-{nombre}.png"), full_page=True)
        self.violaciones_csp[nombre] = self.pagina.evaluate("window.__violaciones || []")
        if accesibilidad:
            resultado = self.axe.run(
                self.pagina, options={"runOnly": {"type": "tag", "values": ETIQUETAS_AXE}}
            )
            graves = [
                f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
                for v in resultado.response["violations"]
                if v["impact"] in GRAVES
            ]
            assert graves == [], f"{nombre}: {graves}"


def _api(pagina, metodo: str, url: str, clave: str, datos: dict | None = None):
    respuesta = pagina.request.fetch(
        url,
        method=metodo,
        headers={"Authorization": f"Token {clave}", "Content-Type": "application/json"},
        data=json.dumps(datos) if datos is not None else None,
    )
    assert respuesta.ok, f"{metodo} {url}: {respuesta.status} {respuesta.text()}"
    return respuesta.json()


def _axe_detecta_una_violacion(r: Recorrido) -> None:
    """The check is real: on a page with an image without alt text axe reports a critical
    violation (so an empty list later means the pages passed, not that axe did not run)."""
    r.pagina.set_content('<html lang="es"><body><main><img src="data:,"></main></body></html>')
    resultado = r.axe.run(r.pagina, options={"runOnly": {"type": "tag", "values": ETIQUETAS_AXE}})
    assert "image-alt" in {
        v["id"] for v in resultado.response["violations"] if v["impact"] in GRAVES
    }


def _solicitar(r: Recorrido, marca) -> None:
    r.ir(f"/portal/programas/{marca.slug}/solicitar/")
    r.revisar("solicitud")
    pagina = r.pagina
    pagina.fill("#id_nombre", "Lucía Montaña")
    pagina.fill("#id_email", "lucia@example.com")
    pagina.select_option("#id_tipo_socio", "afiliado")
    pagina.select_option("#id_medio_plataforma", "blog")
    pagina.fill("#id_medio_url", "https://rutas.example.com")
    pagina.fill("#id_mensaje", "Escribo guías de montaña.")
    pagina.check("#id_acepta_terminos")
    pagina.wait_for_timeout(1100)  # a person takes longer than the form's minimum time
    pagina.click("main button[type=submit]")
    pagina.wait_for_url("**/solicitar/enviada/")
    r.revisar("solicitud-enviada")


def _aprobar_en_el_admin(r: Recorrido, staff) -> None:
    from comision_recompensa.models import Solicitud

    pagina = r.pagina
    r.ir("/admin/login/?next=/admin/")
    pagina.fill("#id_username", staff.username)
    pagina.fill("#id_password", "clave-segura-123")
    pagina.click("input[type=submit]")
    pagina.wait_for_url(f"{r.base}/admin/")
    solicitud = Solicitud.objects.get(email="lucia@example.com")
    r.ir(f"/admin/comision_recompensa/solicitud/{solicitud.pk}/change/")
    pagina.click("#resolver-solicitud input[name=aprobar]")
    pagina.wait_for_selector(".messagelist .success")
    r.revisar("admin-aprobada", accesibilidad=False)  # Django's admin, not ours to fix
    pagina.context.clear_cookies()


def _fijar_clave_desde_el_correo(r: Recorrido) -> None:
    from django.core import mail

    invitacion = next(m for m in mail.outbox if "/portal/invitacion/" in m.body)
    enlace = re.search(r"(http://\S+/portal/invitacion/\S+/)", invitacion.body).group(1)
    assert enlace.startswith(r.base)
    r.pagina.goto(enlace)
    r.pagina.wait_for_selector("#id_new_password1")
    r.revisar("invitacion")
    r.pagina.fill("#id_new_password1", CLAVE_NUEVA)
    r.pagina.fill("#id_new_password2", CLAVE_NUEVA)
    r.pagina.click("main button[type=submit]")
    r.pagina.wait_for_url("**/portal/clave/lista/")
    r.revisar("clave-lista")


def _entrar(r: Recorrido) -> None:
    r.ir("/portal/entrar/")
    r.revisar("entrar")
    r.pagina.fill("#id_username", "lucia@example.com")
    r.pagina.fill("#id_password", CLAVE_NUEVA)
    r.pagina.click("main button[type=submit]")
    r.pagina.wait_for_url(f"{r.base}/portal/")
    r.revisar("resumen-vacio")


def _publicar_con_la_api(r: Recorrido, marca) -> dict:
    """The partner issues its API key in the portal and creates a publicacion with it."""
    r.ir("/portal/token/")
    r.pagina.click("main form button[type=submit]")
    r.pagina.wait_for_selector("#clave-nueva")
    r.revisar("clave-api")
    clave = r.pagina.input_value("#clave-nueva")
    medio = _api(r.pagina, "GET", f"{r.base}/api/v1/medios/", clave)["results"][0]
    return _api(
        r.pagina,
        "POST",
        f"{r.base}/api/v1/publicaciones/",
        clave,
        {
            "medio": medio["id"],
            "marca": str(marca.pk),
            "tipo": "articulo",
            "titulo": "Guía de la travesía",
            "url_destino": "https://alpes.example.com/travesia",
        },
    )


def _copiar_enlace(r: Recorrido, publicacion: dict) -> None:
    r.ir("/portal/enlaces/")
    campo = f"#enlace-{publicacion['codigo']}"
    assert r.pagina.input_value(campo) == publicacion["enlace_tracking"]
    boton = r.pagina.locator(f"button[data-copiar='enlace-{publicacion['codigo']}']")
    assert boton.is_visible()  # revealed by the script
    boton.click()
    r.pagina.wait_for_selector(f"#aviso-{publicacion['codigo']}:has-text('Copiado')")
    assert r.pagina.evaluate("navigator.clipboard.readText()") == publicacion["enlace_tracking"]
    r.revisar("enlaces")


def _venta_y_explicacion(r: Recorrido, usuario_marca, publicacion: dict) -> None:
    from conftest import token_para

    _api(
        r.pagina,
        "POST",
        f"{r.base}/api/v1/eventos/",
        token_para(usuario_marca),
        {
            "tipo": "venta",
            "publicacion": publicacion["id"],
            "valor": "120.00",
            "moneda": "EUR",
            "referencia_externa": "E2E-1",
        },
    )
    r.ir("/portal/creditos/")
    r.pagina.wait_for_selector("main table")
    assert "12,00 EUR" in r.pagina.inner_text("main table")
    r.revisar("comisiones")
    r.pagina.click("main table a:has-text('¿Por qué?')")
    r.pagina.wait_for_selector(".explicacion")
    texto = r.pagina.inner_text(".explicacion")
    assert "You earned 100% of this venta of 120.00 EUR for Alpes Outdoor" in texto
    assert "10% of the sale" in texto
    r.revisar("comision-explicada")


def _resto_del_portal(r: Recorrido, socio) -> None:
    from comision_recompensa.tests.factories import PagoFactory

    r.ir("/portal/")
    r.revisar("resumen")
    pago = PagoFactory(socio=socio)
    r.ir("/portal/pagos/")
    r.revisar("pagos")
    r.ir(f"/portal/pagos/{pago.pk}/")
    r.revisar("pago")
    r.ir("/portal/ajustes/")
    r.revisar("ajustes")
    r.pagina.select_option("#selector-idioma", "en")
    r.pagina.click("form.idioma button")
    r.pagina.wait_for_selector("html[lang=en]")
    assert "Settings" in r.pagina.inner_text("h1")
    r.ir("/portal/")
    r.revisar("resumen-en")
    r.pagina.set_viewport_size({"width": 390, "height": 844})
    r.ir("/portal/enlaces/")
    r.revisar("enlaces-movil")


def test_solicitar_aprobar_entrar_copiar_y_ver_la_comision(live_server, transactional_db, programa):
    from eventos_medios.models import Socio
    from eventos_medios.tests.factories import StaffFactory

    marca, usuario_marca = programa
    staff = StaffFactory(username="staff-portal")
    SALIDA.mkdir(parents=True, exist_ok=True)
    pedidas: list[str] = []
    with sync_api.sync_playwright() as pw:
        navegador = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS_CHROMIUM)
        contexto = navegador.new_context(
            user_agent=USER_AGENT,
            viewport={"width": 1280, "height": 900},
            permissions=["clipboard-read", "clipboard-write"],
        )
        contexto.set_default_timeout(ESPERA_MS)
        contexto.add_init_script(_ESCUCHA_CSP)
        pagina = contexto.new_page()
        pagina.on("request", lambda peticion: pedidas.append(peticion.url))
        r = Recorrido(pagina, live_server.url)
        try:
            _axe_detecta_una_violacion(r)
            _solicitar(r, marca)
            _aprobar_en_el_admin(r, staff)
            _fijar_clave_desde_el_correo(r)
            _entrar(r)
            publicacion = _publicar_con_la_api(r, marca)
            _copiar_enlace(r, publicacion)
            _venta_y_explicacion(r, usuario_marca, publicacion)
            _resto_del_portal(r, Socio.objects.get(email="lucia@example.com"))
        except Exception:
            pagina.screenshot(path=str(SALIDA / "fallo.png"), full_page=True)
            raise
        finally:
            contexto.close()
            navegador.close()
    assert {paso: v for paso, v in r.violaciones_csp.items() if v} == {}
    ajenas = [u for u in pedidas if not u.startswith((live_server.url, "data:", "blob:"))]
    assert ajenas == []


def test_sin_javascript_el_portal_funciona(live_server, transactional_db):
    """Everything reads and submits without JavaScript; the copy button (which needs it) stays
    hidden and the link is a plain read-only field."""
    from comision_recompensa.tests.portal.datos import CLAVE, socio_portal
    from eventos_medios.tests.factories import StaffFactory

    d = socio_portal()
    staff = StaffFactory(username="staff-sin-js")
    SALIDA.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        navegador = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS_CHROMIUM)
        contexto = navegador.new_context(user_agent=USER_AGENT, java_script_enabled=False)
        contexto.set_default_timeout(ESPERA_MS)
        pagina = contexto.new_page()
        try:
            pagina.goto(f"{live_server.url}/portal/enlaces/")
            pagina.wait_for_url("**/portal/entrar/?next=/portal/enlaces/")
            pagina.fill("#id_username", d.usuario.username)
            pagina.fill("#id_password", CLAVE)
            pagina.click("main button[type=submit]")
            pagina.wait_for_url(f"{live_server.url}/portal/enlaces/")
            campo = pagina.locator(f"#enlace-{d.publicacion.codigo}")
            assert campo.get_attribute("readonly") is not None
            assert not pagina.locator("button[data-copiar]").first.is_visible()
            pagina.screenshot(path=str(SALIDA / "sin-js-enlaces.png"), full_page=True)
            pagina.click("nav a:has-text('Comisiones y recompensas')")
            pagina.wait_for_url("**/portal/creditos/")
            pagina.select_option("#id_estado", "pagada")
            pagina.click(".filtros button")
            pagina.wait_for_url("**/portal/creditos/?**estado=pagada**")
            assert "6,00 EUR" in pagina.inner_text("main table")
            pagina.click("form.salir button")
            pagina.wait_for_url(f"{live_server.url}/portal/entrar/")
            # A staff user gets the 403 page, pointing to the admin.
            pagina.fill("#id_username", staff.username)
            pagina.fill("#id_password", CLAVE)
            pagina.click("main button[type=submit]")
            pagina.wait_for_selector("text=Este portal es para socios")
            assert pagina.locator("main a[href='/admin/']").count() == 1
            pagina.screenshot(path=str(SALIDA / "sin-js-403.png"), full_page=True)
        finally:
            contexto.close()
            navegador.close()
