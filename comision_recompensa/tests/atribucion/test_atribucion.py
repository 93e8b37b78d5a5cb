"""The attribution engine on the database: precedence, window, caps, lead-once, row types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from comision_recompensa.atribucion.motor import calcular_atribucion
from comision_recompensa.atribucion.services import eventos_atribuir, eventos_pendientes_atribuir
from comision_recompensa.models import Comision, Recompensa
from comision_recompensa.tests.factories import AsociacionFactory, ReglaPagoFactory
from eventos_medios.models import EstadoAtribucion, MotivoDescarte, TipoEvento, TipoSocio
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
AHORA: dt.datetime  # the instant each test starts at (ALPES_RELOJ moves it), set by _ahora


@pytest.fixture(autouse=True)
def _ahora():
    global AHORA  # the helpers below place events relative to it
    AHORA = timezone.now().replace(microsecond=0)


def socio_con_publicacion(marca, tipo=TipoSocio.AFILIADO, **regla):
    """A partner with a publicacion for `marca` and an active asociacion with one rule."""
    socio = SocioFactory(tipo=tipo)
    pub = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=socio))
    asociacion = AsociacionFactory(marca=marca, socio=socio)
    if regla is not None:
        ReglaPagoFactory(asociacion=asociacion, **regla)
    return socio, pub, asociacion


def click(pub, visitante="v1", horas_antes=1.0, **kw):
    kw.setdefault("tipo", TipoEvento.CLICK)
    return EventoFactory(
        publicacion=pub,
        visitante_id=visitante,
        ocurrido_en=AHORA - dt.timedelta(hours=horas_antes),
        **kw,
    )


def conversion(marca, tipo=TipoEvento.VENTA, valor="100.00", **kw):
    kw.setdefault("visitante_id", "v1")
    return EventoFactory(
        tipo=tipo,
        publicacion=kw.pop("publicacion", None),
        marca=marca,
        socio=kw.pop("socio", None),
        valor=None if valor is None else D(valor),
        moneda="EUR" if valor is not None else "",
        ocurrido_en=kw.pop("ocurrido_en", AHORA),
        **kw,
    )


def creditos_de(evento):
    filas = list(Comision.objects.filter(evento=evento)) + list(
        Recompensa.objects.filter(evento=evento)
    )
    return {f.socio_id: f for f in filas}


@pytest.fixture
def marca():
    return MarcaFactory(modelo_atribucion="lineal", ventana_atribucion_dias=30)


# --- Precedence --------------------------------------------------------------------------------
def test_publicacion_gana_a_los_touchpoints(marca):
    a, pub_a, _ = socio_con_publicacion(marca)
    _b, pub_b, _ = socio_con_publicacion(marca)
    click(pub_b)
    venta = conversion(marca, publicacion=pub_a, socio=a)
    eventos_atribuir(evento_ids=[venta.id])
    creditos = creditos_de(venta)
    assert set(creditos) == {a.id}
    assert creditos[a.id].participacion == D(1)
    assert creditos[a.id].monto == D("10.00")
    assert creditos[a.id].detalle_atribucion["metodo"] == "publicacion"


def test_codigo_referido_sin_socio_denormalizado_se_resuelve(marca):
    a, _, _ = socio_con_publicacion(marca)
    venta = conversion(marca, codigo_referido=a.codigo_referido, visitante_id="")
    eventos_atribuir(evento_ids=[venta.id])
    creditos = creditos_de(venta)
    assert list(creditos) == [a.id]
    assert creditos[a.id].detalle_atribucion["metodo"] == "codigo_referido"


def test_click_id_gana_a_los_touchpoints_del_visitante(marca):
    a, pub_a, _ = socio_con_publicacion(marca)
    _b, pub_b, _ = socio_con_publicacion(marca)
    c = click(pub_a, horas_antes=5)
    click(pub_b, horas_antes=1)
    venta = conversion(marca, click=c)
    eventos_atribuir(evento_ids=[venta.id])
    assert set(creditos_de(venta)) == {a.id}
    assert creditos_de(venta)[a.id].detalle_atribucion["metodo"] == "click_id"


def test_click_id_de_un_bot_no_acredita_y_cae_al_visitante(marca):
    _a, pub_a, _ = socio_con_publicacion(marca)
    b, pub_b, _ = socio_con_publicacion(marca)
    bot = click(
        pub_a,
        visitante="otro",
        estado_atribucion=EstadoAtribucion.DESCARTADO,
        motivo_descarte=MotivoDescarte.BOT,
    )
    click(pub_b)
    venta = conversion(marca, click=bot)
    eventos_atribuir(evento_ids=[venta.id])
    assert set(creditos_de(venta)) == {b.id}


def test_visitante_lineal_reparte_entre_socios_y_los_centimos_suman(marca):
    socios = []
    for horas in (30, 20, 10):
        s, pub, _ = socio_con_publicacion(marca)
        click(pub, horas_antes=horas)
        socios.append(s)
    venta = conversion(marca, valor="100.00")  # 10 % → 10.00 to share
    resumen = eventos_atribuir(evento_ids=[venta.id])
    assert resumen.atribuidos == 1 and resumen.comisiones == 3
    creditos = creditos_de(venta)
    assert [creditos[s.id].participacion for s in socios] == [
        D("0.333334"),
        D("0.333333"),
        D("0.333333"),
    ]
    assert [creditos[s.id].monto for s in socios] == [D("3.34"), D("3.33"), D("3.33")]
    assert sum(c.monto for c in creditos.values()) == D("10.00")
    venta.refresh_from_db()
    assert venta.estado_atribucion == EstadoAtribucion.ATRIBUIDO
    assert venta.atribuido_en is not None


def test_solo_cuentan_touchpoints_validos_en_ventana(marca):
    marca.ventana_atribucion_dias = 7
    marca.save()
    bueno, pub_bueno, _ = socio_con_publicacion(marca)
    _viejo, pub_viejo, _ = socio_con_publicacion(marca)
    _bot, pub_bot, _ = socio_con_publicacion(marca)
    _despues, pub_despues, _ = socio_con_publicacion(marca)
    _ajeno, pub_ajeno, _ = socio_con_publicacion(MarcaFactory())
    _otro_visitante, pub_otro, _ = socio_con_publicacion(marca)
    click(pub_bueno, horas_antes=24 * 6)
    click(pub_viejo, horas_antes=24 * 8)  # outside the 7-day window
    click(
        pub_bot,
        horas_antes=2,
        estado_atribucion=EstadoAtribucion.DESCARTADO,
        motivo_descarte=MotivoDescarte.DUPLICADO,
    )
    click(pub_despues, horas_antes=-1)  # after the conversion
    click(pub_ajeno, horas_antes=1)  # another brand's publicacion
    click(pub_otro, visitante="v2", horas_antes=1)
    venta = conversion(marca)
    eventos_atribuir(evento_ids=[venta.id])
    creditos = creditos_de(venta)
    assert set(creditos) == {bueno.id}
    tps = creditos[bueno.id].detalle_atribucion["touchpoints"]
    assert len(tps) == 1 and tps[0]["propio"] is True


def test_interaccion_tambien_es_touchpoint(marca):
    a, pub_a, _ = socio_con_publicacion(marca)
    click(pub_a, tipo=TipoEvento.INTERACCION)
    venta = conversion(marca)
    assert calcular_atribucion(venta).socios == (a.id,)


def test_sin_nada_queda_sin_atribucion(marca):
    venta = conversion(marca, visitante_id="nadie")
    resumen = eventos_atribuir(evento_ids=[venta.id])
    assert resumen.sin_atribucion == 1
    venta.refresh_from_db()
    assert venta.estado_atribucion == EstadoAtribucion.SIN_ATRIBUCION
    assert venta.atribuido_en is not None
    assert creditos_de(venta) == {}


def test_publicacion_legacy_sin_socio_queda_sin_atribucion(marca):
    pub = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=None))
    venta = conversion(marca, publicacion=pub, visitante_id="")
    eventos_atribuir(evento_ids=[venta.id])
    venta.refresh_from_db()
    assert venta.estado_atribucion == EstadoAtribucion.SIN_ATRIBUCION


# --- Money -------------------------------------------------------------------------------------
def test_tope_se_aplica_al_total_antes_de_repartir(marca):
    marca.modelo_atribucion = "posicional"
    marca.save()
    a, pub_a, _ = socio_con_publicacion(marca, tope=D("30.00"))
    b, pub_b, _ = socio_con_publicacion(marca, tope=D("30.00"))
    click(pub_a, horas_antes=3)
    click(pub_b, horas_antes=2)
    venta = conversion(marca, valor="1000.00")  # 10 % = 100.00, capped to 30.00
    eventos_atribuir(evento_ids=[venta.id])
    creditos = creditos_de(venta)
    assert creditos[a.id].monto == D("15.00") and creditos[b.id].monto == D("15.00")
    calculo = creditos[a.id].detalle_atribucion["calculo"]
    assert calculo == {
        "base": "1000.00",
        "total_regla": "100.00",
        "tope_aplicado": True,
        "total": "30.00",
    }


def test_fijo_por_credito(marca):
    marca.modelo_atribucion = "posicional"
    marca.save()
    socios = []
    for horas in (3, 2, 1):
        s, pub, _ = socio_con_publicacion(marca, modalidad="fijo", valor=D("25.00"))
        click(pub, horas_antes=horas)
        socios.append(s)
    venta = conversion(marca)
    eventos_atribuir(evento_ids=[venta.id])
    creditos = creditos_de(venta)
    assert [creditos[s.id].monto for s in socios] == [D("10.00"), D("5.00"), D("10.00")]


def test_porcentaje_de_evento_sin_valor_o_en_otra_moneda_no_paga(marca):
    a, pub_a, _ = socio_con_publicacion(marca)
    sin_valor = conversion(marca, publicacion=pub_a, socio=a, valor=None)
    otra = conversion(marca, publicacion=pub_a, socio=a, referencia_externa="x")
    otra.moneda = "USD"
    otra.save()
    eventos_atribuir(evento_ids=[sin_valor.id, otra.id])
    c1, c2 = creditos_de(sin_valor)[a.id], creditos_de(otra)[a.id]
    assert (c1.monto, c1.detalle_atribucion["motivo"]) == (D("0"), "evento_sin_valor")
    assert (c2.monto, c2.detalle_atribucion["motivo"]) == (D("0"), "moneda_distinta")


@pytest.mark.reloj  # agreements valid by date, relative to today
def test_asociacion_vencida_o_futura_no_paga_pero_registra_el_credito(marca):
    a, pub_a, asociacion = socio_con_publicacion(marca)
    asociacion.vigencia_fin = (AHORA - dt.timedelta(days=2)).date()
    asociacion.save()
    venta = conversion(marca, publicacion=pub_a, socio=a)
    eventos_atribuir(evento_ids=[venta.id])
    c = creditos_de(venta)[a.id]
    assert c.participacion == D(1) and c.monto == D("0.00") and c.asociacion_id is None
    assert c.detalle_atribucion["motivo"] == "sin_asociacion_vigente"
    # A newer asociacion that starts later does not pay for the old event either.
    AsociacionFactory(marca=marca, socio=a, vigencia_inicio=(AHORA + dt.timedelta(days=1)).date())
    assert calcular_atribucion(venta).creditos[0].monto == D("0.00")


@pytest.mark.reloj  # agreements valid by date, relative to today
def test_solo_paga_la_asociacion_vigente_en_ocurrido_en(marca):
    a, pub_a, vieja = socio_con_publicacion(marca, valor=D("5.00"))
    vieja.vigencia_fin = (AHORA - dt.timedelta(days=10)).date()
    vieja.save()
    nueva = AsociacionFactory(
        marca=marca, socio=a, vigencia_inicio=(AHORA - dt.timedelta(days=9)).date()
    )
    ReglaPagoFactory(asociacion=nueva, valor=D("20.00"))
    antigua = conversion(
        marca, publicacion=pub_a, socio=a, ocurrido_en=AHORA - dt.timedelta(days=20)
    )
    reciente = conversion(marca, publicacion=pub_a, socio=a, referencia_externa="r2")
    eventos_atribuir(evento_ids=[antigua.id, reciente.id])
    assert creditos_de(antigua)[a.id].monto == D("5.00")
    assert creditos_de(antigua)[a.id].asociacion_id == vieja.id
    assert creditos_de(reciente)[a.id].monto == D("20.00")


def test_sin_regla_para_el_tipo_no_paga(marca):
    a, pub_a, _ = socio_con_publicacion(marca)  # only a venta rule
    registro = conversion(marca, tipo=TipoEvento.REGISTRO, publicacion=pub_a, socio=a)
    eventos_atribuir(evento_ids=[registro.id])
    c = creditos_de(registro)[a.id]
    assert c.monto == D("0.00") and c.detalle_atribucion["motivo"] == "sin_regla_para_tipo"
    assert c.detalle_atribucion["asociacion"]["id"]


def test_lead_paga_una_vez_por_marca_y_visitante(marca):
    a, pub_a, _ = socio_con_publicacion(marca, tipo_evento="lead", modalidad="fijo", valor=D("2"))
    click(pub_a, visitante="v9")
    lead1 = conversion(marca, tipo=TipoEvento.LEAD, valor=None, visitante_id="v9")
    lead2 = conversion(
        marca,
        tipo=TipoEvento.LEAD,
        valor=None,
        visitante_id="v9",
        ocurrido_en=AHORA + dt.timedelta(seconds=1),
    )
    # Same batch: the earlier one pays.
    eventos_atribuir(evento_ids=[lead2.id, lead1.id])
    assert creditos_de(lead1)[a.id].monto == D("2.00")
    c2 = creditos_de(lead2)[a.id]
    assert c2.monto == D("0.00") and c2.detalle_atribucion["motivo"] == "lead_ya_pagado"
    # A later batch, too.
    lead3 = conversion(
        marca,
        tipo=TipoEvento.LEAD,
        valor=None,
        visitante_id="v9",
        ocurrido_en=AHORA + dt.timedelta(seconds=2),
    )
    eventos_atribuir(evento_ids=[lead3.id])
    assert creditos_de(lead3)[a.id].monto == D("0.00")
    # Another visitor's lead still pays.
    click(pub_a, visitante="v10")
    lead4 = conversion(marca, tipo=TipoEvento.LEAD, valor=None, visitante_id="v10")
    eventos_atribuir(evento_ids=[lead4.id])
    assert creditos_de(lead4)[a.id].monto == D("2.00")


@pytest.mark.parametrize(
    ("tipo", "clase"),
    [
        (TipoSocio.AFILIADO, Comision),
        (TipoSocio.SOCIO_B2B, Comision),
        (TipoSocio.INTEGRADOR_SAAS, Comision),
        (TipoSocio.INFLUENCER, Recompensa),
        (TipoSocio.CREADOR_CONTENIDO, Recompensa),
        (TipoSocio.EMBAJADOR, Recompensa),
    ],
)
def test_comision_o_recompensa_segun_tipo_de_socio(marca, tipo, clase):
    s, pub, _ = socio_con_publicacion(marca, tipo=tipo)
    venta = conversion(marca, publicacion=pub, socio=s)
    eventos_atribuir(evento_ids=[venta.id])
    fila = clase.objects.get(evento=venta)
    assert fila.socio_id == s.id and fila.monto == D("10.00")
    otra = Recompensa if clase is Comision else Comision
    assert not otra.objects.filter(evento=venta).exists()


def test_detalle_explica_el_pago(marca):
    a, pub_a, asociacion = socio_con_publicacion(marca)
    _b, pub_b, _ = socio_con_publicacion(marca)
    c1 = click(pub_a, horas_antes=2)
    click(pub_b, horas_antes=1)
    venta = conversion(marca, valor="50.00")
    eventos_atribuir(evento_ids=[venta.id])
    d = creditos_de(venta)[a.id].detalle_atribucion
    assert d["metodo"] == "visitante_id" and d["modelo"] == "lineal" and d["ventana_dias"] == 30
    assert d["credito"] == "0.500000" and d["monto"] == "2.50" and d["moneda"] == "EUR"
    assert d["asociacion"]["id"] == str(asociacion.id)
    assert d["regla"]["modalidad"] == "porcentaje" and d["regla"]["valor"] == "10.00"
    assert d["touchpoints"][0] == {
        "evento_id": str(c1.id),
        "tipo": "click",
        "socio_id": str(a.id),
        "publicacion_id": str(pub_a.id),
        "ocurrido_en": c1.ocurrido_en.isoformat(),
        "peso": "1.000000",
        "credito": "0.500000",
        "propio": True,
    }
    assert d["touchpoints"][1]["propio"] is False
    assert d["motivo"] == "pagado" and d["nota"]


# --- Touchpoints themselves, idempotency -------------------------------------------------------
def test_click_sin_regla_se_marca_atribuido_sin_fila(marca):
    _a, pub_a, _ = socio_con_publicacion(marca)
    c = click(pub_a)
    eventos_atribuir(evento_ids=[c.id])
    c.refresh_from_db()
    assert c.estado_atribucion == EstadoAtribucion.ATRIBUIDO
    assert creditos_de(c) == {}


def test_click_con_regla_cpc_paga(marca):
    a, pub_a, _ = socio_con_publicacion(
        marca, tipo_evento="click", modalidad="fijo", valor=D("0.05")
    )
    c = click(pub_a)
    eventos_atribuir(evento_ids=[c.id])
    assert creditos_de(c)[a.id].monto == D("0.05")


def test_atribuir_dos_veces_no_duplica(marca):
    a, pub_a, _ = socio_con_publicacion(marca)
    venta = conversion(marca, publicacion=pub_a, socio=a)
    assert eventos_atribuir(evento_ids=[venta.id]).comisiones == 1
    assert eventos_atribuir(evento_ids=[venta.id]).reclamados == 0
    assert eventos_pendientes_atribuir().reclamados >= 0
    assert Comision.objects.filter(evento=venta).count() == 1


def test_pendientes_se_procesan_por_lotes_acotados(marca):
    a, pub_a, _ = socio_con_publicacion(marca)
    ventas = [
        conversion(marca, publicacion=pub_a, socio=a, referencia_externa=str(i)) for i in range(5)
    ]
    primero = eventos_pendientes_atribuir(lote=2)
    assert primero.reclamados == 2
    while eventos_pendientes_atribuir(lote=2).reclamados:
        pass
    assert Comision.objects.filter(evento__in=ventas).count() == 5


def test_la_base_de_datos_impide_un_segundo_credito_vivo(marca):
    """Even if an event went back to pendiente (a manual reset), attributing it again cannot
    create a second live credit: the partial unique index wins and the insert is skipped."""
    a, pub_a, _ = socio_con_publicacion(marca)
    venta = conversion(marca, publicacion=pub_a, socio=a)
    eventos_atribuir(evento_ids=[venta.id])
    type(venta).objects.filter(pk=venta.pk).update(estado_atribucion=EstadoAtribucion.PENDIENTE)
    eventos_atribuir(evento_ids=[venta.id])
    assert Comision.objects.filter(evento=venta).count() == 1
    venta.refresh_from_db()
    assert venta.estado_atribucion == EstadoAtribucion.ATRIBUIDO


# --- Evento.socio follows a single-partner credit ---------------------------------------------
def test_conversion_por_visitante_de_un_solo_socio_queda_con_ese_socio(marca):
    """Lineal over two clicks of one partner: one partner credited → Evento.socio is set, and
    the partner finds the conversion in its own event list (scoping filters on Evento.socio)."""
    from conftest import cliente_para
    from eventos_medios.tests.factories import UsuarioFactory

    a, pub_a, _ = socio_con_publicacion(marca)
    a.usuario = UsuarioFactory()
    a.save()
    click(pub_a, horas_antes=5)
    click(pub_a, horas_antes=1)
    venta = conversion(marca)
    assert venta.socio_id is None
    eventos_atribuir(evento_ids=[venta.id])
    venta.refresh_from_db()
    assert (venta.estado_atribucion, venta.socio_id) == (EstadoAtribucion.ATRIBUIDO, a.id)
    assert creditos_de(venta)[a.id].detalle_atribucion["metodo"] == "visitante_id"
    cliente = cliente_para(a.usuario)
    r = cliente.get("/api/v1/eventos/", {"tipo": TipoEvento.VENTA})
    assert r.status_code == 200, r.content
    assert str(venta.id) in {e["id"] for e in r.json()["results"]}
    r = cliente.get(f"/api/v1/eventos/{venta.id}/")
    assert r.status_code == 200 and r.json()["socio"] == str(a.id)


def test_conversion_repartida_entre_socios_queda_sin_socio(marca):
    a, pub_a, _ = socio_con_publicacion(marca)
    b, pub_b, _ = socio_con_publicacion(marca)
    click(pub_a, horas_antes=5)
    click(pub_b, horas_antes=1)
    venta = conversion(marca)
    eventos_atribuir(evento_ids=[venta.id])
    venta.refresh_from_db()
    assert set(creditos_de(venta)) == {a.id, b.id}
    assert (venta.estado_atribucion, venta.socio_id) == (EstadoAtribucion.ATRIBUIDO, None)


def test_ultimo_clic_y_click_id_ponen_el_socio_acreditado():
    marca = MarcaFactory(modelo_atribucion="ultimo_clic")
    a, pub_a, _ = socio_con_publicacion(marca)
    b, pub_b, _ = socio_con_publicacion(marca)
    c = click(pub_a, horas_antes=5)
    click(pub_b, horas_antes=1)
    por_visitante = conversion(marca)
    por_click = conversion(marca, click=c, visitante_id="", referencia_externa="otra")
    sin_nadie = conversion(marca, visitante_id="nadie", referencia_externa="tercera")
    resumen = eventos_pendientes_atribuir(lote=50)
    assert (resumen.atribuidos, resumen.sin_atribucion) == (4, 1)  # the two clicks and two sales
    for evento in (por_visitante, por_click, sin_nadie):
        evento.refresh_from_db()
    assert por_visitante.socio_id == b.id
    assert por_click.socio_id == a.id
    assert (sin_nadie.estado_atribucion, sin_nadie.socio_id) == ("sin_atribucion", None)
    # A stored socio is an output of attribution: attributing again credits nobody twice.
    assert eventos_atribuir(evento_ids=[por_visitante.id, por_click.id]).reclamados == 0
    assert len(creditos_de(por_visitante)) == 1 and len(creditos_de(por_click)) == 1
