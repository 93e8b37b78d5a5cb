"""Payouts: the partner's Pagos, newest first, and one Pago with what it pays.

The payout page has a slot for its controls (PRODUCT.md §9, `ControlCumplimiento`: why a
payout is held): `controles_de` returns them for the template's `controles_pago` block; until
controls exist it returns none and the block shows nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse

from comision_recompensa.models import Pago
from comision_recompensa.pagos.selectors import pago_items, pagos_visibles
from comision_recompensa.portal.acceso import alcance_portal, pagina, socio_id_de, solo_socios
from comision_recompensa.portal.paginacion import paginar


def controles_de(pago: Pago) -> list[dict[str, Any]]:
    """The payout's compliance controls as the partner sees them: [{control, superado,
    detalle}]. None exist yet; the payout controls plug in here."""
    return []


@solo_socios
def pagos(request: HttpRequest) -> HttpResponse:
    qs = pagos_visibles(alcance=alcance_portal(request)).filter(socio_id=socio_id_de(request))
    pag = paginar(qs, cursor=request.GET.get("despues"))
    siguiente = urlencode({"despues": pag.siguiente}) if pag.siguiente else ""
    return pagina(request, "portal/pagos/lista.html", {"pagina": pag, "siguiente": siguiente})


@solo_socios
def pago(request: HttpRequest, pk: Any) -> HttpResponse:
    """One Pago of the partner (another's id, or an unknown one, is a 404)."""
    qs = pagos_visibles(alcance=alcance_portal(request)).filter(socio_id=socio_id_de(request))
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return pagina(
        request,
        "portal/pagos/detalle.html",
        {"pago": obj, "items": pago_items(pago=obj), "controles": controles_de(obj)},
    )
