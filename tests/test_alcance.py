"""One access scope (`alpespartners.alcance`): for every kind of caller, each API list, each
report total and each CSV export count the very same rows.

The world has two programmes that overlap (one partner publishes for both brands), a discarded
click, credits in several states and currencies, and payouts; every caller sees a different,
non-empty slice of it (except the user linked to nothing)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal

import pytest

from alpespartners import alcance as acceso
from comision_recompensa.contratos.services import contrato_publicar_version
from comision_recompensa.models import Comision, Contrato, EstadoCredito, Pago, Recompensa
from comision_recompensa.tests.factories import (
    AsociacionFactory,
    ComisionFactory,
    PagoFactory,
    RecompensaFactory,
)
from conftest import cliente_para
from eventos_medios.models import EstadoAtribucion, Evento, MotivoDescarte, TipoEvento, TipoSocio
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    StaffFactory,
    UsuarioFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _programa(marca, socio):
    pub = PublicacionFactory(medio=MedioMarketingFactory(socio=socio), marca=marca)
    EventoFactory(publicacion=pub)
    EventoFactory(
        publicacion=pub,
        estado_atribucion=EstadoAtribucion.DESCARTADO,
        motivo_descarte=MotivoDescarte.DUPLICADO,
    )
    ventas = [
        EventoFactory(
            publicacion=pub,
            tipo=TipoEvento.VENTA,
            valor=Decimal("100.00"),
            moneda=moneda,
            referencia_externa=f"{pub.codigo}-{i}",
        )
        for i, moneda in enumerate(("EUR", "EUR", "USD"))
    ]
    asociacion = AsociacionFactory(marca=marca, socio=socio)
    contrato_publicar_version(asociacion_id=asociacion.id, texto="terms", por=None, origen="t")
    fabrica = ComisionFactory if socio.tipo == TipoSocio.AFILIADO else RecompensaFactory
    estados = (EstadoCredito.PENDIENTE, EstadoCredito.APROBADA, EstadoCredito.REVERTIDA)
    for venta, estado in zip(ventas, estados, strict=True):
        fabrica(evento=venta, monto=Decimal("7.50"), moneda=venta.moneda, estado=estado)


@pytest.fixture
def roles():
    marca_a, marca_b = MarcaFactory(), MarcaFactory()
    socio_a = SocioFactory(tipo=TipoSocio.AFILIADO, usuario=UsuarioFactory())
    socio_b = SocioFactory(tipo=TipoSocio.INFLUENCER, usuario=UsuarioFactory())
    _programa(marca_a, socio_a)
    _programa(marca_b, socio_b)
    _programa(marca_b, socio_a)  # socio_a also works for marca_b
    PagoFactory(socio=socio_a, marca=marca_a)
    PagoFactory(socio=socio_a, marca=marca_b)
    PagoFactory(socio=socio_b, marca=marca_b)
    PagoFactory(socio=socio_a)  # a legacy Pago, before payouts were per brand
    usuario_marca_a = UsuarioFactory()
    marca_a.usuarios.add(usuario_marca_a)
    ambos = UsuarioFactory()  # a brand user of marca_b with a partner of its own
    marca_b.usuarios.add(ambos)
    return {
        "staff": StaffFactory(),
        "marca": usuario_marca_a,
        "socio": socio_a.usuario,
        "marca_y_socio": _con_socio(ambos),
        "sin_vinculo": UsuarioFactory(),
    }


def _con_socio(usuario):
    """Link `usuario` to a partner of its own too (a user with both kinds of link)."""
    socio = SocioFactory(tipo=TipoSocio.INFLUENCER, usuario=usuario)
    _programa(MarcaFactory(), socio)
    return usuario


def _ids_api(cliente, ruta: str) -> list[str]:
    resp = cliente.get(f"{API}/{ruta}?page_size=500")
    assert resp.status_code == 200, resp.content
    cuerpo = resp.json()
    assert not cuerpo.get("next"), "a single page must hold the whole world"
    return [fila["id"] for fila in cuerpo["results"]]


def _csv(cliente, recurso: str) -> list[dict[str, str]]:
    resp = cliente.get(f"{API}/exportaciones/{recurso}/")
    assert resp.status_code == 200
    texto = b"".join(resp.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(texto)))


def _dinero(filas: list[dict[str, str]]) -> dict[tuple[str, str], Decimal]:
    """Amount per (moneda, estado) of exported credits."""
    total: Counter[tuple[str, str]] = Counter()
    for fila in filas:
        total[(fila["moneda"], fila["estado"])] += Decimal(fila["monto"])
    return dict(total)


def _dinero_informe(bloque: dict) -> dict[tuple[str, str], Decimal]:
    return {
        (moneda, estado): Decimal(monto)
        for moneda, por_estado in bloque["monto"].items()
        for estado, monto in por_estado.items()
        if Decimal(monto)
    }


@pytest.mark.parametrize("rol", ["staff", "marca", "socio", "marca_y_socio", "sin_vinculo"])
def test_listas_informes_y_exportaciones_coinciden(roles, rol):
    usuario = roles[rol]
    cliente = cliente_para(usuario)
    alcance = acceso.alcance_de(usuario)
    informe = cliente.get(f"{API}/reportes/resumen/").json()

    eventos = set(_ids_api(cliente, "eventos/"))
    assert eventos == {f["id"] for f in _csv(cliente, "eventos")}
    esperados = acceso.filtrar(Evento.objects.all(), acceso.q_eventos(alcance))
    assert eventos == {str(i) for i in esperados.values_list("id", flat=True)}
    assert informe["eventos_total"] + informe["descartados"] == len(eventos)

    for recurso, modelo, clave in (
        ("comisiones", Comision, "comisiones"),
        ("recompensas", Recompensa, "recompensas"),
    ):
        lista = set(_ids_api(cliente, f"{recurso}/"))
        exportadas = _csv(cliente, recurso)
        assert lista == {f["id"] for f in exportadas}, recurso
        esperadas = acceso.filtrar(modelo.objects.all(), acceso.q_creditos(alcance))
        assert lista == {str(i) for i in esperadas.values_list("id", flat=True)}, recurso
        assert sum(informe[clave]["cantidad"].values()) == len(lista), recurso
        assert _dinero_informe(informe[clave]) == _dinero(exportadas), recurso

    pagos = set(_ids_api(cliente, "pagos/"))
    assert pagos == {f["id"] for f in _csv(cliente, "pagos")}
    esperados_pagos = acceso.filtrar(Pago.objects.all(), acceso.q_pagos(alcance))
    assert pagos == {str(i) for i in esperados_pagos.values_list("id", flat=True)}

    contratos = set(_ids_api(cliente, "contratos/"))
    esperados_contratos = acceso.filtrar(Contrato.objects.all(), acceso.q_contratos(alcance))
    assert contratos == {str(i) for i in esperados_contratos.values_list("id", flat=True)}


def test_cada_rol_ve_una_porcion_distinta(roles):
    """The equalities above are not vacuous: the slices differ and only staff sees it all."""
    vistos = {
        rol: frozenset(_ids_api(cliente_para(usuario), "eventos/"))
        for rol, usuario in roles.items()
    }
    assert vistos["sin_vinculo"] == frozenset()
    assert len(vistos["staff"]) == Evento.objects.count()
    parciales = [vistos[r] for r in ("marca", "socio", "marca_y_socio")]
    assert all(0 < len(v) < len(vistos["staff"]) for v in parciales)
    assert len(set(parciales)) == 3
    # Pagos too: a brand sees its programme's, never the legacy one that mixed brands.
    pagos = {rol: frozenset(_ids_api(cliente_para(u), "pagos/")) for rol, u in roles.items()}
    assert len(pagos["staff"]) == 4
    assert len(pagos["marca"]) == 1 and len(pagos["socio"]) == 3
    assert not pagos["marca"] & {
        str(p) for p in Pago.objects.filter(marca__isnull=True).values_list("id", flat=True)
    }
