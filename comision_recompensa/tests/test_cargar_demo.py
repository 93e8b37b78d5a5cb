"""`manage.py cargar_demo` loads a usable demo and running it again adds nothing."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from comision_recompensa.management.commands.cargar_demo import id_demo
from comision_recompensa.models import (
    AceptacionContrato,
    AsociacionEstrategica,
    Comision,
    Contrato,
    ControlCumplimiento,
    EstadoPago,
    Pago,
    PerfilPago,
    Recompensa,
    ReglaPago,
)
from eventos_medios.models import (
    EstadoAtribucion,
    Evento,
    Marca,
    MedioMarketing,
    ModeloAtribucion,
    Publicacion,
    Socio,
    TipoEvento,
    TipoSocio,
    TokenApi,
)

pytestmark = pytest.mark.django_db(transaction=True)

MODELOS = (
    Marca,
    Socio,
    MedioMarketing,
    Publicacion,
    AsociacionEstrategica,
    ReglaPago,
    Evento,
    Comision,
    Recompensa,
    TokenApi,
    Contrato,
    AceptacionContrato,
    PerfilPago,
    Pago,
    ControlCumplimiento,
)


def _cargar(*args: str) -> str:
    salida = io.StringIO()
    call_command("cargar_demo", *args, stdout=salida)
    return salida.getvalue()


def _conteos() -> dict[str, int]:
    conteos = {m.__name__: m.objects.count() for m in MODELOS}
    conteos["usuarios"] = get_user_model().objects.count()
    return conteos


def test_carga_la_demo_y_una_segunda_vez_no_duplica_nada():
    primera = _cargar()
    antes = _conteos()

    marca = Marca.objects.get()
    assert marca.nombre == "Alpes Outdoor"
    assert marca.modelo_atribucion == ModeloAtribucion.ULTIMO_CLIC
    assert {s.tipo for s in Socio.objects.all()} == set(TipoSocio.values)
    for socio in Socio.objects.all():
        assert socio.medios.count() == 1
        assert Publicacion.objects.filter(medio__socio=socio, marca=marca).count() == 1
        asociacion = AsociacionEstrategica.objects.get(socio=socio, marca=marca)
        assert asociacion.reglas.exists()
    afiliado = Socio.objects.get(tipo=TipoSocio.AFILIADO)
    assert ReglaPago.objects.filter(
        asociacion__socio=afiliado, tipo_evento=TipoEvento.CLICK
    ).exists()
    venta = ReglaPago.objects.get(asociacion__socio=afiliado, tipo_evento=TipoEvento.VENTA)
    assert venta.tope is not None

    assert 200 <= antes["Evento"] <= 1000
    tipos = set(Evento.objects.values_list("tipo", flat=True))
    assert {TipoEvento.CLICK, TipoEvento.LEAD, TipoEvento.VENTA} <= tipos
    assert not Evento.objects.filter(estado_atribucion=EstadoAtribucion.PENDIENTE).exists()
    assert antes["Comision"] > 0 and antes["Recompensa"] > 0

    usuarios = get_user_model().objects
    admin = usuarios.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    clave = re.search(r"staff user: admin / (\S+)", primera)
    assert clave and admin.check_password(clave.group(1))
    marca_token = re.search(r"brand user alpes-outdoor token: (\S+)", primera).group(1)
    socio_token = re.search(r"partner user demo-afiliado token: (\S+)", primera).group(1)
    # Printed once; only hashes are stored.
    assert TokenApi.objects.get(usuario__username="alpes-outdoor").hash == TokenApi.hash_de(
        marca_token
    )
    assert TokenApi.objects.get(usuario__username="demo-afiliado").hash == TokenApi.hash_de(
        socio_token
    )
    assert not TokenApi.objects.filter(hash__in=[marca_token, socio_token]).exists()
    assert marca.usuarios.filter(username="alpes-outdoor").exists()
    assert afiliado.usuario.username == "demo-afiliado"

    segunda = _cargar()
    assert _conteos() == antes
    assert "admin exists" in segunda and clave.group(1) not in segunda
    # Fresh keys each run (a stored hash cannot be shown again); the previous ones stop working.
    nuevo = re.search(r"brand user alpes-outdoor token: (\S+)", segunda).group(1)
    assert nuevo != marca_token and marca_token not in segunda
    assert TokenApi.objects.get(usuario__username="alpes-outdoor").hash == TokenApi.hash_de(nuevo)
    admin.refresh_from_db()
    assert admin.check_password(clave.group(1))


def test_la_demo_muestra_contratos_perfiles_y_un_pago_retenido():
    _cargar()
    afiliado = Socio.objects.get(tipo=TipoSocio.AFILIADO)
    influencer = Socio.objects.get(tipo=TipoSocio.INFLUENCER)
    creador = Socio.objects.get(tipo=TipoSocio.CREADOR_CONTENIDO)
    # An accepted contract, and a new version the influencer has not accepted yet.
    assert AceptacionContrato.objects.filter(socio=afiliado, contrato__version=1).exists()
    v2 = Contrato.objects.get(asociacion__socio=influencer, version=2)
    assert v2.publicado_en is not None
    assert not AceptacionContrato.objects.filter(contrato=v2).exists()
    # A complete payout profile and an incomplete one.
    assert PerfilPago.objects.get(socio=afiliado).referencia.startswith("ES")
    assert PerfilPago.objects.get(socio=creador).metodo == ""
    # A held Pago with its failing control, and one that passes.
    retenido = Pago.objects.get(socio=influencer)
    assert retenido.estado == EstadoPago.RETENIDO
    assert list(
        ControlCumplimiento.objects.filter(pago=retenido, paso=False).values_list(
            "control", flat=True
        )
    ) == ["contrato_aceptado"]
    assert Pago.objects.get(socio=afiliado).estado == EstadoPago.PENDIENTE


def test_restablecer_admin_imprime_una_clave_nueva():
    _cargar("--sin-eventos")
    salida = _cargar("--sin-eventos", "--restablecer-admin")
    clave = re.search(r"staff user: admin / (\S+)", salida)
    assert clave
    assert get_user_model().objects.get(username="admin").check_password(clave.group(1))
    assert not Evento.objects.exists()


def test_los_ids_son_fijos():
    _cargar("--sin-eventos")
    assert Marca.objects.filter(pk=id_demo("marca")).exists()
    assert Socio.objects.filter(pk=id_demo("socio-afiliado")).exists()


def test_imprime_un_acceso_al_portal_que_funciona():
    from django.test import Client

    salida = _cargar("--sin-eventos", "--url", "http://127.0.0.1:9999")
    acceso = re.search(
        r"partner portal: http://127\.0\.0\.1:9999/portal/  \(user (\S+) / (\S+)\)", salida
    )
    assert acceso is not None, salida
    assert (
        "application form: http://127.0.0.1:9999/portal/programas/alpes-outdoor/solicitar/"
        in salida
    )
    cliente = Client()
    respuesta = cliente.post(
        "/portal/entrar/", {"username": acceso.group(1), "password": acceso.group(2)}
    )
    assert respuesta.status_code == 302 and respuesta["Location"] == "/portal/"
    assert cliente.get("/portal/").status_code == 200
    assert Client().get("/portal/programas/alpes-outdoor/solicitar/").status_code == 200


def test_los_enlaces_de_la_demo_redirigen_a_sus_dominios():
    """The demo marca declares `dominios` that cover its publicaciones' url_destino, so every
    demo tracking link redirects (PRODUCT.md §8, destinations)."""
    from django.test import Client

    from eventos_medios import destinos
    from eventos_medios.models import Marca, Publicacion

    _cargar("--sin-eventos")
    marca = Marca.objects.get(pk=id_demo("marca"))
    assert marca.dominios == ["alpes-outdoor.example.com"]
    pubs = list(Publicacion.objects.filter(marca=marca))
    assert pubs
    for pub in pubs:
        assert destinos.url_destino_permitida(pub.url_destino, marca.dominios_efectivos)
        resp = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0").get(
            f"/t/{pub.codigo}"
        )
        assert resp.status_code == 302
