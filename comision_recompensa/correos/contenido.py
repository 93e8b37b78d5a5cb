"""What an e-mail says: its subject and bodies rendered from `templates/correos/<tipo>.*` in the
recipient's language, and the absolute links it carries (built from `settings.PORTAL_URL`:
e-mails are written outside any request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


@dataclass(frozen=True)
class Contenido:
    asunto: str
    texto: str
    html: str


def url_absoluta(ruta: str) -> str:
    """`ruta` (a path) under the portal's public base URL."""
    return f"{settings.PORTAL_URL}{ruta}"


def url_portal(nombre: str, **kwargs: Any) -> str:
    """The absolute URL of the portal view `nombre` (e.g. "portal:entrar")."""
    return url_absoluta(reverse(nombre, kwargs=kwargs or None))


def correo_componer(*, tipo: str, idioma: str, contexto: dict[str, Any]) -> Contenido:
    """Render the e-mail of `tipo` in `idioma`: `correos/<tipo>_asunto.txt` (one line),
    `correos/<tipo>.txt` and `correos/<tipo>.html`."""
    datos = {"portal_url": url_portal("portal:resumen"), "idioma": idioma, **contexto}
    with translation.override(idioma):
        asunto = render_to_string(f"correos/{tipo}_asunto.txt", datos)
        texto = render_to_string(f"correos/{tipo}.txt", datos)
        html = render_to_string(f"correos/{tipo}.html", datos)
    return Contenido(asunto=" ".join(asunto.split())[:300], texto=texto.strip() + "\n", html=html)
