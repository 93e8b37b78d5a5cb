"""The partner's tracking links (one per publicacion) with a copy button and their clicks of
the last 30 days and in total, from the per-publicacion rollup, one page at a time."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from comision_recompensa.portal.acceso import alcance_portal, pagina, socio_id_de, solo_socios
from comision_recompensa.portal.paginacion import paginar
from comision_recompensa.reportes.selectors import clicks_publicaciones
from eventos_medios.enlaces import enlace_tracking
from eventos_medios.selectors import publicaciones_visibles

DIAS_RECIENTES = 30


@solo_socios
def enlaces(request: HttpRequest) -> HttpResponse:
    alcance = alcance_portal(request)
    publicaciones = publicaciones_visibles(alcance=alcance).filter(
        medio__socio_id=socio_id_de(request)
    )
    pag = paginar(publicaciones, cursor=request.GET.get("despues"))
    ids = [p.pk for p in pag.filas]
    hoy = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    recientes = clicks_publicaciones(
        alcance=alcance, publicacion_ids=ids, desde=hoy - dt.timedelta(days=DIAS_RECIENTES - 1)
    )
    siempre = clicks_publicaciones(alcance=alcance, publicacion_ids=ids)
    filas = [
        {
            "publicacion": p,
            "enlace": enlace_tracking(p.codigo, request),
            "recientes": recientes.get(p.pk, {}).get("clicks", 0),
            "unicos_recientes": recientes.get(p.pk, {}).get("clicks_unicos", 0),
            "total": siempre.get(p.pk, {}).get("clicks", 0),
        }
        for p in pag.filas
    ]
    return pagina(
        request,
        "portal/enlaces.html",
        {"filas": filas, "pagina": pag, "dias": DIAS_RECIENTES},
    )
