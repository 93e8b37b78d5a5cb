"""Contracts (PRODUCT.md §9, issue 11 item 1): versions, the partner's acceptance through the
API, who sees what, immutability once published, and the admin with its preview."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from alpespartners.errors import Conflicto, ErrorDominio
from comision_recompensa import signals
from comision_recompensa.contratos.services import (
    contrato_crear,
    contrato_editar,
    contrato_publicar,
    contrato_publicar_version,
)
from comision_recompensa.models import AceptacionContrato, Contrato
from comision_recompensa.tests.factories import AsociacionFactory
from conftest import cliente_para
from eventos_medios.services.tracking import ip_hash
from eventos_medios.tests.factories import MarcaFactory, SocioFactory, UsuarioFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/contratos/"
TEXTO_V1 = "Terms v1.\nCommission is paid monthly."
TEXTO_V2 = "Terms v2.\nCommission is paid monthly; chargebacks are deducted."


def _hoy() -> dt.date:
    return timezone.now().date()


@pytest.fixture
def asociacion(socio, marca):
    return AsociacionFactory(socio=socio, marca=marca)


@pytest.fixture
def v1(asociacion, staff):
    return contrato_publicar_version(
        asociacion_id=asociacion.id, texto=TEXTO_V1, por=staff.pk, origen="test"
    )


@pytest.fixture
def capturadas():
    """Every contract signal sent, with its arguments."""
    recibidas: list[tuple[str, dict]] = []

    def receptor(sender, signal, **kwargs):
        nombre = "publicado" if signal is signals.contrato_publicado else "aceptado"
        recibidas.append((nombre, kwargs))

    for senal in (signals.contrato_publicado, signals.contrato_aceptado):
        senal.connect(receptor, weak=False, dispatch_uid=f"test-{id(senal)}")
    yield recibidas
    for senal in (signals.contrato_publicado, signals.contrato_aceptado):
        senal.disconnect(dispatch_uid=f"test-{id(senal)}")


def _ids(respuesta) -> set[str]:
    assert respuesta.status_code == 200, respuesta.content
    return {fila["id"] for fila in respuesta.json()["results"]}


# --- Reading ------------------------------------------------------------------------------------
def test_cada_quien_ve_sus_contratos_y_los_borradores_solo_staff(
    v1, asociacion, cliente_socio, cliente_marca, cliente_staff, staff
):
    borrador = contrato_crear(
        asociacion_id=asociacion.id, texto="draft", vigente_desde=_hoy(), por=staff.pk
    )
    ajena = AsociacionFactory()  # another partner, another brand
    otro = contrato_publicar_version(asociacion_id=ajena.id, texto="x", por=None, origen="t")

    assert _ids(cliente_socio.get(URL)) == {str(v1.id)}
    assert _ids(cliente_marca.get(URL)) == {str(v1.id)}
    assert _ids(cliente_staff.get(URL)) == {str(v1.id), str(borrador.id), str(otro.id)}
    assert _ids(cliente_para(UsuarioFactory()).get(URL)) == set()
    assert cliente_socio.get(f"{URL}{otro.id}/").status_code == 404
    assert cliente_socio.get(f"{URL}{borrador.id}/").status_code == 404
    assert cliente_marca.get(f"{URL}{borrador.id}/").status_code == 404
    assert cliente_staff.get(URL, {"asociacion": str(ajena.id)}).json()["count"] == 1
    assert cliente_socio.get(URL, {"asociacion": "no-es-uuid"}).status_code == 400
    assert cliente_socio.get(f"{URL}no-es-uuid/").status_code == 404


def test_el_socio_lee_el_texto_su_hash_y_su_estado(v1, cliente_socio):
    datos = cliente_socio.get(f"{URL}{v1.id}/").json()
    assert datos["texto"] == TEXTO_V1
    assert datos["hash_texto"] == hashlib.sha256(TEXTO_V1.encode()).hexdigest()
    assert datos["version"] == 1
    assert datos["estado"] == "vigente"
    assert datos["aceptacion"] is None


def test_contratos_son_de_solo_lectura(v1, cliente_staff, cliente_socio):
    for cliente in (cliente_staff, cliente_socio):
        assert cliente.post(URL, {"texto": "x"}).status_code == 405
        assert cliente.patch(f"{URL}{v1.id}/", {"texto": "x"}).status_code == 405
        assert cliente.delete(f"{URL}{v1.id}/").status_code == 405


# --- Accepting ----------------------------------------------------------------------------------
def test_el_socio_acepta_la_version_vigente(v1, socio, cliente_socio, capturadas):
    r = cliente_socio.post(f"{URL}{v1.id}/aceptar/", REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 201, r.content
    aceptacion = AceptacionContrato.objects.get()
    assert r.json()["id"] == str(aceptacion.id)
    assert aceptacion.socio_id == socio.id
    assert aceptacion.usuario_id == socio.usuario_id
    assert aceptacion.contrato_id == v1.id
    # The same salted hash as tracking; the IP itself is never stored.
    assert aceptacion.ip_hash == ip_hash("198.51.100.7")
    assert "198.51.100.7" not in str(AceptacionContrato.objects.values().get())
    assert aceptacion.hash_texto == hashlib.sha256(TEXTO_V1.encode()).hexdigest()
    assert capturadas == [
        (
            "aceptado",
            {
                "contrato_id": v1.id,
                "aceptacion_id": aceptacion.id,
                "socio_id": socio.id,
                "asociacion_id": v1.asociacion_id,
                "version": 1,
                "por": socio.usuario_id,
            },
        )
    ]
    leido = cliente_socio.get(f"{URL}{v1.id}/").json()
    assert leido["aceptacion"]["id"] == str(aceptacion.id)


def test_aceptar_dos_veces_devuelve_la_misma_aceptacion(v1, cliente_socio, capturadas):
    primera = cliente_socio.post(f"{URL}{v1.id}/aceptar/")
    segunda = cliente_socio.post(f"{URL}{v1.id}/aceptar/")
    assert (primera.status_code, segunda.status_code) == (201, 200)
    assert primera.json() == segunda.json()
    assert AceptacionContrato.objects.count() == 1
    assert len(capturadas) == 1


def test_una_version_sustituida_es_409_y_nombra_la_vigente(v1, asociacion, cliente_socio):
    v2 = contrato_publicar_version(
        asociacion_id=asociacion.id, texto=TEXTO_V2, por=None, origen="test"
    )
    r = cliente_socio.post(f"{URL}{v1.id}/aceptar/")
    assert r.status_code == 409
    assert r.json()["code"] == "contrato_sustituido"
    assert r.json()["contrato_vigente"] == {"id": str(v2.id), "version": 2}
    assert str(v2.id) in r.json()["detail"]
    assert not AceptacionContrato.objects.exists()
    assert cliente_socio.get(f"{URL}{v1.id}/").json()["estado"] == "sustituido"


def test_una_nueva_version_necesita_una_nueva_aceptacion(v1, asociacion, cliente_socio):
    assert cliente_socio.post(f"{URL}{v1.id}/aceptar/").status_code == 201
    v2 = contrato_publicar_version(
        asociacion_id=asociacion.id, texto=TEXTO_V2, por=None, origen="test"
    )
    vigente = cliente_socio.get("/api/v1/asociaciones/").json()["results"][0]["contrato_vigente"]
    assert vigente == {
        "id": str(v2.id),
        "version": 2,
        "vigente_desde": str(_hoy()),
        "aceptado": False,
    }
    assert cliente_socio.post(f"{URL}{v2.id}/aceptar/").status_code == 201
    aceptaciones = AceptacionContrato.objects.order_by("aceptado_en")
    assert [a.hash_texto for a in aceptaciones] == [
        hashlib.sha256(t.encode()).hexdigest() for t in (TEXTO_V1, TEXTO_V2)
    ]
    vigente = cliente_socio.get("/api/v1/asociaciones/").json()["results"][0]["contrato_vigente"]
    assert vigente["aceptado"] is True


def test_una_version_programada_se_puede_aceptar_por_adelantado(v1, asociacion, cliente_socio):
    futura = contrato_publicar_version(
        asociacion_id=asociacion.id,
        texto=TEXTO_V2,
        vigente_desde=_hoy() + dt.timedelta(days=30),
        por=None,
        origen="test",
    )
    assert cliente_socio.get(f"{URL}{futura.id}/").json()["estado"] == "programado"
    assert cliente_socio.get(f"{URL}{v1.id}/").json()["estado"] == "vigente"
    assert cliente_socio.post(f"{URL}{futura.id}/aceptar/").status_code == 201
    # v1 is still in force until then: accepting it is fine too.
    assert cliente_socio.post(f"{URL}{v1.id}/aceptar/").status_code == 201


def test_marca_y_staff_no_aceptan_en_nombre_del_socio(v1, cliente_marca, cliente_staff):
    for cliente in (cliente_marca, cliente_staff):
        r = cliente.post(f"{URL}{v1.id}/aceptar/")
        assert r.status_code == 403
        assert r.json()["code"] == "solo_el_socio"
    assert not AceptacionContrato.objects.exists()


def test_otro_socio_no_ve_ni_acepta_y_un_borrador_no_se_acepta(v1, asociacion, cliente_socio):
    otro = SocioFactory(usuario=UsuarioFactory())
    assert cliente_para(otro.usuario).post(f"{URL}{v1.id}/aceptar/").status_code == 404
    borrador = contrato_crear(
        asociacion_id=asociacion.id, texto="draft", vigente_desde=_hoy(), por=None
    )
    assert cliente_socio.post(f"{URL}{borrador.id}/aceptar/").status_code == 404
    assert cliente_para(UsuarioFactory()).post(f"{URL}{v1.id}/aceptar/").status_code == 404
    assert not AceptacionContrato.objects.exists()


def test_un_socio_que_tambien_es_usuario_de_marca_solo_acepta_lo_suyo(v1, asociacion):
    """A user linked to a brand (which sees the programme) and to its own partner."""
    usuario = UsuarioFactory()
    asociacion.marca.usuarios.add(usuario)
    SocioFactory(usuario=usuario)
    r = cliente_para(usuario).post(f"{URL}{v1.id}/aceptar/")
    assert r.status_code == 403
    assert not AceptacionContrato.objects.exists()


def test_anonimo_rechazado(v1, cliente_anonimo):
    assert cliente_anonimo.get(URL).status_code == 401
    assert cliente_anonimo.post(f"{URL}{v1.id}/aceptar/").status_code == 401


# --- Versions: drafts, publication, immutability -----------------------------------------------
def test_versiones_numeradas_un_borrador_y_publicado_inmutable(asociacion, staff, capturadas):
    borrador = contrato_crear(
        asociacion_id=asociacion.id, texto=TEXTO_V1, vigente_desde=_hoy(), por=staff.pk
    )
    assert (borrador.version, borrador.publicado_en, borrador.creado_por_id) == (1, None, staff.pk)
    with pytest.raises(Conflicto, match="already has a draft"):
        contrato_crear(asociacion_id=asociacion.id, texto="x", vigente_desde=_hoy(), por=None)
    borrador = contrato_editar(contrato=borrador, texto=TEXTO_V2, vigente_desde=_hoy())
    assert borrador.hash_texto == hashlib.sha256(TEXTO_V2.encode()).hexdigest()

    publicado = contrato_publicar(contrato_id=borrador.id, por=staff.pk, origen="admin")
    assert publicado.publicado_en is not None and publicado.publicado_por_id == staff.pk
    assert capturadas == [
        (
            "publicado",
            {
                "contrato_id": borrador.id,
                "asociacion_id": asociacion.id,
                "version": 1,
                "vigente_desde": _hoy(),
                "por": staff.pk,
                "origen": "admin",
            },
        )
    ]
    with pytest.raises(Conflicto, match="already published"):
        contrato_publicar(contrato_id=borrador.id, por=staff.pk, origen="admin")
    with pytest.raises(Conflicto, match="cannot change"):
        contrato_editar(contrato=publicado, texto="changed", vigente_desde=_hoy())
    assert Contrato.objects.get(id=borrador.id).texto == TEXTO_V2
    siguiente = contrato_crear(
        asociacion_id=asociacion.id, texto="v2", vigente_desde=_hoy(), por=None
    )
    assert siguiente.version == 2


def test_validacion_de_texto_y_fechas(asociacion):
    with pytest.raises(ErrorDominio) as error:
        contrato_crear(asociacion_id=asociacion.id, texto="   ", vigente_desde=_hoy(), por=None)
    assert "texto" in error.value.errores
    v1 = contrato_publicar_version(
        asociacion_id=asociacion.id, texto="v1", vigente_desde=_hoy(), por=None, origen="t"
    )
    antes = contrato_crear(
        asociacion_id=asociacion.id,
        texto="v2",
        vigente_desde=v1.vigente_desde - dt.timedelta(days=1),
        por=None,
    )
    with pytest.raises(ErrorDominio) as error:
        contrato_publicar(contrato_id=antes.id, por=None, origen="t")
    assert error.value.campo == "vigente_desde"


# --- Admin ----------------------------------------------------------------------------------------
@pytest.fixture
def admin_cliente(client, staff):
    client.force_login(staff)
    return client


def test_admin_escribe_previsualiza_y_publica(admin_cliente, asociacion, staff, capturadas):
    texto = "Terms <script>alert(1)</script>\nLine two."
    r = admin_cliente.post(
        reverse("admin:comision_recompensa_contrato_add"),
        {"asociacion": str(asociacion.id), "vigente_desde": str(_hoy()), "texto": texto},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    borrador = Contrato.objects.get()
    assert (borrador.version, borrador.publicado_en, borrador.creado_por_id) == (1, None, staff.pk)

    vista = admin_cliente.get(
        reverse("admin:comision_recompensa_contrato_vista_previa", args=[borrador.id])
    )
    html = vista.content.decode()
    assert vista.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert hashlib.sha256(texto.encode()).hexdigest() in html
    assert "Draft" in html and "Publish version 1" in html
    assert capturadas == []

    r = admin_cliente.post(
        reverse("admin:comision_recompensa_contrato_vista_previa", args=[borrador.id])
    )
    assert r.status_code == 302
    borrador.refresh_from_db()
    assert borrador.publicado_en is not None
    assert [nombre for nombre, _ in capturadas] == ["publicado"]

    # Published: the change page edits nothing, and it cannot be deleted.
    cambio = reverse("admin:comision_recompensa_contrato_change", args=[borrador.id])
    admin_cliente.post(cambio, {"texto": "tampered", "vigente_desde": str(_hoy())})
    assert Contrato.objects.get().texto == texto
    borrar = reverse("admin:comision_recompensa_contrato_delete", args=[borrador.id])
    assert admin_cliente.post(borrar, {"post": "yes"}).status_code == 403
    # The agreement's page lists its versions.
    pagina = admin_cliente.get(
        reverse("admin:comision_recompensa_asociacionestrategica_change", args=[asociacion.id])
    ).content.decode()
    assert "Contract versions" in pagina and ">v1<" in pagina and "vigente" in pagina


def test_admin_un_segundo_borrador_se_rechaza_en_el_formulario(admin_cliente, asociacion):
    contrato_crear(asociacion_id=asociacion.id, texto="draft", vigente_desde=_hoy(), por=None)
    r = admin_cliente.post(
        reverse("admin:comision_recompensa_contrato_add"),
        {"asociacion": str(asociacion.id), "vigente_desde": str(_hoy()), "texto": "other"},
    )
    assert r.status_code == 200
    assert "already has a draft" in r.content.decode()
    assert Contrato.objects.count() == 1


def test_admin_accion_publicar_y_borrar_borrador(admin_cliente, asociacion):
    uno = contrato_crear(asociacion_id=asociacion.id, texto="one", vigente_desde=_hoy(), por=None)
    r = admin_cliente.post(
        reverse("admin:comision_recompensa_contrato_changelist"),
        {"action": "publicar", "_selected_action": [str(uno.id)]},
    )
    assert "1 versions published." in [str(m) for m in get_messages(r.wsgi_request)]
    dos = contrato_crear(asociacion_id=asociacion.id, texto="two", vigente_desde=_hoy(), por=None)
    borrar = reverse("admin:comision_recompensa_contrato_delete", args=[dos.id])
    assert admin_cliente.post(borrar, {"post": "yes"}).status_code == 302
    assert list(Contrato.objects.values_list("version", flat=True)) == [1]


def test_admin_aceptaciones_de_solo_lectura(admin_cliente, v1, cliente_socio):
    cliente_socio.post(f"{URL}{v1.id}/aceptar/")
    lista = admin_cliente.get(reverse("admin:comision_recompensa_aceptacioncontrato_changelist"))
    assert lista.status_code == 200
    assert (
        admin_cliente.get(reverse("admin:comision_recompensa_aceptacioncontrato_add")).status_code
        == 403
    )
    marca_otra = MarcaFactory()
    assert marca_otra.nombre not in lista.content.decode()
