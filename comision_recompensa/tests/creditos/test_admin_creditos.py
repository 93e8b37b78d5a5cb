"""Admin of agreements, commissions, rewards and the re-attribution audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from comision_recompensa.models import (
    Ajuste,
    AsociacionEstrategica,
    CambioAtribucion,
    EjecucionReatribucion,
    EstadoCredito,
)
from comision_recompensa.tests.factories import (
    AsociacionFactory,
    ComisionFactory,
    PagoFactory,
    RecompensaFactory,
)
from eventos_medios.tests.factories import MarcaFactory, SocioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_cliente(client, staff):
    client.force_login(staff)
    return client


def _mensajes(respuesta):
    return [str(m) for m in get_messages(respuesta.wsgi_request)]


@pytest.mark.parametrize("modelo", ["comision", "recompensa"])
def test_changelist_con_filtros(admin_cliente, modelo):
    factory = ComisionFactory if modelo == "comision" else RecompensaFactory
    pendiente = factory()
    aprobada = factory(estado=EstadoCredito.APROBADA)
    url = reverse(f"admin:comision_recompensa_{modelo}_changelist")
    respuesta = admin_cliente.get(url)
    assert respuesta.status_code == 200
    contenido = respuesta.content.decode()
    assert str(pendiente.pk) in contenido and str(aprobada.pk) in contenido
    filtrada = admin_cliente.get(f"{url}?estado__exact=aprobada").content.decode()
    assert str(aprobada.pk) in filtrada and str(pendiente.pk) not in filtrada
    por_socio = admin_cliente.get(f"{url}?socio__id__exact={pendiente.socio_id}").content.decode()
    assert str(pendiente.pk) in por_socio and str(aprobada.pk) not in por_socio
    marca_id = aprobada.evento.marca_id
    por_marca = admin_cliente.get(f"{url}?evento__marca__id__exact={marca_id}").content.decode()
    assert str(aprobada.pk) in por_marca and str(pendiente.pk) not in por_marca


def test_change_page_muestra_la_explicacion_escapada(admin_cliente):
    socio = SocioFactory(nombre="<script>alert(1)</script>")
    credito = ComisionFactory(
        socio=socio,
        evento__publicacion__medio__socio=socio,
        detalle_atribucion={
            "metodo": "visitante_id",
            "modelo": "lineal",
            "ventana_dias": 30,
            "touchpoints": [
                {
                    "evento_id": "e1",
                    "tipo": "click",
                    "socio_id": str(socio.pk),
                    "ocurrido_en": "2026-03-01T10:00:00+00:00",
                    "peso": "0.5",
                    "credito": "0.500000",
                    "propio": True,
                },
                {
                    "evento_id": "e2",
                    "tipo": "interaccion",
                    "socio_id": "otro",
                    "ocurrido_en": "2026-03-02T10:00:00+00:00",
                    "peso": "0.5",
                    "credito": "0.500000",
                    "propio": False,
                },
            ],
            "asociacion": None,
            "regla": None,
        },
        participacion=Decimal("0.5"),
    )
    url = reverse("admin:comision_recompensa_comision_change", args=[credito.pk])
    respuesta = admin_cliente.get(url)
    assert respuesta.status_code == 200
    contenido = respuesta.content.decode()
    assert "earned 50% of this venta" in contenido
    assert "under the &#x27;lineal&#x27; model" in contenido
    assert "<script>alert(1)</script>" not in contenido
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in contenido
    assert "this partner" in contenido  # the touchpoints table
    # Read-mostly: no save button, no delete, no add.
    assert 'name="_save"' not in contenido
    assert admin_cliente.get(reverse("admin:comision_recompensa_comision_add")).status_code == 403


@pytest.mark.parametrize("modelo", ["comision", "recompensa"])
def test_accion_aprobar_informa_cambios_y_rechazos(admin_cliente, modelo):
    factory = ComisionFactory if modelo == "comision" else RecompensaFactory
    pendientes = factory.create_batch(2)
    revertida = factory(estado=EstadoCredito.REVERTIDA)
    url = reverse(f"admin:comision_recompensa_{modelo}_changelist")
    respuesta = admin_cliente.post(
        url,
        {
            "action": "aprobar_seleccionados",
            "_selected_action": [str(c.pk) for c in (*pendientes, revertida)],
        },
        follow=True,
    )
    assert respuesta.status_code == 200
    mensajes = _mensajes(respuesta)
    assert "2 approved." in mensajes
    assert any(m.startswith("1 refused:") and "reversed" in m for m in mensajes)
    for c in pendientes:
        c.refresh_from_db()
        assert c.estado == EstadoCredito.APROBADA
    revertida.refresh_from_db()
    assert revertida.estado == EstadoCredito.REVERTIDA


def test_accion_revertir_con_clawback(admin_cliente):
    pagada = ComisionFactory(estado=EstadoCredito.PAGADA, pago=PagoFactory())
    ya_revertida = ComisionFactory(estado=EstadoCredito.REVERTIDA)
    url = reverse("admin:comision_recompensa_comision_changelist")
    respuesta = admin_cliente.post(
        url,
        {
            "action": "revertir_seleccionados",
            "_selected_action": [str(pagada.pk), str(ya_revertida.pk)],
        },
        follow=True,
    )
    mensajes = _mensajes(respuesta)
    assert "1 reversed." in mensajes
    assert any("already reversed" in m for m in mensajes)
    pagada.refresh_from_db()
    assert pagada.estado == EstadoCredito.REVERTIDA
    assert "in the admin" in pagada.motivo_reversion
    assert Ajuste.objects.get().monto == -pagada.monto


def test_admin_exige_staff(client, django_user_model):
    usuario = django_user_model.objects.create_user("normal", password="x")
    client.force_login(usuario)
    respuesta = client.get(reverse("admin:comision_recompensa_comision_changelist"))
    assert respuesta.status_code == 302  # to the admin login


def test_asociacion_con_reglas_inline(admin_cliente):
    marca, socio = MarcaFactory(), SocioFactory()
    datos = {
        "marca": str(marca.pk),
        "socio": str(socio.pk),
        "tipo": "programa_afiliados",
        "dias_retencion": "30",
        "vigencia_inicio": "2026-01-01",
        "vigencia_fin": "",
        "reglas-TOTAL_FORMS": "1",
        "reglas-INITIAL_FORMS": "0",
        "reglas-MIN_NUM_FORMS": "0",
        "reglas-MAX_NUM_FORMS": "1000",
        "reglas-0-tipo_evento": "venta",
        "reglas-0-modalidad": "porcentaje",
        "reglas-0-valor": "10",
        "reglas-0-moneda": "eur",
        "reglas-0-tope": "",
    }
    url = reverse("admin:comision_recompensa_asociacionestrategica_add")
    respuesta = admin_cliente.post(url, datos)
    assert respuesta.status_code == 302, respuesta.content.decode()[:3000]
    asociacion = AsociacionEstrategica.objects.get()
    assert asociacion.reglas.get().moneda == "EUR"

    # An overlapping agreement for the same pair is refused on the form, naming the field.
    otra = admin_cliente.post(url, {**datos, "vigencia_inicio": "2026-06-01"})
    assert otra.status_code == 200
    assert "Overlaps another agreement" in otra.content.decode()
    # A percentage above 100 is refused in the inline.
    mala = admin_cliente.post(
        url, {**datos, "socio": str(SocioFactory().pk), "reglas-0-valor": "150"}
    )
    assert mala.status_code == 200
    assert "A percentage cannot exceed 100." in mala.content.decode()
    assert AsociacionEstrategica.objects.count() == 1

    # Editing: change the rule, end the agreement.
    regla = asociacion.reglas.get()
    cambio = {
        **datos,
        "vigencia_fin": "2026-12-31",
        "reglas-INITIAL_FORMS": "1",
        "reglas-0-id": str(regla.pk),
        "reglas-0-asociacion": str(asociacion.pk),
        "reglas-0-valor": "12.5",
    }
    url_cambio = reverse(
        "admin:comision_recompensa_asociacionestrategica_change", args=[asociacion.pk]
    )
    otra_marca = MarcaFactory()
    respuesta = admin_cliente.post(url_cambio, {**cambio, "marca": str(otra_marca.pk)})
    assert respuesta.status_code == 302, respuesta.content.decode()[:3000]
    asociacion.refresh_from_db()
    assert asociacion.marca == marca  # read-only on change
    assert asociacion.vigencia_fin == dt.date(2026, 12, 31)
    assert asociacion.reglas.get().pk == regla.pk
    assert asociacion.reglas.get().valor == Decimal("12.50")
    # Deleting the rule through the inline.
    respuesta = admin_cliente.post(url_cambio, {**cambio, "reglas-0-DELETE": "on"})
    assert respuesta.status_code == 302
    assert asociacion.reglas.count() == 0


def test_auditoria_solo_lectura(admin_cliente):
    ejecucion = EjecucionReatribucion.objects.create(parametros={"desde": "2026-01-01"})
    credito = ComisionFactory()
    cambio = CambioAtribucion.objects.create(
        ejecucion=ejecucion,
        evento=credito.evento,
        socio=credito.socio,
        accion=CambioAtribucion.Accion.CAMBIADA,
        monto_anterior=Decimal("10.00"),
        monto_nuevo=Decimal("5.00"),
        moneda="EUR",
    )
    lista = admin_cliente.get(reverse("admin:comision_recompensa_cambioatribucion_changelist"))
    assert lista.status_code == 200
    assert "5.00" in lista.content.decode()
    ver = admin_cliente.get(
        reverse("admin:comision_recompensa_cambioatribucion_change", args=[cambio.pk])
    )
    assert ver.status_code == 200
    assert 'name="_save"' not in ver.content.decode()
    assert (
        admin_cliente.get(
            reverse("admin:comision_recompensa_ejecucionreatribucion_changelist")
        ).status_code
        == 200
    )
    assert (
        admin_cliente.post(
            reverse("admin:comision_recompensa_cambioatribucion_delete", args=[cambio.pk]),
            {"post": "yes"},
        ).status_code
        == 403
    )
    assert CambioAtribucion.objects.count() == 1


def test_asociacion_changelist(admin_cliente):
    AsociacionFactory(vigencia_inicio=dt.date(2026, 1, 1))
    respuesta = admin_cliente.get(
        reverse("admin:comision_recompensa_asociacionestrategica_changelist")
    )
    assert respuesta.status_code == 200


@pytest.mark.parametrize("termino", ["no-es-un-uuid", "{id}"])
def test_busqueda_por_id(admin_cliente, termino):
    credito = ComisionFactory()
    url = reverse("admin:comision_recompensa_comision_changelist")
    respuesta = admin_cliente.get(url, {"q": termino.format(id=credito.pk)})
    assert respuesta.status_code == 200
    assert (str(credito.pk) in respuesta.content.decode()) == (termino == "{id}")
