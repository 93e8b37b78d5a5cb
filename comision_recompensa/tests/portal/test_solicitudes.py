"""Applications: the public form (404 for closed programmes, honeypot, minimum fill time, rate
limit, CSRF), staff's approval (everything in one transaction, never twice) and rejection."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.urls import reverse

from alpespartners.errors import Conflicto
from comision_recompensa.models import (
    AsociacionEstrategica,
    CorreoSaliente,
    EstadoCorreo,
    EstadoSolicitud,
    PreferenciasSocio,
    Solicitud,
    TipoCorreo,
)
from comision_recompensa.portal.forms import marca_tiempo_firmar
from comision_recompensa.solicitudes.services import solicitud_aprobar, solicitud_rechazar
from comision_recompensa.tests.portal.datos import terminos_para
from eventos_medios.models import MedioMarketing, Socio
from eventos_medios.tests.factories import MarcaFactory, StaffFactory, UsuarioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marca():
    marca = MarcaFactory(nombre="Alpes Outdoor", slug="alpes-outdoor")
    terminos_para(marca)
    return marca


def _datos(marca, **extra):
    return {
        "nombre": "Lucía Montaña",
        "email": "Lucia@Example.com",
        "tipo_socio": "influencer",
        "medio_plataforma": "instagram",
        "medio_url": "https://instagram.com/lucia",
        "mensaje": "Hago rutas por los Andes.",
        "acepta_terminos": "on",
        "web": "",
        "inicio": marca_tiempo_firmar(marca_id=marca.pk, ahora=time.time() - 30),
        **extra,
    }


def _url(marca):
    return reverse("portal:solicitar", args=[marca.slug])


def test_el_formulario_se_muestra_con_las_condiciones(client, marca):
    html = client.get(_url(marca)).content.decode()
    assert "Únete al programa de socios de Alpes Outdoor" in html
    assert "10 % de la venta" in html and "14 días" in html
    assert 'aria-hidden="true"' in html and 'name="web"' in html and 'tabindex="-1"' in html
    assert html.count("<fieldset>") == 2 and html.count("<legend>") == 2


@pytest.mark.parametrize("caso", ["desconocida", "inactiva", "sin_terminos", "cerrada"])
def test_programa_no_abierto_es_404(client, marca, caso):
    if caso == "desconocida":
        url = reverse("portal:solicitar", args=["no-existe"])
    else:
        otra = MarcaFactory(activo=caso != "inactiva")
        if caso != "sin_terminos":
            terminos_para(otra, acepta_solicitudes=caso != "cerrada")
        url = _url(otra)
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404


def test_una_solicitud_valida_se_guarda_y_avisa_por_correo(client, marca, confirmado):
    respuesta = confirmado(client.post, _url(marca), _datos(marca))
    assert respuesta.status_code == 302
    assert respuesta["Location"] == reverse("portal:solicitud_enviada", args=[marca.slug])
    solicitud = Solicitud.objects.get()
    assert (solicitud.email, solicitud.estado, solicitud.idioma) == (
        "lucia@example.com",
        "pendiente",
        "es",
    )
    assert len(solicitud.ip_hash) == 64
    correo = CorreoSaliente.objects.get(tipo=TipoCorreo.SOLICITUD_RECIBIDA)
    assert correo.estado == EstadoCorreo.ENVIADO  # sent on commit (eager Celery in the suite)
    assert [m.subject for m in mail.outbox] == ["Recibimos tu solicitud a Alpes Outdoor"]
    assert "Recibimos tu solicitud" in client.get(respuesta["Location"]).content.decode()


def test_en_ingles_la_solicitud_y_su_correo_van_en_ingles(client, marca, confirmado):
    client.post(reverse("portal:idioma"), {"idioma": "en", "siguiente": _url(marca)})
    confirmado(client.post, _url(marca), _datos(marca))
    assert Solicitud.objects.get().idioma == "en"
    assert mail.outbox[0].subject == "We received your application to Alpes Outdoor"


def test_el_panal_no_guarda_nada_pero_parece_un_exito(client, marca, confirmado):
    respuesta = confirmado(client.post, _url(marca), _datos(marca, web="http://spam.example"))
    assert respuesta.status_code == 302
    assert not Solicitud.objects.exists() and not mail.outbox


@pytest.mark.parametrize(
    "inicio,error",
    [
        ("ahora", "Eso fue muy rápido"),
        ("manipulado", "El formulario caducó"),
        ("otra_marca", "El formulario caducó"),
        ("viejo", "El formulario caducó"),
    ],
)
def test_tiempo_minimo_y_firma_del_formulario(client, marca, inicio, error):
    firmas = {
        "ahora": marca_tiempo_firmar(marca_id=marca.pk),
        "manipulado": marca_tiempo_firmar(marca_id=marca.pk, ahora=time.time() - 30)[:-3] + "abc",
        "otra_marca": marca_tiempo_firmar(marca_id=MarcaFactory().pk, ahora=time.time() - 30),
        "viejo": marca_tiempo_firmar(marca_id=marca.pk, ahora=time.time() - 3 * 24 * 3600),
    }
    respuesta = client.post(_url(marca), _datos(marca, inicio=firmas[inicio]))
    assert respuesta.status_code == 200
    html = respuesta.content.decode()
    assert error in html and 'role="alert"' in html
    assert not Solicitud.objects.exists()
    # The form comes back with a fresh serving time and what was typed.
    assert 'value="Lucía Montaña"' in html
    nuevo = re.search(r'name="inicio" value="([^"]+)"', html).group(1)
    assert nuevo != firmas[inicio]


def test_errores_de_campo_accesibles(client, marca):
    html = client.post(_url(marca), _datos(marca, email="no", acepta_terminos="")).content.decode()
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_email_error"' in html
    assert not Solicitud.objects.exists()


def test_segunda_solicitud_pendiente_del_mismo_correo_no_agrega_nada(client, marca, confirmado):
    confirmado(client.post, _url(marca), _datos(marca))
    confirmado(client.post, _url(marca), _datos(marca, email="LUCIA@example.com"))
    assert Solicitud.objects.count() == 1 and len(mail.outbox) == 1


def test_limite_por_ip_con_pagina_429(client, marca, settings):
    settings.RATE_LIMIT_SOLICITUDES = "2/h"
    cache.clear()
    for _ in range(2):
        assert (
            client.post(_url(marca), _datos(marca, email=f"{time.time()}@example.com")).status_code
            == 302
        )
    respuesta = client.post(_url(marca), _datos(marca, email="otra@example.com"))
    assert respuesta.status_code == 429
    assert int(respuesta["Retry-After"]) > 0
    assert "Demasiados intentos" in respuesta.content.decode()
    assert Solicitud.objects.count() == 2


def test_sin_csrf_no_se_acepta(marca):
    cliente = Client(enforce_csrf_checks=True)
    assert cliente.post(_url(marca), _datos(marca)).status_code == 403
    assert not Solicitud.objects.exists()


# --- Approval and rejection -----------------------------------------------------------------


def _solicitud(client, marca, **extra):
    client.post(_url(marca), _datos(marca, **extra))  # its "received" e-mail is not sent here
    return Solicitud.objects.get(email=extra.get("email", "lucia@example.com").lower())


def test_aprobar_crea_todo_e_invita(client, marca, confirmado):
    solicitud = _solicitud(client, marca)
    staff = StaffFactory()
    confirmado(solicitud_aprobar, solicitud_id=solicitud.pk, por=staff)
    solicitud.refresh_from_db()
    socio = Socio.objects.get(email="lucia@example.com")
    assert solicitud.estado == EstadoSolicitud.APROBADA and solicitud.socio == socio
    assert solicitud.resuelta_por == staff and solicitud.resuelta_en is not None
    assert socio.tipo == "influencer" and not socio.usuario.has_usable_password()
    assert socio.usuario.username == "lucia@example.com"
    medio = MedioMarketing.objects.get(socio=socio)
    assert (medio.plataforma, medio.url) == ("instagram", "https://instagram.com/lucia")
    asociacion = AsociacionEstrategica.objects.get(socio=socio, marca=marca)
    assert asociacion.dias_retencion == 14 and asociacion.vigencia_fin is None
    reglas = {
        (r.tipo_evento, r.modalidad, str(r.valor), str(r.tope)) for r in asociacion.reglas.all()
    }
    assert reglas == {("venta", "porcentaje", "10.00", "50.00"), ("lead", "fijo", "2.00", "None")}
    assert PreferenciasSocio.objects.get(socio=socio).idioma == "es"
    invitacion = mail.outbox[-1]
    assert invitacion.to == ["lucia@example.com"] and "elige tu contraseña" in invitacion.subject
    assert re.search(r"http://127\.0\.0\.1:8000/portal/invitacion/[^/]+/[^/\s]+/", invitacion.body)
    # The stored copy of a one-time link is blanked once sent.
    fila = CorreoSaliente.objects.get(tipo=TipoCorreo.INVITACION)
    assert fila.estado == EstadoCorreo.ENVIADO and "/portal/invitacion/" not in fila.cuerpo_texto


def test_la_invitacion_fija_la_contrasena_una_sola_vez(client, marca, confirmado):
    solicitud = _solicitud(client, marca)
    confirmado(solicitud_aprobar, solicitud_id=solicitud.pk)
    ruta = re.search(r"http://[^/]+(/portal/invitacion/\S+/)", mail.outbox[-1].body).group(1)
    formulario = client.get(ruta, follow=True)
    assert formulario.status_code == 200 and "Elige tu contraseña" in formulario.content.decode()
    destino = formulario.redirect_chain[-1][0]
    clave = "Una-clave-larga-2026"
    fin = client.post(destino, {"new_password1": clave, "new_password2": clave})
    assert fin.status_code == 302 and fin["Location"] == reverse("portal:restablecer_completo")
    entrada = Client().post(
        reverse("portal:entrar"), {"username": "lucia@example.com", "password": clave}
    )
    assert entrada.status_code == 302 and entrada["Location"] == reverse("portal:resumen")
    otra = Client().get(ruta, follow=True).content.decode()
    assert "Este enlace ya no funciona" in otra


def test_aprobar_dos_veces_es_un_conflicto(client, marca):
    solicitud = _solicitud(client, marca)
    solicitud_aprobar(solicitud_id=solicitud.pk)
    with pytest.raises(Conflicto):
        solicitud_aprobar(solicitud_id=solicitud.pk)
    with pytest.raises(Conflicto):
        solicitud_rechazar(solicitud_id=solicitud.pk, motivo="tarde")
    assert Socio.objects.filter(email="lucia@example.com").count() == 1
    assert CorreoSaliente.objects.filter(tipo=TipoCorreo.INVITACION).count() == 1


def test_correo_ya_usado_no_escribe_nada(client, marca):
    UsuarioFactory(username="otra", email="LUCIA@example.com")
    solicitud = _solicitud(client, marca)
    with pytest.raises(Conflicto, match="already belongs to a user"):
        solicitud_aprobar(solicitud_id=solicitud.pk)
    solicitud.refresh_from_db()
    assert solicitud.estado == EstadoSolicitud.PENDIENTE
    assert not Socio.objects.filter(email="lucia@example.com").exists()
    assert not AsociacionEstrategica.objects.filter(marca=marca).exists()
    assert not CorreoSaliente.objects.filter(tipo=TipoCorreo.INVITACION).exists()


def test_sin_terminos_no_se_puede_aprobar(client, marca):
    solicitud = _solicitud(client, marca)
    marca.terminos_por_defecto.delete()
    with pytest.raises(Conflicto, match="no default terms"):
        solicitud_aprobar(solicitud_id=solicitud.pk)
    assert Solicitud.objects.get().estado == EstadoSolicitud.PENDIENTE
    assert not get_user_model().objects.filter(email="lucia@example.com").exists()


def test_rechazar_con_motivo(client, marca, confirmado):
    solicitud = _solicitud(client, marca)
    confirmado(
        solicitud_rechazar, solicitud_id=solicitud.pk, motivo="Buscamos cuentas de más de 10k."
    )
    solicitud.refresh_from_db()
    assert solicitud.estado == EstadoSolicitud.RECHAZADA
    assert "Buscamos cuentas de más de 10k." in mail.outbox[-1].body
    assert mail.outbox[-1].subject == "Tu solicitud a Alpes Outdoor"


# --- The admin ------------------------------------------------------------------------------


def test_admin_aprueba_con_el_boton_y_no_dos_veces(client, marca):
    solicitud = _solicitud(client, marca)
    admin = Client()
    admin.force_login(StaffFactory())
    pagina = admin.get(reverse("admin:comision_recompensa_solicitud_change", args=[solicitud.pk]))
    assert "Approve" in pagina.content.decode() and "Reject" in pagina.content.decode()
    url = reverse("admin:comision_recompensa_solicitud_aprobar", args=[solicitud.pk])
    primera = admin.post(url, follow=True).content.decode()
    assert "is a partner now" in primera
    segunda = admin.post(url, follow=True).content.decode()
    assert "Not approved: This application was already approved or rejected." in segunda
    assert Socio.objects.filter(email="lucia@example.com").count() == 1


def test_admin_muestra_el_error_del_correo_ya_usado(client, marca):
    UsuarioFactory(username="lucia", email="lucia@example.com")
    solicitud = _solicitud(client, marca)
    admin = Client()
    admin.force_login(StaffFactory())
    html = admin.post(
        reverse("admin:comision_recompensa_solicitud_aprobar", args=[solicitud.pk]), follow=True
    ).content.decode()
    assert "already belongs to a user" in html


def test_admin_rechaza_en_lote_con_motivo(client, marca):
    solicitud = _solicitud(client, marca)
    admin = Client()
    admin.force_login(StaffFactory())
    lista = reverse("admin:comision_recompensa_solicitud_changelist")
    datos = {"action": "rechazar_seleccionadas", "_selected_action": [str(solicitud.pk)]}
    intermedia = admin.post(lista, datos)
    assert (
        intermedia.status_code == 200
        and "Reason (sent to the applicant)" in intermedia.content.decode()
    )
    admin.post(lista, {**datos, "confirmar": "1", "motivo": "Cupo completo"})
    solicitud.refresh_from_db()
    assert (solicitud.estado, solicitud.motivo_rechazo) == ("rechazada", "Cupo completo")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_dos_aprobaciones_concurrentes_solo_una_gana(marca):
    Client().post(_url(marca), _datos(marca))
    solicitud = Solicitud.objects.get()
    barrera = threading.Barrier(2)
    resultados: list[str] = []

    def aprobar() -> None:
        try:
            barrera.wait()
            solicitud_aprobar(solicitud_id=solicitud.pk)
            resultados.append("ok")
        except Conflicto:
            resultados.append("conflicto")
        finally:
            connections.close_all()

    hilos = [threading.Thread(target=aprobar) for _ in range(2)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    assert sorted(resultados) == ["conflicto", "ok"]
    assert Socio.objects.filter(email="lucia@example.com").count() == 1
    assert CorreoSaliente.objects.filter(tipo=TipoCorreo.INVITACION).count() == 1
