"""The `datos` of each webhook type, and who receives it (PRODUCT.md §10).

Only ids, amounts, states and timestamps: never a name, an e-mail, a free-text reason, the
attribution detail (it lists the other partners of a split) or review evidence. A credit's
datos name only its own partner, so the same datos go to the brand (its programme) and to that
partner (its own); nobody else receives them. Amounts are decimal strings.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps

from comision_recompensa.models import Comision, Pago, Recompensa

CLASES_CREDITO: dict[str, type[Comision] | type[Recompensa]] = {
    "comision": Comision,
    "recompensa": Recompensa,
}


def _texto(valor: Any) -> Any:
    if valor is None:
        return None
    if isinstance(valor, dt.datetime):
        return valor.isoformat().replace("+00:00", "Z")
    if isinstance(valor, Decimal | uuid.UUID):
        return str(valor)
    return valor


@dataclass(frozen=True)
class Hecho:
    """What happened, for whom: the datos, the brand and the partner entitled to them, and the
    credit they are about (for postbacks)."""

    datos: dict[str, Any]
    marca_id: uuid.UUID | None
    socio_id: uuid.UUID | None
    credito_clase: str = ""
    credito_id: uuid.UUID | None = None
    postback: dict[str, Any] | None = None  # macro values, for credits


_CAMPOS_CREDITO = (
    "id",
    "socio_id",
    "evento_id",
    "evento__marca_id",
    "evento__tipo",
    "evento__valor",
    "evento__moneda",
    "evento__click_id",
    "participacion",
    "monto",
    "moneda",
    "estado",
    "pago_id",
    "creado_en",
    "aprobado_en",
    "pagado_en",
    "revertido_en",
)


def _click_del_socio(fila: dict[str, Any], detalle: dict[str, Any]) -> Any:
    """The partner's credited click: its own last click touchpoint, else the event's click."""
    propios = [
        tp
        for tp in detalle.get("touchpoints") or []
        if isinstance(tp, dict) and tp.get("propio") and tp.get("tipo") == "click"
    ]
    if propios:
        return max(propios, key=lambda tp: str(tp.get("ocurrido_en") or "")).get("evento_id")
    return fila["evento__click_id"]


def creditos_hechos(*, clase: str, credito_ids: Iterable[Any]) -> list[Hecho]:
    """One Hecho per existing credit of `clase` among `credito_ids` (in the given order)."""
    modelo = CLASES_CREDITO[clase]
    ids = list(credito_ids)
    filas = {
        f["id"]: f
        for f in modelo.objects.filter(pk__in=ids).values(*_CAMPOS_CREDITO, "detalle_atribucion")
    }
    hechos = []
    for credito_id in ids:
        fila = filas.get(credito_id if isinstance(credito_id, uuid.UUID) else _uuid(credito_id))
        if fila is None:
            continue
        datos = {
            "id": _texto(fila["id"]),
            "clase": clase,
            "estado": fila["estado"],
            "socio_id": _texto(fila["socio_id"]),
            "marca_id": _texto(fila["evento__marca_id"]),
            "evento_id": _texto(fila["evento_id"]),
            "evento_tipo": fila["evento__tipo"],
            "evento_valor": _texto(fila["evento__valor"]),
            "evento_moneda": fila["evento__moneda"] or None,
            "participacion": _texto(fila["participacion"]),
            "monto": _texto(fila["monto"]),
            "moneda": fila["moneda"] or None,
            "pago_id": _texto(fila["pago_id"]),
            "creado_en": _texto(fila["creado_en"]),
            "aprobado_en": _texto(fila["aprobado_en"]),
            "pagado_en": _texto(fila["pagado_en"]),
            "revertido_en": _texto(fila["revertido_en"]),
        }
        macros = {
            "click_id": _texto(_click_del_socio(fila, fila["detalle_atribucion"] or {})),
            "evento_id": datos["evento_id"],
            "tipo": datos["evento_tipo"],
            "monto": datos["monto"],
            "moneda": datos["moneda"],
            "valor": datos["evento_valor"],
        }
        hechos.append(
            Hecho(
                datos=datos,
                marca_id=fila["evento__marca_id"],
                socio_id=fila["socio_id"],
                credito_clase=clase,
                credito_id=fila["id"],
                postback=macros,
            )
        )
    return hechos


def _uuid(valor: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(valor))
    except ValueError:
        return None


def _campo_existe(modelo: type[Any], campo: str) -> bool:
    return any(f.name == campo for f in modelo._meta.get_fields())


def pago_hecho(*, pago_id: Any) -> Hecho | None:
    """The Pago's datos. Its partner receives it; so does its brand when Pagos are per brand
    (a `marca` on the Pago): a Pago spanning several brands goes to no brand."""
    con_marca = _campo_existe(Pago, "marca")
    campos = ["id", "socio_id", "monto", "moneda", "estado", "creado_en", "enviado_en"]
    campos += ["confirmado_en", *(["marca_id"] if con_marca else [])]
    fila = Pago.objects.filter(pk=pago_id).values(*campos).first()
    if fila is None:
        return None
    datos = {campo: _texto(fila[campo]) for campo in campos}
    return Hecho(datos=datos, marca_id=fila.get("marca_id"), socio_id=fila["socio_id"])


def contrato_hecho(*, contrato_id: Any, aceptacion_id: Any, socio_id: Any) -> Hecho:
    """A contract acceptance: the partner that accepted, and the brand of the agreement (when
    the contract is found through its asociacion)."""
    marca_id = asociacion_id = version = None
    registro: Any = apps  # the model lands with the contracts work; looked up by name
    try:
        contrato = registro.get_model("comision_recompensa", "Contrato")
    except LookupError:
        contrato = None
    if contrato is not None:
        fila = (
            contrato.objects.filter(pk=contrato_id)
            .values("asociacion_id", "asociacion__marca_id", "version")
            .first()
        )
        if fila is not None:
            asociacion_id = fila["asociacion_id"]
            marca_id = fila["asociacion__marca_id"]
            version = fila["version"]
    datos = {
        "contrato_id": _texto(contrato_id),
        "aceptacion_id": _texto(aceptacion_id),
        "socio_id": _texto(socio_id),
        "asociacion_id": _texto(asociacion_id),
        "marca_id": _texto(marca_id),
        "version": version,
    }
    return Hecho(datos=datos, marca_id=marca_id, socio_id=_uuid(socio_id))
