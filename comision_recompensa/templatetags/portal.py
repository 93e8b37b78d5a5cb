"""Template filters of the partner portal and its e-mails."""

from __future__ import annotations

from typing import Any

from django import template

from comision_recompensa.portal.etiquetas import etiqueta as _etiqueta

register = template.Library()


@register.filter
def etiqueta(valor: Any, grupo: str) -> Any:
    """`{{ credito.estado|etiqueta:"credito" }}`: the translated word for a code."""
    return _etiqueta(valor, grupo)
