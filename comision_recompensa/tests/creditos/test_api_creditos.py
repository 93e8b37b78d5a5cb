"""API of agreements, commissions and rewards: scoping, filters, lifecycle actions, explanations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from comision_recompensa.models import Ajuste, AsociacionEstrategica, EstadoCredito
from comision_recompensa.tests.factories import (
    AsociacionFactory,
    ComisionFactory,
    PagoFactory,
    RecompensaFactory,
    ReglaPagoFactory,
)
from conftest import cliente_para
from eventos_medios.models import EstadoAtribucion, TipoEvento, TipoSocio
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    """Users are created per test; the production hasher would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _venta(*, socio, marca, ocurrido_en=None, **kwargs):
    publicacion = PublicacionFactory(medio=MedioMarketingFactory(socio=socio), marca=marca)
    return EventoFactory(
        tipo=TipoEvento.VENTA,
        publicacion=publicacion,
        valor=Decimal("120.00"),
        moneda="EUR",
        estado_atribucion=EstadoAtribucion.ATRIBUIDO,
        ocurrido_en=ocurrido_en or dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC),
        **kwargs,
    )


@pytest.fixture
def mundo(socio, marca, usuario_marca):
    """Partner A (the `socio` fixture) sells for marca A; partner B for marca B."""
    socio_b = SocioFactory(usuario=UsuarioFactory())
    marca_b = MarcaFactory()
    influencer_a = SocioFactory(tipo=TipoSocio.INFLUENCER)
    return {
        "socio_a": socio,
        "socio_b": socio_b,
        "marca_a": marca,
        "marca_b": marca_b,
        "ca": ComisionFactory(evento=_venta(socio=socio, marca=marca)),
        "ca_aprobada": ComisionFactory(
            evento=_venta(
                socio=socio, marca=marca, ocurrido_en=dt.datetime(2026, 4, 2, tzinfo=UTC)
            ),
            estado=EstadoCredito.APROBADA,
        ),
        "cb": ComisionFactory(evento=_venta(socio=socio_b, marca=marca_b)),
        "ra": RecompensaFactory(evento=_venta(socio=influencer_a, marca=marca)),
        "rb": RecompensaFactory(
            evento=_venta(socio=SocioFactory(tipo=TipoSocio.EMBAJADOR), marca=marca_b)
        ),
    }


def _ids(respuesta):
    assert respuesta.status_code == 200, respuesta.content
    return {r["id"] for r in respuesta.json()["results"]}


# --- authentication and scoping ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("metodo", "ruta"),
    [
        ("get", "/api/v1/comisiones/"),
        ("get", "/api/v1/recompensas/"),
        ("get", "/api/v1/asociaciones/"),
        ("get", "/api/v1/comisiones/{ca}/"),
        ("get", "/api/v1/comisiones/{ca}/explicacion/"),
        ("post", "/api/v1/comisiones/{ca}/aprobar/"),
        ("post", "/api/v1/comisiones/{ca}/revertir/"),
        ("post", "/api/v1/eventos/{evento}/reembolso/"),
    ],
)
def test_anonimo_401(mundo, cliente_anonimo, metodo, ruta):
    ruta = ruta.format(ca=mundo["ca"].pk, evento=mundo["ca"].evento_id)
    respuesta = getattr(cliente_anonimo, metodo)(ruta)
    assert respuesta.status_code == 401
    assert respuesta.json()["code"] == "not_authenticated"


def test_staff_ve_todo(mundo, cliente_staff):
    assert _ids(cliente_staff.get("/api/v1/comisiones/")) == {
        str(mundo[k].pk) for k in ("ca", "ca_aprobada", "cb")
    }
    assert _ids(cliente_staff.get("/api/v1/recompensas/")) == {
        str(mundo[k].pk) for k in ("ra", "rb")
    }


def test_socio_ve_solo_lo_suyo(mundo, cliente_socio):
    assert _ids(cliente_socio.get("/api/v1/comisiones/")) == {
        str(mundo["ca"].pk),
        str(mundo["ca_aprobada"].pk),
    }
    assert _ids(cliente_socio.get("/api/v1/recompensas/")) == set()
    # Filtering for partner B returns nothing; B's items are 404, explanation included.
    assert _ids(cliente_socio.get(f"/api/v1/comisiones/?socio={mundo['socio_b'].pk}")) == set()
    assert _ids(cliente_socio.get(f"/api/v1/comisiones/?marca={mundo['marca_b'].pk}")) == set()
    assert cliente_socio.get(f"/api/v1/comisiones/{mundo['cb'].pk}/").status_code == 404
    assert cliente_socio.get(f"/api/v1/comisiones/{mundo['cb'].pk}/explicacion/").status_code == 404
    assert cliente_socio.get(f"/api/v1/recompensas/{mundo['ra'].pk}/").status_code == 404


def test_marca_ve_los_creditos_de_sus_eventos(mundo, cliente_marca):
    assert _ids(cliente_marca.get("/api/v1/comisiones/")) == {
        str(mundo["ca"].pk),
        str(mundo["ca_aprobada"].pk),
    }
    assert _ids(cliente_marca.get("/api/v1/recompensas/")) == {str(mundo["ra"].pk)}
    assert cliente_marca.get(f"/api/v1/comisiones/{mundo['cb'].pk}/").status_code == 404
    assert (
        cliente_marca.get(f"/api/v1/recompensas/{mundo['rb'].pk}/explicacion/").status_code == 404
    )
    assert (
        cliente_marca.get(f"/api/v1/recompensas/{mundo['ra'].pk}/explicacion/").status_code == 200
    )


def test_usuario_sin_vinculo_no_ve_nada(mundo):
    cliente = cliente_para(UsuarioFactory())
    assert _ids(cliente.get("/api/v1/comisiones/")) == set()
    assert _ids(cliente.get("/api/v1/asociaciones/")) == set()
    assert cliente.get(f"/api/v1/comisiones/{mundo['ca'].pk}/explicacion/").status_code == 404


def test_detalle_lleva_detalle_atribucion_y_la_lista_no(mundo, cliente_staff):
    lista = cliente_staff.get("/api/v1/comisiones/").json()["results"]
    assert "detalle_atribucion" not in lista[0]
    detalle = cliente_staff.get(f"/api/v1/recompensas/{mundo['ra'].pk}/").json()
    assert detalle["detalle_atribucion"] == {}
    assert detalle["descripcion"] == "Recompensa de prueba"
    assert detalle["marca"] == str(mundo["marca_a"].pk)
    assert detalle["monto"] == "10.00"


# --- filters ----------------------------------------------------------------------------------


def test_filtros(mundo, cliente_staff):
    base = "/api/v1/comisiones/"
    ca, ca_aprobada, cb = mundo["ca"], mundo["ca_aprobada"], mundo["cb"]
    assert _ids(cliente_staff.get(f"{base}?socio={mundo['socio_b'].pk}")) == {str(cb.pk)}
    assert _ids(cliente_staff.get(f"{base}?marca={mundo['marca_a'].pk}")) == {
        str(ca.pk),
        str(ca_aprobada.pk),
    }
    assert _ids(cliente_staff.get(f"{base}?estado=aprobada")) == {str(ca_aprobada.pk)}
    assert _ids(cliente_staff.get(f"{base}?evento={ca.evento_id}")) == {str(ca.pk)}
    # desde/hasta bound the event time, inclusive; a bare hasta date covers the whole day.
    assert _ids(cliente_staff.get(f"{base}?desde=2026-04-01")) == {str(ca_aprobada.pk)}
    assert _ids(cliente_staff.get(f"{base}?hasta=2026-03-10")) == {str(ca.pk), str(cb.pk)}
    assert _ids(cliente_staff.get(f"{base}?desde=2026-03-10T12:00:00Z&hasta=2026-03-10")) == {
        str(ca.pk),
        str(cb.pk),
    }
    assert _ids(cliente_staff.get(f"{base}?desde=2026-03-10T12:00:01%2B00:00")) == {
        str(ca_aprobada.pk)
    }


@pytest.mark.parametrize(
    ("consulta", "campo"),
    [
        ("desde=ayer", "desde"),
        ("hasta=2026-13-01", "hasta"),
        ("estado=cobrada", "estado"),
        ("socio=no-es-uuid", "socio"),
    ],
)
def test_filtro_invalido_400_nombra_el_campo(mundo, cliente_staff, consulta, campo):
    respuesta = cliente_staff.get(f"/api/v1/comisiones/?{consulta}")
    assert respuesta.status_code == 400
    assert campo in respuesta.json()["errors"]


# --- lifecycle actions ------------------------------------------------------------------------


@pytest.mark.parametrize("ruta", ["comisiones", "recompensas"])
def test_aprobar_y_409_con_motivo(mundo, cliente_staff, ruta):
    credito = mundo["ca"] if ruta == "comisiones" else mundo["ra"]
    url = f"/api/v1/{ruta}/{credito.pk}/aprobar/"
    respuesta = cliente_staff.post(url)
    assert respuesta.status_code == 200, respuesta.content
    assert respuesta.json()["estado"] == "aprobada"
    assert respuesta.json()["aprobado_en"]

    otra = cliente_staff.post(url)
    assert otra.status_code == 409
    cuerpo = otra.json()
    assert "already approved" in cuerpo["detail"]
    assert cuerpo["code"] == "transicion_invalida"
    assert cuerpo["estado_actual"] == "aprobada"


def test_aprobar_revertida_409(mundo, cliente_staff):
    credito = ComisionFactory(estado=EstadoCredito.REVERTIDA)
    respuesta = cliente_staff.post(f"/api/v1/comisiones/{credito.pk}/aprobar/")
    assert respuesta.status_code == 409
    assert "reversed" in respuesta.json()["detail"]


def test_revertir(mundo, cliente_staff):
    url = f"/api/v1/comisiones/{mundo['ca'].pk}/revertir/"
    sin_motivo = cliente_staff.post(url, {}, format="json")
    assert sin_motivo.status_code == 400
    assert "motivo" in sin_motivo.json()["errors"]

    respuesta = cliente_staff.post(url, {"motivo": "Fraudulent order"}, format="json")
    assert respuesta.status_code == 200
    assert respuesta.json()["estado"] == "revertida"
    assert respuesta.json()["motivo_reversion"] == "Fraudulent order"

    otra = cliente_staff.post(url, {"motivo": "again"}, format="json")
    assert otra.status_code == 409
    assert "already reversed" in otra.json()["detail"]


def test_revertir_pagada_por_api_crea_clawback(cliente_staff):
    credito = RecompensaFactory(estado=EstadoCredito.PAGADA, pago=PagoFactory())
    respuesta = cliente_staff.post(
        f"/api/v1/recompensas/{credito.pk}/revertir/", {"motivo": "Chargeback"}, format="json"
    )
    assert respuesta.status_code == 200
    assert Ajuste.objects.get(recompensa=credito).monto == -credito.monto


@pytest.mark.parametrize("accion", ["aprobar", "revertir"])
def test_acciones_solo_staff(mundo, cliente_socio, cliente_marca, accion):
    url = f"/api/v1/comisiones/{mundo['ca'].pk}/{accion}/"
    for cliente in (cliente_socio, cliente_marca):
        respuesta = cliente.post(url, {"motivo": "x"}, format="json")
        assert respuesta.status_code == 403
    mundo["ca"].refresh_from_db()
    assert mundo["ca"].estado == EstadoCredito.PENDIENTE


def test_lecturas_son_solo_lectura(mundo, cliente_staff):
    url = f"/api/v1/comisiones/{mundo['ca'].pk}/"
    assert cliente_staff.delete(url).status_code == 405
    assert cliente_staff.patch(url, {"monto": "99.00"}, format="json").status_code == 405
    assert cliente_staff.post("/api/v1/comisiones/", {}, format="json").status_code == 405


# --- refund -----------------------------------------------------------------------------------


def test_reembolso_por_la_marca_del_evento(mundo, cliente_marca):
    evento = mundo["ca"].evento
    otra = ComisionFactory(evento=evento, socio=SocioFactory())
    url = f"/api/v1/eventos/{evento.pk}/reembolso/"
    respuesta = cliente_marca.post(url, {"motivo": "Order refunded"}, format="json")
    assert respuesta.status_code == 200, respuesta.content
    cuerpo = respuesta.json()
    assert cuerpo["evento"] == str(evento.pk)
    assert {r["id"] for r in cuerpo["revertidos"]} == {str(mundo["ca"].pk), str(otra.pk)}
    assert {r["estado"] for r in cuerpo["revertidos"]} == {"revertida"}
    mundo["ca"].refresh_from_db()
    assert mundo["ca"].motivo_reversion == "Order refunded"

    otra_vez = cliente_marca.post(url, {}, format="json")
    assert otra_vez.status_code == 409
    assert otra_vez.json()["code"] == "ya_reembolsado"


def test_reembolso_acceso(mundo, cliente_marca, cliente_socio, cliente_staff):
    evento_b = mundo["cb"].evento
    # Another brand's event: not visible → 404, nothing reversed.
    assert cliente_marca.post(f"/api/v1/eventos/{evento_b.pk}/reembolso/").status_code == 404
    # The partner sees its own event but may not refund it.
    evento_a = mundo["ca"].evento
    assert cliente_socio.post(f"/api/v1/eventos/{evento_a.pk}/reembolso/").status_code == 403
    mundo["cb"].refresh_from_db()
    mundo["ca"].refresh_from_db()
    assert mundo["ca"].estado == mundo["cb"].estado == EstadoCredito.PENDIENTE
    # Staff may refund any venta; an unknown id is 404.
    assert cliente_staff.post(f"/api/v1/eventos/{evento_b.pk}/reembolso/").status_code == 200
    falso = "00000000-0000-0000-0000-000000000000"
    assert cliente_staff.post(f"/api/v1/eventos/{falso}/reembolso/").status_code == 404


def test_reembolso_de_un_click_409(cliente_staff, marca):
    click = EventoFactory(publicacion__marca=marca, estado_atribucion=EstadoAtribucion.ATRIBUIDO)
    respuesta = cliente_staff.post(f"/api/v1/eventos/{click.pk}/reembolso/")
    assert respuesta.status_code == 409
    assert respuesta.json()["code"] == "evento_no_reembolsable"


# --- explanation ------------------------------------------------------------------------------


def _detalle_posicional(socio, otro, asociacion, regla):
    def tp(i, hora, quien, peso, credito):
        return {
            "evento_id": f"00000000-0000-0000-0000-00000000000{i}",
            "tipo": "click",
            "socio_id": str(quien.pk),
            "publicacion_id": None,
            "ocurrido_en": f"2026-03-0{i}T{hora}:00+00:00",
            "peso": peso,
            "credito": credito,
            "propio": quien == socio,
        }

    return {
        "version": 1,
        "metodo": "visitante_id",
        "modelo": "posicional",
        "ventana_dias": 30,
        "touchpoints": [
            tp(1, "09:30", socio, "0.4", "0.400000"),
            tp(2, "10:00", otro, "0.2", "0.200000"),
            tp(3, "11:00", otro, "0.4", "0.400000"),
        ],
        "credito": "0.400000",
        "asociacion": {
            "id": str(asociacion.pk),
            "tipo": asociacion.tipo,
            "vigencia_inicio": "2020-01-01",
            "vigencia_fin": None,
            "dias_retencion": 30,
        },
        "regla": {
            "id": str(regla.pk),
            "tipo_evento": "venta",
            "modalidad": "porcentaje",
            "valor": "10.00",
            "moneda": "EUR",
            "tope": "50.00",
        },
        "calculo": {
            "base": "120.00",
            "total_regla": "12.00",
            "tope_aplicado": False,
            "total": "12.00",
        },
        "monto": "4.80",
        "moneda": "EUR",
        "motivo": "pagado",
        "nota": "Paid under the rule of the asociacion active when the event occurred.",
    }


def test_explicacion_para_el_socio(mundo, cliente_socio, cliente_staff):
    socio, credito = mundo["socio_a"], mundo["ca"]
    asociacion = AsociacionFactory(marca=mundo["marca_a"], socio=socio)
    regla = ReglaPagoFactory(asociacion=asociacion, tope=Decimal("50.00"))
    credito.asociacion, credito.regla = asociacion, regla
    credito.participacion, credito.monto = Decimal("0.4"), Decimal("4.80")
    credito.detalle_atribucion = _detalle_posicional(socio, mundo["socio_b"], asociacion, regla)
    credito.save()

    respuesta = cliente_socio.get(f"/api/v1/comisiones/{credito.pk}/explicacion/")
    assert respuesta.status_code == 200, respuesta.content
    cuerpo = respuesta.json()
    texto = cuerpo["texto"]
    assert texto.startswith("You earned 40% of this venta of 120.00 EUR")
    assert "under the 'posicional' model" in texto
    assert "your click at 2026-03-01 09:30 UTC was the first of 3 touchpoints" in texto
    assert "in the 30-day window" in texto
    assert "rule: 10% of the sale, capped at 50.00 EUR" in texto
    assert "12.00 EUR for the whole venta × 40%" in texto
    assert "→ 4.80 EUR" in texto
    assert "Status: pending" in texto
    assert cuerpo["metodo"] == "visitante_id"
    assert cuerpo["modelo"] == "posicional"
    assert cuerpo["ventana_dias"] == 30
    assert [t["propio"] for t in cuerpo["touchpoints"]] == [True, False, False]
    assert [t["posicion"] for t in cuerpo["touchpoints"]] == [1, 2, 3]
    assert cuerpo["regla"]["tope"] == "50.00"
    assert cuerpo["monto"] == "4.80"

    # Staff reads the same explanation in the third person.
    staff = cliente_staff.get(f"/api/v1/comisiones/{credito.pk}/explicacion/").json()
    assert staff["texto"].startswith(f"{socio.nombre} earned 40%")
    assert "their click" in staff["texto"]


def test_explicacion_sin_asociacion_y_credito_directo(mundo, cliente_socio):
    credito = mundo["ca"]
    credito.detalle_atribucion = {
        "metodo": "publicacion",
        "modelo": "ultimo_clic",
        "ventana_dias": 30,
        "touchpoints": [],
        "credito": "1.000000",
        "asociacion": None,
        "regla": None,
        "motivo": "sin_asociacion_vigente",
    }
    credito.monto = Decimal("0.00")
    credito.save()
    texto = cliente_socio.get(f"/api/v1/comisiones/{credito.pk}/explicacion/").json()["texto"]
    assert texto.startswith("You earned 100% of this venta of 120.00 EUR")
    assert "named your publicacion" in texto
    assert "no active agreement" in texto
    assert "'ultimo_clic'" not in texto  # the model plays no part in a direct credit


# --- agreements -------------------------------------------------------------------------------


def _asociacion_json(la_marca, el_socio, **extra):
    datos = {
        "marca": str(la_marca.pk),
        "socio": str(el_socio.pk),
        "tipo": "programa_afiliados",
        "dias_retencion": 14,
        "vigencia_inicio": "2026-01-01",
        "reglas": [
            {"tipo_evento": "venta", "modalidad": "porcentaje", "valor": "10.00", "moneda": "EUR"},
            {
                "tipo_evento": "lead",
                "modalidad": "fijo",
                "valor": "2.00",
                "moneda": "EUR",
                "tope": None,
            },
        ],
    }
    datos.update(extra)
    return datos


def test_staff_crea_y_actualiza_asociacion(cliente_staff, marca, socio):
    respuesta = cliente_staff.post(
        "/api/v1/asociaciones/", _asociacion_json(marca, socio), format="json"
    )
    assert respuesta.status_code == 201, respuesta.content
    cuerpo = respuesta.json()
    assert cuerpo["dias_retencion"] == 14
    assert {r["tipo_evento"] for r in cuerpo["reglas"]} == {"venta", "lead"}

    url = f"/api/v1/asociaciones/{cuerpo['id']}/"
    cambio = cliente_staff.patch(
        url,
        {
            "vigencia_fin": "2026-12-31",
            "reglas": [
                {"tipo_evento": "venta", "modalidad": "fijo", "valor": "5.00", "moneda": "USD"}
            ],
        },
        format="json",
    )
    assert cambio.status_code == 200, cambio.content
    assert cambio.json()["vigencia_fin"] == "2026-12-31"
    assert [(r["tipo_evento"], r["valor"]) for r in cambio.json()["reglas"]] == [("venta", "5.00")]
    assert cliente_staff.delete(url).status_code == 405


@pytest.mark.parametrize(
    ("cambio", "campo"),
    [
        (
            {
                "reglas": [
                    {
                        "tipo_evento": "venta",
                        "modalidad": "porcentaje",
                        "valor": "120",
                        "moneda": "EUR",
                    }
                ]
            },
            "reglas[0].valor",
        ),
        (
            {
                "reglas": [
                    {"tipo_evento": "venta", "modalidad": "fijo", "valor": "abc", "moneda": "EUR"}
                ]
            },
            "reglas[0].valor",
        ),
        (
            {
                "reglas": [
                    {"tipo_evento": "venta", "modalidad": "fijo", "valor": "1", "moneda": "ABC"}
                ]
            },
            "reglas[0].moneda",
        ),
        (
            {"reglas": [{"tipo_evento": "venta", "modalidad": "fijo", "valor": "1"}]},
            "reglas[0].moneda",
        ),
        ({"vigencia_fin": "2025-01-01"}, "vigencia_fin"),
        ({"vigencia_inicio": "ayer"}, "vigencia_inicio"),
        ({"marca": "00000000-0000-0000-0000-000000000000"}, "marca"),
    ],
)
def test_asociacion_invalida_400_nombra_el_campo(cliente_staff, marca, socio, cambio, campo):
    respuesta = cliente_staff.post(
        "/api/v1/asociaciones/", _asociacion_json(marca, socio, **cambio), format="json"
    )
    assert respuesta.status_code == 400, respuesta.content
    assert campo in respuesta.json()["errors"], respuesta.json()
    assert AsociacionEstrategica.objects.count() == 0


def test_asociacion_solapada_400(cliente_staff, marca, socio):
    AsociacionFactory(marca=marca, socio=socio, vigencia_inicio=dt.date(2025, 1, 1))
    respuesta = cliente_staff.post(
        "/api/v1/asociaciones/", _asociacion_json(marca, socio), format="json"
    )
    assert respuesta.status_code == 400
    assert "Overlaps" in respuesta.json()["errors"]["vigencia_inicio"][0]


def test_asociaciones_lectura_por_alcance(cliente_marca, cliente_socio, marca, socio):
    propia = AsociacionFactory(marca=marca, socio=socio)
    de_la_marca = AsociacionFactory(marca=marca)
    ajena = AsociacionFactory()
    assert _ids(cliente_marca.get("/api/v1/asociaciones/")) == {str(propia.pk), str(de_la_marca.pk)}
    assert _ids(cliente_socio.get("/api/v1/asociaciones/")) == {str(propia.pk)}
    assert cliente_socio.get(f"/api/v1/asociaciones/{ajena.pk}/").status_code == 404
    assert _ids(cliente_marca.get(f"/api/v1/asociaciones/?socio={socio.pk}")) == {str(propia.pk)}
    # Only staff write.
    for cliente in (cliente_marca, cliente_socio):
        assert (
            cliente.post(
                "/api/v1/asociaciones/", _asociacion_json(marca, socio), format="json"
            ).status_code
            == 403
        )
        assert (
            cliente.patch(
                f"/api/v1/asociaciones/{propia.pk}/", {"dias_retencion": 1}, format="json"
            ).status_code
            == 403
        )


def test_explicacion_de_una_atribucion_real(cliente_socio, socio):
    """End to end with the attribution engine: posicional over three clicks, capped rule."""
    from django.utils import timezone

    from comision_recompensa.atribucion.services import eventos_atribuir
    from comision_recompensa.models import Comision

    ahora = timezone.now().replace(microsecond=0)
    marca = MarcaFactory(modelo_atribucion="posicional", ventana_atribucion_dias=30)
    otro = SocioFactory()
    pubs = {}
    for quien in (socio, otro):
        pubs[quien.pk] = PublicacionFactory(marca=marca, medio=MedioMarketingFactory(socio=quien))
        asociacion = AsociacionFactory(marca=marca, socio=quien)
        ReglaPagoFactory(asociacion=asociacion, valor=Decimal("10.00"), tope=Decimal("50.00"))
    clicks = [
        EventoFactory(
            publicacion=pubs[quien.pk],
            visitante_id="v-42",
            ocurrido_en=ahora - dt.timedelta(hours=horas),
        )
        for quien, horas in ((socio, 30), (otro, 20), (otro, 10))
    ]
    venta = EventoFactory(
        tipo=TipoEvento.VENTA,
        publicacion=None,
        marca=marca,
        socio=None,
        visitante_id="v-42",
        valor=Decimal("120.00"),
        moneda="EUR",
        ocurrido_en=ahora,
    )
    eventos_atribuir(evento_ids=[*(c.pk for c in clicks), venta.pk])
    credito = Comision.objects.get(evento=venta, socio=socio)
    assert credito.monto == Decimal("4.80")

    cuerpo = cliente_socio.get(f"/api/v1/comisiones/{credito.pk}/explicacion/").json()
    texto = cuerpo["texto"]
    assert texto.startswith("You earned 40% of this venta of 120.00 EUR")
    assert "under the 'posicional' model" in texto
    assert "was the first of 3 touchpoints in the 30-day window" in texto
    assert "rule: 10% of the sale, capped at 50.00 EUR" in texto
    assert "12.00 EUR for the whole venta × 40% → 4.80 EUR" in texto
    assert [t["propio"] for t in cuerpo["touchpoints"]] == [True, False, False]


@pytest.mark.parametrize("ruta", ["comisiones", "recompensas", "asociaciones"])
def test_listas_sin_n_mas_1(cliente_marca, marca, django_assert_max_num_queries, ruta):
    for _ in range(8):
        socio = SocioFactory()
        if ruta == "asociaciones":
            ReglaPagoFactory(asociacion=AsociacionFactory(marca=marca, socio=socio))
        else:
            factory = ComisionFactory if ruta == "comisiones" else RecompensaFactory
            factory(evento=_venta(socio=socio, marca=marca), asociacion=None)
    cliente_marca.get(f"/api/v1/{ruta}/")  # warm the token cache
    with django_assert_max_num_queries(8):
        respuesta = cliente_marca.get(f"/api/v1/{ruta}/")
    assert respuesta.json()["count"] == 8
