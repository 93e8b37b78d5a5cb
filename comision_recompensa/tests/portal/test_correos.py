"""The e-mail outbox: written with the change, sent once through Django's backend, retried with
backoff, dead-lettered and retried by staff; the domain signals that write e-mails; the
one-click unsubscribe; the password reset through the outbox."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alpespartners.senales import enviar_en_transaccion
from comision_recompensa import signals
from comision_recompensa.correos.baja import baja_firmar
from comision_recompensa.correos.envio import correo_enviar, correos_enviar_pendientes
from comision_recompensa.correos.services import (
    correo_encolar,
    correo_reintentar,
    preferencias_guardar,
)
from comision_recompensa.creditos.services import credito_aprobar
from comision_recompensa.models import (
    Comision,
    CorreoSaliente,
    EstadoCorreo,
    Pago,
    PreferenciasSocio,
    TipoCorreo,
)
from comision_recompensa.tests.factories import AsociacionFactory, ComisionFactory, PagoFactory
from comision_recompensa.tests.portal.datos import socio_portal
from eventos_medios.tests.factories import EventoFactory, StaffFactory

pytestmark = pytest.mark.django_db

FALLOS: list[str] = []


class BackendQueFalla(BaseEmailBackend):
    def send_messages(self, email_messages):
        FALLOS.append("x")
        raise ConnectionRefusedError("SMTP server down")


class BackendContador(BaseEmailBackend):
    """Thread-safe: counts every message by its Message-ID, slowly (widens any race)."""

    enviados: list[str] = []
    cerrojo = threading.Lock()

    def send_messages(self, email_messages):
        time.sleep(0.01)
        with self.cerrojo:
            self.enviados.extend(m.extra_headers["Message-ID"] for m in email_messages)
        return len(email_messages)


def _correo(clave="prueba:1", tipo=TipoCorreo.SOLICITUD_RECIBIDA):
    return correo_encolar(
        tipo=tipo,
        destinatario="ana@example.com",
        idioma="es",
        contexto={"nombre": "Ana", "marca": "Alpes"},
        clave_idempotencia=clave,
    )


def test_la_misma_clave_no_escribe_dos_correos(confirmado):
    assert confirmado(_correo) is not None
    assert confirmado(_correo) is None
    assert CorreoSaliente.objects.count() == 1 and len(mail.outbox) == 1


def test_el_correo_sale_con_texto_y_html_una_sola_vez():
    with transaction.atomic():
        correo = _correo()
        assert not mail.outbox  # not before the commit
    correo_enviar(correo_id=correo.pk)
    mensaje = mail.outbox[0]
    assert mensaje.to == ["ana@example.com"] and mensaje.subject == "Recibimos tu solicitud a Alpes"
    assert mensaje.extra_headers["Message-ID"] == f"<{correo.pk}@alpes-partners>"
    assert (
        mensaje.alternatives[0].mimetype == "text/html"
        and 'lang="es"' in mensaje.alternatives[0].content
    )
    correo.refresh_from_db()
    assert (correo.estado, correo.intentos) == (EstadoCorreo.ENVIADO, 1)
    assert correo_enviar(correo_id=correo.pk).value == "omitido"  # never twice
    assert len(mail.outbox) == 1


def test_si_la_transaccion_se_deshace_no_queda_correo(confirmado):
    with pytest.raises(RuntimeError), transaction.atomic():
        _correo()
        raise RuntimeError("the change failed")
    assert not CorreoSaliente.objects.exists() and not mail.outbox


@pytest.mark.reloj
def test_fallo_del_servidor_se_reintenta_con_espera_y_luego_sale(settings):
    settings.EMAIL_BACKEND = f"{__name__}.BackendQueFalla"
    correo = _correo()
    assert correo_enviar(correo_id=correo.pk).value == "reintento"
    correo.refresh_from_db()
    assert correo.estado == EstadoCorreo.PENDIENTE and correo.intentos == 1
    assert "ConnectionRefusedError: SMTP server down" in correo.ultimo_error
    assert correo.proximo_intento_en > timezone.now() + dt.timedelta(seconds=50)
    assert correos_enviar_pendientes() == {}  # not due yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(correo.proximo_intento_en + dt.timedelta(seconds=1), tick=False):
        assert correos_enviar_pendientes() == {"enviado": 1}
    correo.refresh_from_db()
    assert (correo.estado, correo.intentos, correo.ultimo_error) == (EstadoCorreo.ENVIADO, 2, "")
    assert len(mail.outbox) == 1


@pytest.mark.reloj
def test_tras_n_intentos_va_a_la_cola_muerta_y_el_staff_lo_reintenta(settings, confirmado):
    settings.EMAIL_BACKEND = f"{__name__}.BackendQueFalla"
    settings.CORREO_MAX_INTENTOS = 2
    correo = _correo()
    correo_enviar(correo_id=correo.pk)
    correo.refresh_from_db()
    with time_machine.travel(correo.proximo_intento_en + dt.timedelta(seconds=1), tick=False):
        assert correos_enviar_pendientes() == {"fallido": 1}
    correo.refresh_from_db()
    assert correo.estado == EstadoCorreo.FALLIDO
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    admin = Client()
    admin.force_login(StaffFactory())
    confirmado(
        admin.post,
        reverse("admin:comision_recompensa_correosaliente_changelist"),
        {"action": "reintentar", "_selected_action": [str(correo.pk)]},
    )
    correo.refresh_from_db()
    assert correo.estado == EstadoCorreo.ENVIADO and len(mail.outbox) == 1


def test_solo_los_fallidos_se_reintentan():
    from alpespartners.errors import Conflicto

    with pytest.raises(Conflicto):
        correo_reintentar(correo=_correo())


def test_sin_correo_configurado_nada_se_reclama(settings):
    settings.CORREO_ACTIVO = False
    correo = _correo()
    assert correo_enviar(correo_id=correo.pk).value == "omitido"
    assert correos_enviar_pendientes() == {}
    correo.refresh_from_db()
    assert correo.estado == EstadoCorreo.PENDIENTE and correo.intentos == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_dos_remitentes_a_la_vez_nunca_envian_dos_veces(settings):
    settings.EMAIL_BACKEND = f"{__name__}.BackendContador"
    settings.CORREO_ACTIVO = False  # nothing sent while the rows are written
    ids = [_correo(clave=f"concurrente:{i}").pk for i in range(30)]
    settings.CORREO_ACTIVO = True
    BackendContador.enviados.clear()
    barrera = threading.Barrier(2)

    def remitente() -> None:
        try:
            barrera.wait()
            for _ in range(5):
                correos_enviar_pendientes(limite=7)
        finally:
            connections.close_all()

    hilos = [threading.Thread(target=remitente) for _ in range(2)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()
    esperados = sorted(f"<{i}@alpes-partners>" for i in ids)
    assert sorted(BackendContador.enviados) == esperados  # each exactly once
    assert CorreoSaliente.objects.filter(estado=EstadoCorreo.ENVIADO).count() == 30


# --- E-mails from domain signals --------------------------------------------------------------


@pytest.fixture
def socio():
    d = socio_portal()
    preferencias_guardar(socio_id=d.socio.pk, idioma="en")
    return d


def _pendiente(d):
    venta = EventoFactory(publicacion=d.publicacion, tipo="venta", valor=10, moneda="EUR")
    return ComisionFactory(evento=venta, socio=d.socio)


def test_comision_aprobada_avisa_una_vez_al_dia(socio, confirmado):
    primera, segunda = _pendiente(socio), _pendiente(socio)
    confirmado(credito_aprobar, credito=primera)
    confirmado(credito_aprobar, credito=segunda)
    correos = CorreoSaliente.objects.filter(tipo=TipoCorreo.CREDITO_APROBADO)
    assert correos.count() == 1
    mensaje = mail.outbox[-1]
    assert mensaje.subject == "A commission of yours was approved"  # its language: English
    assert mensaje.to == [socio.socio.email]
    assert mensaje.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.match(
        r"<http://127\.0\.0\.1:8000/portal/correo/baja/[^>]+/>",
        mensaje.extra_headers["List-Unsubscribe"],
    )
    assert "estado=aprobada" in mensaje.body


def test_el_receptor_escribe_dentro_de_la_transaccion_del_cambio(socio):
    """Sent inside the change's transaction (as the money signals will be), the e-mail row is
    atomic with it: rolled back with it, kept with it."""
    comision = _pendiente(socio)
    with pytest.raises(RuntimeError), transaction.atomic():
        enviar_en_transaccion(signals.comision_aprobada, sender=Comision, credito_id=comision.pk)
        assert CorreoSaliente.objects.filter(tipo=TipoCorreo.CREDITO_APROBADO).exists()
        raise RuntimeError("the approval failed")
    assert not CorreoSaliente.objects.exists()
    with transaction.atomic():
        enviar_en_transaccion(signals.comision_aprobada, sender=Comision, credito_id=comision.pk)
    assert CorreoSaliente.objects.filter(tipo=TipoCorreo.CREDITO_APROBADO).count() == 1


def test_dado_de_baja_no_recibe_los_opcionales_pero_si_los_esenciales(socio, confirmado):
    preferencias_guardar(socio_id=socio.socio.pk, correo_creditos=False, correo_pagos=False)
    confirmado(credito_aprobar, credito=_pendiente(socio))
    pago = PagoFactory(socio=socio.socio)
    confirmado(signals.pago_enviado.send, sender=Pago, pago_id=pago.pk)
    asociacion = AsociacionFactory(socio=socio.socio, marca=socio.marca)
    confirmado(
        signals.contrato_publicado.send,
        sender=None,
        contrato_id="c-1",
        asociacion_id=asociacion.pk,
        version=2,
        por=None,
    )
    assert list(CorreoSaliente.objects.values_list("tipo", flat=True)) == [
        TipoCorreo.CONTRATO_PUBLICADO
    ]
    assert mail.outbox[-1].subject == f"New terms from {socio.marca.nombre}: please review them"


def test_pago_enviado_avisa_con_el_enlace_al_pago(socio, confirmado):
    pago = PagoFactory(socio=socio.socio)
    confirmado(signals.pago_enviado.send, sender=Pago, pago_id=pago.pk)
    confirmado(signals.pago_enviado.send, sender=Pago, pago_id=pago.pk)
    assert CorreoSaliente.objects.filter(tipo=TipoCorreo.PAGO_ENVIADO).count() == 1
    assert f"/portal/pagos/{pago.pk}/" in mail.outbox[-1].body


def test_baja_con_un_clic(socio):
    token = baja_firmar(socio_id=socio.socio.pk, tipo=TipoCorreo.PAGO_ENVIADO)
    ruta = reverse("portal:baja", args=[token])
    cliente = Client(enforce_csrf_checks=True)  # mail clients post without a CSRF token
    assert "Darse de baja" in cliente.get(ruta).content.decode()
    assert not PreferenciasSocio.objects.filter(socio=socio.socio, correo_pagos=False).exists()
    respuesta = cliente.post(ruta, {"List-Unsubscribe": "One-Click"})
    assert respuesta.status_code == 200
    preferencias = PreferenciasSocio.objects.get(socio=socio.socio)
    assert (preferencias.correo_pagos, preferencias.correo_creditos) == (False, True)


@pytest.mark.parametrize("token", ["nada", "x" * 300])
def test_baja_con_token_invalido_es_404(client, token):
    assert client.post(reverse("portal:baja", args=[token])).status_code == 404


def test_un_token_de_baja_no_sirve_para_correos_esenciales(socio, client):
    token = baja_firmar(socio_id=socio.socio.pk, tipo=TipoCorreo.INVITACION)
    assert client.post(reverse("portal:baja", args=[token])).status_code == 404


# --- Password reset ---------------------------------------------------------------------------


def test_restablecer_por_correo_pasa_por_la_bandeja(client, confirmado):
    d = socio_portal()
    respuesta = confirmado(client.post, reverse("portal:restablecer"), {"email": d.usuario.email})
    assert respuesta["Location"] == reverse("portal:restablecer_enviado")
    fila = CorreoSaliente.objects.get(tipo=TipoCorreo.CLAVE_RESTABLECER)
    assert fila.estado == EstadoCorreo.ENVIADO
    ruta = re.search(r"http://[^/]+(/portal/clave/nueva/\S+/)", mail.outbox[-1].body).group(1)
    destino = client.get(ruta, follow=True).redirect_chain[-1][0]
    clave = "Otra-clave-larga-2026"
    assert client.post(destino, {"new_password1": clave, "new_password2": clave}).status_code == 302
    entrada = Client().post(
        reverse("portal:entrar"), {"username": d.usuario.username, "password": clave}
    )
    assert entrada.status_code == 302


def test_restablecer_no_escribe_para_quien_no_es_socio(client, confirmado):
    staff = StaffFactory()
    respuesta = confirmado(client.post, reverse("portal:restablecer"), {"email": staff.email})
    assert respuesta.status_code == 302  # the same answer: nobody learns which e-mails exist
    assert not CorreoSaliente.objects.exists()
