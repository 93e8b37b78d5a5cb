"""Abuse: 200 concurrent POSTs of the same event id, and 200 of the same venta
`referencia_externa` under different ids, against a live server.

Promise (PRODUCT.md §2 idempotency, docs/RELIABILITY.md): exactly one event is stored per id
and per (marca, referencia_externa); the repeats get the stored event (200) or a 409 naming it,
never a 5xx; after attribution there is exactly one commission each. Races are settled by the
database constraints (`INSERT … ON CONFLICT DO NOTHING`), not by read-then-write.
"""

from __future__ import annotations

import collections
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from django.db.models import Count

from comision_recompensa.models import Comision, Modalidad
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from conftest import token_para
from eventos_medios.models import EstadoAtribucion, Evento, TipoSocio
from eventos_medios.tests.factories import MarcaFactory, SocioFactory, UsuarioFactory
from tests.procesos import esperar

pytestmark = [pytest.mark.faults, pytest.mark.integration]

N = 200
HILOS = 32


def test_200_posts_concurrentes_crean_un_evento_y_una_comision(entorno_procesos):
    marca = MarcaFactory()
    usuario = UsuarioFactory()
    marca.usuarios.add(usuario)
    socio = SocioFactory(tipo=TipoSocio.AFILIADO)
    ReglaPagoFactory(
        asociacion=AsociacionFactory(marca=marca, socio=socio),
        tipo_evento="venta",
        modalidad=Modalidad.FIJO,
        valor=Decimal("5.00"),
    )
    token = token_para(usuario)
    servidor = entorno_procesos.servidor(workers=4)
    entorno_procesos.worker()

    base = {
        "marca": str(marca.pk),
        "tipo": "venta",
        "valor": "99.90",
        "moneda": "EUR",
        "codigo_referido": socio.codigo_referido,
    }
    mismo_id = {**base, "id": str(uuid.uuid4()), "referencia_externa": f"ped-{uuid.uuid4()}"}
    referencia = f"ped-{uuid.uuid4()}"
    cuerpos = [("mismo_id", mismo_id)] * N + [
        ("misma_referencia", {**base, "id": str(uuid.uuid4()), "referencia_externa": referencia})
        for _ in range(N)
    ]
    # Interleave the two storms so both race at the same time.
    cuerpos = [c for par in zip(cuerpos[:N], cuerpos[N:], strict=True) for c in par]

    def post(item: tuple[str, dict]) -> tuple[str, int, dict]:
        tipo, cuerpo = item
        r = requests.post(
            f"{servidor.url}/api/v1/eventos/",
            json=cuerpo,
            headers={"Authorization": f"Token {token}"},
            timeout=60,
        )
        return tipo, r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=HILOS) as pool:
        resultados = list(pool.map(post, cuerpos))

    por_tipo: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for tipo, estado, _ in resultados:
        por_tipo[tipo][estado] += 1
    # Same id, same body: one 201, every repeat the stored event (200).
    assert por_tipo["mismo_id"] == {201: 1, 200: N - 1}, por_tipo
    assert {c["id"] for t, _, c in resultados if t == "mismo_id"} == {mismo_id["id"]}
    # Same referencia under other ids: one 201, every other a 409 naming the stored event.
    assert por_tipo["misma_referencia"] == {201: 1, 409: N - 1}, por_tipo
    guardado = Evento.objects.get(marca=marca, referencia_externa=referencia)
    assert {
        c.get("evento_id") for t, e, c in resultados if t == "misma_referencia" and e == 409
    } == {str(guardado.pk)}
    assert not any(e >= 500 for _, e, _ in resultados)

    assert Evento.objects.count() == 2
    esperar(
        lambda: not Evento.objects.filter(estado_atribucion=EstadoAtribucion.PENDIENTE).exists(),
        timeout=45,
        intervalo=0.2,
        mensaje="both events attributed",
    )
    comisiones = Comision.objects.count()
    duplicados = (
        Comision.objects.values("evento_id").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    assert comisiones == 2
    assert set(Comision.objects.values_list("evento_id", flat=True)) == {
        uuid.UUID(mismo_id["id"]),
        guardado.pk,
    }
    assert duplicados == 0
    print(
        f"\n[concurrencia] peticiones={len(resultados)} "
        f"mismo_id={dict(por_tipo['mismo_id'])} "
        f"misma_referencia={dict(por_tipo['misma_referencia'])} "
        f"5xx=0 eventos_almacenados={Evento.objects.count()} comisiones={comisiones} "
        f"duplicados={duplicados}"
    )
