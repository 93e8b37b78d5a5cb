"""The two ways of sending a domain signal (`alpespartners.senales`, PRODUCT.md §9)."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from django.dispatch import Signal

from alpespartners.senales import (
    enviar_al_confirmar,
    enviar_en_transaccion,
    receptor_al_confirmar,
)
from eventos_medios.models import Marca
from eventos_medios.tests.factories import MarcaFactory, PublicacionFactory

NAVEGADOR = "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"

pytestmark = pytest.mark.django_db


class _Roto(Exception):
    pass


@pytest.fixture
def senal():
    return Signal()


def test_en_la_transaccion_un_receptor_que_falla_deshace_el_cambio(senal):
    def auditar(sender, marca_id, **kwargs):
        raise _Roto("the audit row could not be written")

    senal.connect(auditar, weak=False)
    with pytest.raises(_Roto), transaction.atomic():
        marca = MarcaFactory()
        enviar_en_transaccion(senal, sender=Marca, marca_id=marca.pk)
    assert not Marca.objects.exists()


def test_en_la_transaccion_los_receptores_escriben_con_el_cambio(senal):
    def escribir(sender, marca_id, **kwargs):
        Marca.objects.filter(pk=marca_id).update(nombre="auditada")

    senal.connect(escribir, weak=False)
    with transaction.atomic():
        marca = MarcaFactory(nombre="nueva")
        enviar_en_transaccion(senal, sender=Marca, marca_id=marca.pk)
        assert Marca.objects.get(pk=marca.pk).nombre == "auditada"


@pytest.mark.django_db(transaction=True)
def test_en_la_transaccion_exige_una_transaccion(senal):
    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        enviar_en_transaccion(senal, sender=Marca)


def test_al_confirmar_espera_al_commit_y_aisla_al_receptor_que_falla(
    senal, caplog, django_capture_on_commit_callbacks
):
    recibidos: list[object] = []

    def roto(sender, **kwargs):
        raise _Roto("cache down")

    def sano(sender, valor, **kwargs):
        recibidos.append(valor)

    senal.connect(roto, weak=False)
    senal.connect(sano, weak=False)
    caplog.set_level(logging.ERROR, logger="alpespartners.senales")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enviar_al_confirmar(senal, sender=Marca, valor=1)
        assert recibidos == []  # nothing before the commit
    assert recibidos == [1]
    assert "failed; the change stands" in caplog.text and "_Roto" in caplog.text


def test_al_confirmar_no_envia_si_la_transaccion_se_deshace(
    senal, django_capture_on_commit_callbacks
):
    recibidos: list[object] = []
    senal.connect(lambda sender, **kw: recibidos.append(sender), weak=False)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(_Roto),
        transaction.atomic(),
    ):
        enviar_al_confirmar(senal, sender=Marca)
        raise _Roto
    assert recibidos == []


def test_un_receptor_de_eventos_registrados_roto_no_convierte_un_click_en_500(
    client, django_capture_on_commit_callbacks
):
    """The stored click is answered with its redirect even if a receiver explodes."""
    from eventos_medios.signals import eventos_registrados

    llamadas: list[object] = []

    def roto(sender, evento_ids, **kwargs):
        llamadas.append(evento_ids)
        raise _Roto("broker down")

    eventos_registrados.connect(roto, weak=False, dispatch_uid="test.roto")
    try:
        pub = PublicacionFactory()
        with django_capture_on_commit_callbacks(execute=True):
            resp = client.get(f"/t/{pub.codigo}", HTTP_USER_AGENT=NAVEGADOR, REMOTE_ADDR="10.9.8.7")
    finally:
        eventos_registrados.disconnect(dispatch_uid="test.roto")
    assert resp.status_code == 302
    assert len(llamadas) == 1


def test_receptor_al_confirmar_corre_tras_el_commit_y_aislado(
    senal, caplog, django_capture_on_commit_callbacks
):
    recibidos: list[object] = []

    @receptor_al_confirmar
    def roto(sender, **kwargs):
        raise _Roto("broker down")

    @receptor_al_confirmar
    def sano(sender, valor, **kwargs):
        recibidos.append(valor)

    senal.connect(roto, weak=False)
    senal.connect(sano, weak=False)
    caplog.set_level(logging.ERROR, logger="alpespartners.senales")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enviar_en_transaccion(senal, sender=Marca, valor=7)
        assert recibidos == []  # deferred to the commit
    assert recibidos == [7]
    assert "run after commit" in caplog.text and "_Roto" in caplog.text


def test_receptor_al_confirmar_no_corre_si_se_deshace(senal, django_capture_on_commit_callbacks):
    recibidos: list[object] = []

    @receptor_al_confirmar
    def sano(sender, valor, **kwargs):
        recibidos.append(valor)

    senal.connect(sano, weak=False)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(_Roto),
        transaction.atomic(),
    ):
        enviar_en_transaccion(senal, sender=Marca, valor=7)
        raise _Roto("the change failed")
    assert recibidos == []
