"""Demo data of programme control for `manage.py cargar_demo` (a development tool): contracts,
payout profiles and the first payout run, each state visible once loaded.

- afiliado (the `demo-afiliado` login): contract v1 accepted, complete profile (IBAN) → its
  Pago passes every control (`pendiente`, delivered when PAGOS_URL is set);
- influencer: v1 accepted, then v2 published and not accepted yet (a pending contract),
  complete profile (PayPal) → its Pago is `retenido` by `contrato_aceptado`;
- creador de contenido: an incomplete profile (titular only);
- the other partners never filled a profile: their Pagos are `retenido` by `datos_pago`.

Idempotent: versions are looked up by number, acceptances and profiles are idempotent, and the
payout run (approving what the hold period released, then `pagos_generar`) happens only while
the demo brand has no Pago yet.
"""

from __future__ import annotations

import datetime as dt
import uuid

from comision_recompensa.contratos.services import contrato_aceptar, contrato_publicar_version
from comision_recompensa.creditos.services import creditos_aprobar_vencidos
from comision_recompensa.models import Contrato, EstadoPago, Pago
from comision_recompensa.pagos.services import pagos_generar
from comision_recompensa.perfiles.services import perfil_pago_guardar
from eventos_medios.models import Socio, TipoSocio

ORIGEN = "comando:cargar_demo"
TEXTO_V1 = (
    "Alpes Outdoor partner programme — terms, version 1.\n\n"
    "1. Commissions and rewards are earned on sales your links or code bring, as the "
    "agreement's rules say, and approved once the hold period has passed.\n"
    "2. Payouts are made monthly per currency once the balance reaches the minimum.\n"
    "3. Self-referrals, incentivised clicks and brand bidding are not allowed."
)
TEXTO_V2 = TEXTO_V1.replace("version 1", "version 2") + (
    "\n4. Refunded sales are deducted from your next payout (clawback)."
)
PERFILES: dict[str, dict[str, str]] = {
    TipoSocio.AFILIADO: {
        "titular": "Cumbres Blog S.L.",
        "metodo": "transferencia",
        "referencia": "ES9121000418450200051332",
        "pais": "ES",
        "identificacion_fiscal": "B12345678",
    },
    TipoSocio.INFLUENCER: {
        "titular": "Laura Trail",
        "metodo": "paypal",
        "referencia": "laura.trail@partners.example.com",
        "pais": "FR",
        "identificacion_fiscal": "FR40303265045",
    },
    TipoSocio.CREADOR_CONTENIDO: {"titular": "Ruta Andina"},
}


def _version(asociacion_id: uuid.UUID, numero: int, texto: str, desde: dt.date) -> Contrato:
    existente = Contrato.objects.filter(asociacion_id=asociacion_id, version=numero).first()
    if existente is not None:
        return existente
    return contrato_publicar_version(
        asociacion_id=asociacion_id, texto=texto, vigente_desde=desde, por=None, origen=ORIGEN
    )


def _contratos(asociaciones: dict[str, uuid.UUID], socios: dict[str, Socio]) -> None:
    for tipo in (TipoSocio.AFILIADO, TipoSocio.INFLUENCER):
        v1 = _version(asociaciones[tipo], 1, TEXTO_V1, dt.date(2020, 1, 1))
        if not v1.aceptaciones.exists():  # (on later runs v1 may be superseded: keep it)
            contrato_aceptar(
                contrato_id=v1.id, socio_id=socios[tipo].id, usuario_id=None, ip_hash=""
            )
    # The influencer's agreement has new terms it has not accepted yet.
    _version(asociaciones[TipoSocio.INFLUENCER], 2, TEXTO_V2, dt.date(2024, 6, 1))


def programa_demo_cargar(
    *, marca_id: uuid.UUID, asociaciones: dict[str, uuid.UUID], socios: dict[str, Socio]
) -> list[str]:
    """Load the programme-control demo (see the module docstring). Returns summary lines."""
    _contratos(asociaciones, socios)
    for tipo, datos in PERFILES.items():
        perfil_pago_guardar(
            socio_id=socios[tipo].id, datos=datos, parcial=False, por=None, origen=ORIGEN
        )
    if not Pago.objects.filter(marca_id=marca_id).exists():
        creditos_aprobar_vencidos()
        pagos_generar(origen=ORIGEN)
    pagos = Pago.objects.filter(marca_id=marca_id)
    retenidos = pagos.filter(estado=EstadoPago.RETENIDO).count()
    return [
        f"payouts: {pagos.count()} Pagos of the demo brand, {retenidos} held by a compliance "
        "control (see /admin/comision_recompensa/pago/)",
        "contracts: the affiliate accepted v1; the influencer has v2 waiting for acceptance",
    ]
