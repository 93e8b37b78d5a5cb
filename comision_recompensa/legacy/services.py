"""Writes behind the seed prototype's test endpoints ``/prueba/comision-comando`` and
``/prueba/recompensa-comando`` (PRODUCT.md §7).

The prototype created a commission or reward for an event by hand. Mapped onto this model:
the credit goes to the event's partner (``evento.socio``; an event without one is a 400,
nothing is invented), for the whole event (``participacion = 1``), with the amount from the body
(``monto_comision.valor`` / ``monto_recompensa.valor``, 0 when absent), state ``pendiente``
(it follows the normal approval and payout lifecycle), the agreement active on the event's
date when there is one, and a ``detalle_atribucion`` in the engine's shape
(``atribucion.detalle``) saying it was entered manually through the legacy endpoint. A Comision
is only for afiliado / socio_b2b / integrador_saas partners and a Recompensa for the others
(PRODUCT.md §1). Supplied ids are kept; the same id with the same
body is accepted again; the same id with another body, or a second live credit for the same
(event, partner), is a Conflicto.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from alpespartners.dinero import DineroInvalido, dinero_parsear
from alpespartners.errors import Conflicto, ErrorDominio
from comision_recompensa.asociaciones.selectors import asociacion_vigente
from comision_recompensa.atribucion.detalle import (
    DetalleAtribucion,
    Metodo,
    Motivo,
    detalle_asociacion,
    detalle_base,
    detalle_construir,
    detalle_evento,
)
from comision_recompensa.atribucion.modelos import formatear_credito
from comision_recompensa.models import (
    TIPOS_SOCIO_COMISION,
    TIPOS_SOCIO_RECOMPENSA,
    AsociacionEstrategica,
    Comision,
    Recompensa,
)
from eventos_medios.models import CODIGOS_MONEDA, Evento

__all__ = [
    "MONEDA_LEGADO_POR_DEFECTO",
    "comision_legado_registrar",
    "recompensa_legado_registrar",
]

# Currency when neither the body, the event nor the partner's agreement names one.
MONEDA_LEGADO_POR_DEFECTO = "USD"
_MAX_DESCRIPCION = 300


def _uuid_requerido(valor: Any, campo: str) -> uuid.UUID:
    resultado = _uuid(valor, campo, obligatorio=True)
    assert resultado is not None
    return resultado


def _uuid(valor: Any, campo: str, *, obligatorio: bool) -> uuid.UUID | None:
    if valor is None or valor == "":
        if obligatorio:
            raise ErrorDominio(f"{campo} is required.", campo=campo)
        return None
    try:
        return uuid.UUID(str(valor))
    except ValueError:
        raise ErrorDominio(f"{campo} must be a UUID.", campo=campo) from None


def _monto(bruto: Any, campo: str) -> tuple[Decimal, str]:
    """``{"valor": 1, "moneda"?: "EUR"}`` (or a bare number) → (amount, currency or "")."""
    moneda: Any = ""
    if isinstance(bruto, dict):
        moneda = bruto.get("moneda") or ""
        bruto = bruto.get("valor")
    if not isinstance(moneda, str):
        raise ErrorDominio(f"{campo}.moneda must be an ISO 4217 code.", campo=campo)
    moneda = moneda.strip().upper()
    if moneda and moneda not in CODIGOS_MONEDA:
        raise ErrorDominio(
            f"{campo}.moneda must be an active ISO 4217 currency code (not a testing, "
            "precious-metal or fund code).",
            campo=campo,
        )
    if bruto is None or bruto == "":
        return Decimal("0.00"), moneda
    try:
        # The API's money rules (PRODUCT.md §8): plain digits, at most two decimals.
        return dinero_parsear(bruto), moneda
    except DineroInvalido as exc:
        raise ErrorDominio(f"{campo}.valor: {exc}", campo=campo) from None


@dataclass(frozen=True)
class _PeticionLegada:
    """A seed body, validated: the credit's id, its event, amount, currency and description."""

    pk: uuid.UUID
    evento_id: uuid.UUID
    monto: Decimal
    moneda: str
    descripcion: str


def _leer(datos: dict[str, Any], campo_monto: str) -> _PeticionLegada:
    pk = _uuid(datos.get("id"), "id", obligatorio=False) or uuid.uuid4()
    evento_id = _uuid_requerido(datos.get("id_evento"), "id_evento")
    monto, moneda = _monto(datos.get(campo_monto), campo_monto)
    descripcion = datos.get("descripcion") or ""
    if not isinstance(descripcion, str) or len(descripcion) > _MAX_DESCRIPCION:
        raise ErrorDominio(
            f"descripcion must be a text of at most {_MAX_DESCRIPCION} characters.",
            campo="descripcion",
        )
    return _PeticionLegada(pk, evento_id, monto, moneda, descripcion)


def _evento_con_socio(evento_id: uuid.UUID, modelo: type[Comision] | type[Recompensa]) -> Evento:
    """The event and its partner, who must be paid with this kind of credit (PRODUCT.md §1)."""
    evento = Evento.objects.filter(pk=evento_id).select_related("socio").first()
    if evento is None:
        raise ErrorDominio(f"Unknown id_evento {evento_id}.", campo="id_evento")
    socio = evento.socio
    if socio is None:
        raise ErrorDominio(
            f"Event {evento_id} has no partner (its medio has no socio): nothing to credit.",
            campo="id_evento",
        )
    tipos_validos = TIPOS_SOCIO_COMISION if modelo is Comision else TIPOS_SOCIO_RECOMPENSA
    if socio.tipo not in tipos_validos:
        otro = "recompensa" if modelo is Comision else "comision"
        raise ErrorDominio(
            f"The event's partner is a {socio.tipo}: it is paid with a {otro}.",
            campo="id_evento",
        )
    return evento


def _detalle(
    evento: Evento,
    asociacion: AsociacionEstrategica | None,
    *,
    monto: Decimal,
    moneda: str,
    endpoint: str,
) -> DetalleAtribucion:
    """The credit's explanation, in the engine's shape: entered by hand, 100 % to the event's
    partner, under the agreement active that day (if any), no rule."""
    base = detalle_base(
        metodo=Metodo.MANUAL_LEGADO, modelo=None, ventana_dias=None, evento=detalle_evento(evento)
    )
    return detalle_construir(
        base,
        touchpoints=[],
        socio_id=str(evento.socio_id),
        participacion=formatear_credito(Decimal(1)),
        asociacion=detalle_asociacion(asociacion) if asociacion is not None else None,
        regla=None,
        calculo={
            "base": None,
            "total_regla": str(monto),
            "tope_aplicado": False,
            "total": str(monto),
        },
        monto=str(monto),
        moneda=moneda,
        motivo=Motivo.MANUAL,
        nota=f"Entered manually through the legacy endpoint {endpoint}.",
    )


def _registrar(
    *,
    modelo: type[Comision] | type[Recompensa],
    datos: dict[str, Any],
    campo_monto: str,
    endpoint: str,
) -> tuple[Comision | Recompensa, bool]:
    peticion = _leer(datos, campo_monto)
    evento = _evento_con_socio(peticion.evento_id, modelo)
    asociacion = (
        asociacion_vigente(
            marca_id=evento.marca_id, socio_id=evento.socio_id, fecha=evento.ocurrido_en.date()
        )
        if evento.marca_id and evento.socio_id
        else None
    )
    moneda = peticion.moneda or evento.moneda
    if not moneda and asociacion is not None:
        moneda = next((r.moneda for r in asociacion.reglas.all()), "")
    moneda = moneda or MONEDA_LEGADO_POR_DEFECTO
    campos: dict[str, Any] = {
        "socio_id": evento.socio_id,
        "evento_id": evento.pk,
        "monto": peticion.monto,
        "moneda": moneda,
    }
    if modelo is Recompensa:
        campos["descripcion"] = peticion.descripcion
    existente = modelo.objects.filter(pk=peticion.pk).values(*campos).first()
    if existente is not None:
        if any(existente[c] != v for c, v in campos.items()):
            raise Conflicto(
                f"A {modelo._meta.model_name} with id {peticion.pk} exists with a different body.",
                campo="id",
            )
        return modelo.objects.get(pk=peticion.pk), False
    detalle = _detalle(evento, asociacion, monto=peticion.monto, moneda=moneda, endpoint=endpoint)
    return _crear(modelo, peticion.pk, campos, asociacion, detalle)


def _crear(
    modelo: type[Comision] | type[Recompensa],
    pk: uuid.UUID,
    campos: dict[str, Any],
    asociacion: AsociacionEstrategica | None,
    detalle: DetalleAtribucion,
) -> tuple[Comision | Recompensa, bool]:
    try:
        with transaction.atomic():
            credito = modelo.objects.create(
                pk=pk,
                asociacion=asociacion,
                participacion=Decimal("1"),
                detalle_atribucion=detalle,
                **campos,
            )
    except IntegrityError:
        if modelo.objects.filter(pk=pk, **campos).exists():  # a concurrent identical request
            return modelo.objects.get(pk=pk), False
        raise Conflicto(
            f"Event {campos['evento_id']} already has a live {modelo._meta.model_name} for its "
            f"partner, or the id {pk} is taken.",
            campo="id_evento",
        ) from None
    return credito, True


@transaction.atomic
def comision_legado_registrar(*, datos: dict[str, Any]) -> tuple[Comision, bool]:
    """Create a Comision for ``id_evento`` from a seed body; see the module docstring.

    Body: ``id``, ``id_evento``, ``monto_comision`` (``{"valor": 1, "moneda"?: "EUR"}``).
    Returns (comision, created).
    """
    credito, creado = _registrar(
        modelo=Comision,
        datos=datos,
        campo_monto="monto_comision",
        endpoint="/prueba/comision-comando",
    )
    assert isinstance(credito, Comision)
    return credito, creado


@transaction.atomic
def recompensa_legado_registrar(*, datos: dict[str, Any]) -> tuple[Recompensa, bool]:
    """Create a Recompensa for ``id_evento`` from a seed body; see the module docstring.

    Body: ``id``, ``id_evento``, ``descripcion``, optional ``monto_recompensa`` (same shape
    as ``monto_comision``; 0 when absent). Returns (recompensa, created).
    """
    credito, creado = _registrar(
        modelo=Recompensa,
        datos=datos,
        campo_monto="monto_recompensa",
        endpoint="/prueba/recompensa-comando",
    )
    assert isinstance(credito, Recompensa)
    return credito, creado
