"""A marca's default terms (`TerminosPorDefecto`, `ReglaTerminos`) turned into an agreement.

Approving an application (`solicitudes.services.solicitud_aprobar`) calls
`asociacion_desde_terminos` once, inside its transaction. It is the one place where an
agreement is made from a template: when contracts exist (`Contrato`, PRODUCT.md §9), the first
contract version, with `TerminosPorDefecto.texto_contrato`, is created here too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from alpespartners.errors import Conflicto
from comision_recompensa.asociaciones.services import asociacion_crear
from comision_recompensa.models import AsociacionEstrategica, ReglaTerminos, TerminosPorDefecto
from eventos_medios.models import Marca, Socio

__all__ = ["asociacion_desde_terminos", "reglas_de_terminos", "terminos_de"]


def terminos_de(*, marca: Marca) -> TerminosPorDefecto | None:
    """The marca's default terms with their rules, or None when it has none."""
    return TerminosPorDefecto.objects.filter(marca=marca).prefetch_related("reglas").first()


def reglas_de_terminos(terminos: TerminosPorDefecto) -> list[dict[str, Any]]:
    """The terms' rules as `asociacion_crear` takes them (the fields of a `ReglaPago`)."""
    reglas: list[ReglaTerminos] = list(terminos.reglas.all())
    return [
        {
            "tipo_evento": r.tipo_evento,
            "modalidad": r.modalidad,
            "valor": r.valor,
            "moneda": r.moneda,
            "tope": r.tope,
        }
        for r in reglas
    ]


def asociacion_desde_terminos(
    *, marca: Marca, socio: Socio, desde: dt.date, por: Any = None
) -> AsociacionEstrategica:
    """Create the agreement between `marca` and `socio` from the marca's default terms, valid
    from `desde` with no end, with a copy of the terms' rules. Conflicto when the marca has no
    default terms (staff must set them before approving)."""
    terminos = terminos_de(marca=marca)
    if terminos is None:
        raise Conflicto(
            f"{marca.nombre} has no default terms: set them (type, hold days, rules) in the admin "
            "before approving applications.",
            campo="terminos_por_defecto",
        )
    asociacion = asociacion_crear(
        marca=marca,
        socio=socio,
        tipo=terminos.tipo,
        vigencia_inicio=desde,
        dias_retencion=terminos.dias_retencion,
        reglas=reglas_de_terminos(terminos),
    )
    # Contracts (PRODUCT.md §9): create the agreement's first contract version here, from
    # `terminos.texto_contrato`, and send `contrato_publicado` inside this transaction.
    return asociacion
