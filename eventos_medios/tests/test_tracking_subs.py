"""`/t/<codigo>?sub1=…&sub5=…`: the partner's labels are kept on the click (its metadata), for
its postbacks; bounded, printable, and never a way to change the redirect."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from eventos_medios.models import Evento
from eventos_medios.services.tracking import subs_limpiar
from eventos_medios.tests.factories import PublicacionFactory
from eventos_medios.tests.test_tracking import NAVEGADOR, _ip

pytestmark = pytest.mark.django_db


def _click(resp) -> Evento:
    return Evento.objects.get(
        id=uuid.UUID(parse_qs(urlsplit(resp["Location"]).query)["apc_click"][0])
    )


def test_guarda_sub1_a_sub5_en_la_metadata_del_click():
    pub = PublicacionFactory(url_destino="https://tienda.example.com/o")
    cliente = Client(REMOTE_ADDR=_ip(), HTTP_USER_AGENT=NAVEGADOR)
    with CaptureQueriesContext(connection) as consultas:
        resp = cliente.get(f"/t/{pub.codigo}?sub1=camp-1&sub3={quote('a b')}&sub6=no&x=y")
    assert resp.status_code == 302
    assert urlsplit(resp["Location"]).netloc == "tienda.example.com"
    assert _click(resp).metadata == {"sub1": "camp-1", "sub3": "a b"}
    inserts = [
        q for q in consultas.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")
    ]
    assert len(inserts) == 1  # still one INSERT per click


def test_sin_subs_la_metadata_queda_vacia():
    pub = PublicacionFactory(url_destino="https://tienda.example.com/o")
    resp = Client(REMOTE_ADDR=_ip(), HTTP_USER_AGENT=NAVEGADOR).get(f"/t/{pub.codigo}")
    assert _click(resp).metadata == {}


def test_subs_se_acotan_y_se_sanean():
    assert subs_limpiar({"sub1": "x" * 500}) == {"sub1": "x" * 100}
    assert subs_limpiar({"sub2": "tab\there", "sub4": "ñ", "sub5": "<ok>"}) == {"sub5": "<ok>"}
    assert subs_limpiar({}) == {}


def test_subs_y_pista_de_visitante_van_juntas_en_la_metadata():
    pub = PublicacionFactory(url_destino="https://tienda.example.com/o")
    cliente = Client(REMOTE_ADDR=_ip(), HTTP_USER_AGENT=NAVEGADOR)
    resp = cliente.get(f"/t/{pub.codigo}?sub1=camp&apc_vid=v-9")
    click = _click(resp)
    assert click.metadata == {"sub1": "camp", "apc_vid": "v-9"}
    assert click.visitante_id == ""  # the hint never becomes the click's visitor
