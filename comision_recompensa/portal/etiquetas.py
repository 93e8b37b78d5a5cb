"""The words the portal shows for the domain's codes (states, event types, partner types,
platforms), translated. The codes themselves stay Spanish identifiers in data and API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

ETIQUETAS: dict[str, dict[str, Any]] = {
    "credito": {
        "pendiente": _("Pending"),
        "aprobada": _("Approved"),
        "pagada": _("Paid"),
        "revertida": _("Reversed"),
    },
    "pago": {
        "pendiente": _("Being prepared"),
        "enviado": _("Sent"),
        "pagado": _("Paid"),
        "fallido": _("Delayed"),
    },
    "clase": {"comision": _("Commission"), "recompensa": _("Reward")},
    "evento": {
        "click": _("click"),
        "interaccion": _("interaction"),
        "lead": _("lead"),
        "registro": _("sign-up"),
        "conversion": _("conversion"),
        "venta": _("sale"),
        "hito": _("milestone"),
    },
    "socio": {
        "afiliado": _("Affiliate"),
        "influencer": _("Influencer"),
        "creador_contenido": _("Content creator"),
        "embajador": _("Ambassador"),
        "socio_b2b": _("B2B partner"),
        "integrador_saas": _("SaaS integrator"),
    },
    "plataforma": {
        "instagram": "Instagram",
        "tiktok": "TikTok",
        "youtube": "YouTube",
        "facebook": "Facebook",
        "x": "X",
        "linkedin": "LinkedIn",
        "twitch": "Twitch",
        "blog": _("Blog"),
        "sitio_web": _("Website"),
        "newsletter": _("Newsletter"),
        "podcast": _("Podcast"),
        "otro": _("Other"),
    },
    "asociacion": {
        "programa_afiliados": _("Affiliate programme"),
        "colaboracion_directa": _("Direct collaboration"),
        "campania": _("Campaign"),
        "programa_lealtad": _("Loyalty programme"),
        "alianza_b2b": _("B2B alliance"),
    },
    "modalidad": {"fijo": _("fixed amount"), "porcentaje": _("percentage of the sale")},
    "item": {"comision": _("Commission"), "recompensa": _("Reward"), "ajuste": _("Adjustment")},
}


def etiqueta(valor: Any, grupo: str) -> Any:
    """The label of code `valor` in `grupo` (the code itself when unknown)."""
    return ETIQUETAS.get(grupo, {}).get(str(valor), valor)


def opciones(grupo: str) -> list[tuple[str, Any]]:
    """(code, label) pairs of a group, for form choices."""
    return list(ETIQUETAS[grupo].items())
