"""Commissions and rewards: a filtered list (kind, state, month of the event), newest first,
one keyset page at a time; and one credit with its explanation ("why was I paid this?"),
written by the same function as the API's (`credito_explicar_para`)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime

from comision_recompensa.atribucion.explicacion import credito_explicar_para
from comision_recompensa.creditos.selectors import creditos_filtrar, creditos_visibles
from comision_recompensa.models import TIPOS_SOCIO_RECOMPENSA, Comision, Recompensa
from comision_recompensa.portal.acceso import alcance_portal, pagina, socio_id_de, solo_socios
from comision_recompensa.portal.forms import FiltroCreditosForm
from comision_recompensa.portal.paginacion import paginar
from comision_recompensa.reportes.consultas import HOLGURA_CREDITO, inicio_dia
from eventos_medios.models import Socio

MODELOS: dict[str, Any] = {
    "comision": Comision,
    "recompensa": Recompensa,
}


def _clase_por_defecto(socio_id: Any) -> str:
    tipo = Socio.objects.filter(pk=socio_id).values_list("tipo", flat=True).first()
    return "recompensa" if tipo in TIPOS_SOCIO_RECOMPENSA else "comision"


def _mes_siguiente(mes: dt.date) -> dt.date:
    return (mes.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@solo_socios
def creditos(request: HttpRequest) -> HttpResponse:
    alcance, socio_id = alcance_portal(request), socio_id_de(request)
    filtro = FiltroCreditosForm(request.GET or None)
    datos: dict[str, Any] = filtro.cleaned_data if filtro.is_valid() else {}
    clase = datos.get("clase") or _clase_por_defecto(socio_id)
    qs = creditos_visibles(modelo=MODELOS[clase], alcance=alcance)
    qs = creditos_filtrar(qs, socio=socio_id, estado=datos.get("estado") or None)
    if mes := datos.get("mes"):
        desde = inicio_dia(mes)
        qs = creditos_filtrar(qs, desde=desde).filter(
            evento__ocurrido_en__lt=inicio_dia(_mes_siguiente(mes)),
            # Redundant bound (a credit is created after its event is stored) that lets the
            # (socio, creado_en) index stop early: see reportes.consultas._acotar_creado_en.
            creado_en__gte=desde - HOLGURA_CREDITO,
        )
    pag = paginar(qs, cursor=request.GET.get("despues"))
    parametros = {k: v for k, v in request.GET.items() if k in filtro.fields and v}
    siguiente = urlencode({**parametros, "despues": pag.siguiente}) if pag.siguiente else ""
    return pagina(
        request,
        "portal/creditos/lista.html",
        {
            "filtro": filtro if filtro.is_bound else FiltroCreditosForm(initial={"clase": clase}),
            "clase": clase,
            "pagina": pag,
            "siguiente": siguiente,
            "primera": urlencode(parametros),
        },
    )


@solo_socios
def credito(request: HttpRequest, clase: str, pk: Any) -> HttpResponse:
    """One commission or reward of the partner (another's id, or an unknown one, is a 404)."""
    if clase not in MODELOS:
        raise Http404
    qs = creditos_filtrar(
        creditos_visibles(modelo=MODELOS[clase], alcance=alcance_portal(request)),
        socio=socio_id_de(request),
    )
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    explicacion = credito_explicar_para(credito=obj, alcance=alcance_portal(request))
    explicacion["touchpoints"] = [
        {**t, "momento": parse_datetime(t["ocurrido_en"]) if t.get("ocurrido_en") else None}
        for t in explicacion.get("touchpoints") or []
    ]
    return pagina(
        request,
        "portal/creditos/detalle.html",
        {"credito": obj, "clase": clase, "explicacion": explicacion},
    )
