"""The compliance controls of a Pago (PRODUCT.md §9, ControlCumplimiento): a registry of small
functions, each reading what it needs and answering passed/failed with a detail that the
partner, the brand and staff can read (never a payout reference in clear).

A new control is one more decorated function here (or in any module imported at start-up):

    @control("limite_mensual")
    def limite_mensual(contexto: ContextoControl) -> ResultadoControl: ...

No existing function changes; `pagos.cumplimiento` runs every registered control in
registration order and stores one ControlCumplimiento row per control.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from comision_recompensa.contratos.selectors import aceptaciones_de, contratos_vigentes
from comision_recompensa.models import Comision, EstadoCredito, Recompensa
from comision_recompensa.perfiles.selectors import perfil_estado, perfil_pago_de
from comision_recompensa.perfiles.validacion import referencia_enmascarar
from eventos_medios.models import Socio


@dataclass(frozen=True)
class ContextoControl:
    """What a control knows of the Pago under check."""

    pago_id: uuid.UUID
    socio_id: uuid.UUID
    marca_id: uuid.UUID | None  # None: a legacy Pago mixing brands, or brandless money
    moneda: str
    asociacion_ids: tuple[uuid.UUID, ...]  # the agreements its items were earned under
    hoy: dt.date


@dataclass(frozen=True)
class ResultadoControl:
    paso: bool
    detalle: str


Control = Callable[[ContextoControl], ResultadoControl]
CONTROLES: dict[str, Control] = {}


def control(nombre: str) -> Callable[[Control], Control]:
    """Register a control under `nombre` (its stable name in the API and the admin)."""

    def registrar(funcion: Control) -> Control:
        if nombre in CONTROLES and CONTROLES[nombre] is not funcion:
            raise ValueError(f"control {nombre!r} is already registered")
        CONTROLES[nombre] = funcion
        return funcion

    return registrar


@control("contrato_aceptado")
def contrato_aceptado(contexto: ContextoControl) -> ResultadoControl:
    """The version in force of each agreement the Pago's money was earned under is accepted
    by the partner. An agreement with no published contract passes."""
    vigentes = contratos_vigentes(asociacion_ids=contexto.asociacion_ids, fecha=contexto.hoy)
    if not vigentes:
        return ResultadoControl(True, "No contract applies to this payout's agreements.")
    aceptadas = aceptaciones_de(
        contrato_ids=[c.pk for c in vigentes.values()], socio_id=contexto.socio_id
    )
    faltan = [c for c in vigentes.values() if c.pk not in aceptadas]
    if faltan:
        partes = [
            f"version {c.version} of the contract with {c.asociacion.marca.nombre} "
            f"(in force since {c.vigente_desde}; accept it: POST /api/v1/contratos/{c.pk}/aceptar/)"
            for c in sorted(faltan, key=lambda c: (c.asociacion.marca.nombre, c.version))
        ]
        return ResultadoControl(False, "Not accepted: " + "; ".join(partes) + ".")
    versiones = ", ".join(
        f"v{c.version} ({c.asociacion.marca.nombre})"
        for c in sorted(vigentes.values(), key=lambda c: c.asociacion.marca.nombre)
    )
    return ResultadoControl(True, f"Contract accepted: {versiones}.")


@control("datos_pago")
def datos_pago(contexto: ContextoControl) -> ResultadoControl:
    """The partner's payout profile is complete and valid."""
    perfil = perfil_pago_de(socio_id=contexto.socio_id)
    estado = perfil_estado(perfil)
    if perfil is None:
        return ResultadoControl(False, "No payout profile: fill it in (PUT /api/v1/perfil-pago/).")
    if not estado.completo:
        partes = []
        if estado.faltan:
            partes.append("missing " + ", ".join(estado.faltan))
        if estado.invalidos:
            partes.append("invalid " + ", ".join(estado.invalidos))
        return ResultadoControl(False, "Payout profile incomplete: " + "; ".join(partes) + ".")
    masked = referencia_enmascarar(perfil.metodo, perfil.referencia)
    return ResultadoControl(True, f"Payout profile complete ({perfil.metodo} {masked}).")


@control("sin_revision_abierta")
def sin_revision_abierta(contexto: ContextoControl) -> ResultadoControl:
    """No credit of the partner with this brand (any brand, for a brandless Pago) is under
    fraud review."""
    total = 0
    for modelo in (Comision, Recompensa):
        qs = modelo.objects.filter(socio_id=contexto.socio_id, estado=EstadoCredito.EN_REVISION)
        if contexto.marca_id is not None:
            qs = qs.filter(evento__marca_id=contexto.marca_id)
        total += qs.count()
    if total:
        return ResultadoControl(False, f"{total} credit(s) of this partner are under review.")
    return ResultadoControl(True, "No credit under review.")


@control("socio_activo")
def socio_activo(contexto: ContextoControl) -> ResultadoControl:
    """The partner is active."""
    activo = Socio.objects.filter(pk=contexto.socio_id, activo=True).exists()
    if not activo:
        return ResultadoControl(False, "The partner is deactivated.")
    return ResultadoControl(True, "The partner is active.")
