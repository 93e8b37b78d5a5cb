"""`Marca.slug`: the public address of its programme's application form, generated from the
nombre, unique, editable by staff."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from eventos_medios.models import Marca
from eventos_medios.services.catalogo import marca_actualizar, marca_crear
from eventos_medios.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_se_genera_del_nombre_y_es_unico():
    assert marca_crear(nombre="Alpes Outdoor").slug == "alpes-outdoor"
    assert marca_crear(nombre="Alpes  OUTDOOR!").slug == "alpes-outdoor-2"
    assert marca_crear(nombre="Ñandú Café").slug == "nandu-cafe"
    assert marca_crear(nombre="***").slug == "marca"
    with pytest.raises(IntegrityError):
        Marca.objects.create(nombre="Otra", slug="alpes-outdoor")


def test_el_staff_lo_cambia_y_vacio_se_regenera():
    marca = marca_crear(nombre="Alpes Outdoor")
    assert marca_actualizar(marca=marca, datos={"slug": "alpes"}).slug == "alpes"
    assert marca_actualizar(marca=marca, datos={"slug": "", "nombre": "Cumbres"}).slug == "cumbres"


def test_el_admin_crea_la_marca_con_su_slug():
    cliente = Client()
    cliente.force_login(StaffFactory())
    respuesta = cliente.post(
        reverse("admin:eventos_medios_marca_add"),
        {
            "nombre": "Tienda Sur",
            "slug": "",
            "sitio_web": "https://sur.example.com",
            "activo": "on",
            "modelo_atribucion": "ultimo_clic",
            "ventana_atribucion_dias": "30",
        },
    )
    assert respuesta.status_code == 302, respuesta.content.decode()[:2000]
    assert Marca.objects.get(nombre="Tienda Sur").slug == "tienda-sur"


def test_la_migracion_da_un_slug_unico_a_cada_marca_existente():
    for nombre in ("Alpes", "alpes", "Cumbres"):
        Marca.objects.create(nombre=nombre)
    migracion = importlib.import_module("eventos_medios.migrations.0007_marca_slug")
    migracion.poblar_slugs(apps, None)
    assert sorted(Marca.objects.values_list("slug", flat=True)) == ["alpes", "alpes-2", "cumbres"]
