"""Admin of the tracking app: pages load for staff, writes go through the services, the
Evento changelist never COUNT(*)s the whole table, non-staff are sent to the login page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from eventos_medios.admin import PaginadorEstimado
from eventos_medios.models import Evento, Marca, MedioMarketing, Publicacion, Socio
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

pytestmark = pytest.mark.django_db

# A COUNT(*) straight over the event table (no LIMIT subquery): what must never run per page.
CONTEO_COMPLETO = re.compile(r'SELECT COUNT\(\*\)(?: AS "__count")? FROM "eventos_medios_evento"')


@pytest.fixture(autouse=True)
def _hash_rapido(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client_staff(client, staff):
    client.force_login(staff)
    return client


def _url(modelo: str, vista: str, *args) -> str:
    return reverse(f"admin:eventos_medios_{modelo}_{vista}", args=args)


def _crear_eventos(n: int, publicacion: Publicacion) -> None:
    ahora = timezone.now()
    Evento.objects.bulk_create(
        [
            Evento(
                tipo="click" if i % 10 else "venta",
                ocurrido_en=ahora - timedelta(seconds=i),
                marca_id=publicacion.marca_id,
                publicacion=publicacion,
                socio_id=publicacion.medio.socio_id,
                visitante_id=f"v{i}",
                valor=None if i % 10 else 10,
                moneda="" if i % 10 else "EUR",
                referencia_externa="" if i % 10 else f"PED-{i}",
            )
            for i in range(n)
        ],
        batch_size=1000,
    )


# --- Pages load -----------------------------------------------------------------------------


def test_paginas_cargan_para_staff(admin_client_staff):
    pub = PublicacionFactory()
    evento = EventoFactory(publicacion=pub)
    for modelo, obj in [
        ("socio", pub.medio.socio),
        ("marca", pub.marca),
        ("mediomarketing", pub.medio),
        ("publicacion", pub),
    ]:
        assert admin_client_staff.get(_url(modelo, "changelist")).status_code == 200, modelo
        assert admin_client_staff.get(_url(modelo, "add")).status_code == 200, modelo
        assert admin_client_staff.get(_url(modelo, "change", obj.pk)).status_code == 200, modelo
    assert admin_client_staff.get(_url("evento", "changelist")).status_code == 200
    detalle = admin_client_staff.get(_url("evento", "change", evento.pk))
    assert detalle.status_code == 200
    assert b'name="_save"' not in detalle.content  # read-only: nothing to submit


def test_no_staff_redirigido_al_login(client, socio):
    client.force_login(socio.usuario)
    for modelo in ("socio", "marca", "mediomarketing", "publicacion", "evento"):
        resp = client.get(_url(modelo, "changelist"))
        assert resp.status_code == 302
        assert resp["Location"].startswith(reverse("admin:login"))


def test_anonimo_redirigido_al_login(client):
    resp = client.get(_url("evento", "changelist"))
    assert resp.status_code == 302 and resp["Location"].startswith(reverse("admin:login"))


def test_evento_es_solo_lectura(admin_client_staff):
    evento = EventoFactory()
    assert admin_client_staff.get(_url("evento", "add")).status_code == 403
    resp = admin_client_staff.post(_url("evento", "change", evento.pk), {"tipo": "venta"})
    assert resp.status_code == 403
    assert (
        admin_client_staff.post(_url("evento", "delete", evento.pk), {"post": "yes"}).status_code
        == 403
    )
    assert Evento.objects.get(pk=evento.pk).tipo == "click"


def test_publicacion_muestra_enlace_absoluto(admin_client_staff, settings):
    settings.PUBLIC_BASE_URL = ""
    pub = PublicacionFactory()
    esperado = f"http://testserver/t/{pub.codigo}"
    assert (
        esperado in admin_client_staff.get(_url("publicacion", "change", pub.pk)).content.decode()
    )
    assert esperado in admin_client_staff.get(_url("publicacion", "changelist")).content.decode()
    assert (
        esperado
        in admin_client_staff.get(_url("mediomarketing", "change", pub.medio_id)).content.decode()
    )
    settings.PUBLIC_BASE_URL = "https://go.example.com"
    assert (
        f"https://go.example.com/t/{pub.codigo}"
        in admin_client_staff.get(_url("publicacion", "change", pub.pk)).content.decode()
    )


# --- Evento changelist at scale -------------------------------------------------------------


def test_changelist_eventos_sin_count_completo(admin_client_staff):
    pub = PublicacionFactory()
    _crear_eventos(3000, pub)
    for query in (
        "",
        "?tipo=venta",
        "?estado_atribucion=pendiente",
        f"?marca__id__exact={pub.marca_id}",
        "?ocurrido_en__gte=2000-01-01",
        "?q=v42",
        "?p=3",
    ):
        with CaptureQueriesContext(connection) as consultas:
            resp = admin_client_staff.get(_url("evento", "changelist") + query)
        assert resp.status_code == 200, query
        completos = [q["sql"] for q in consultas if CONTEO_COMPLETO.search(q["sql"])]
        assert completos == [], (query, completos)
        # A handful of queries per page, whatever the number of rows (no N+1 on FKs).
        assert len(consultas) <= 12, (query, [q["sql"] for q in consultas])


def test_busqueda_exacta_por_visitante_y_referencia(admin_client_staff):
    pub = PublicacionFactory()
    _crear_eventos(30, pub)
    resp = admin_client_staff.get(_url("evento", "changelist") + "?q=v7")
    eventos = list(resp.context["cl"].result_list)
    assert [e.visitante_id for e in eventos] == ["v7"]  # exact: not v70…
    resp = admin_client_staff.get(_url("evento", "changelist") + "?q=PED-20")
    assert [e.referencia_externa for e in resp.context["cl"].result_list] == ["PED-20"]
    evento = Evento.objects.first()
    resp = admin_client_staff.get(_url("evento", "changelist") + f"?q={evento.id}")
    assert [e.id for e in resp.context["cl"].result_list] == [evento.id]


def test_paginador_estimado_acota_el_conteo(monkeypatch):
    pub = PublicacionFactory()
    _crear_eventos(120, pub)
    monkeypatch.setattr(PaginadorEstimado, "limite", 50)
    qs = Evento.objects.filter(tipo="click")
    with CaptureQueriesContext(connection) as consultas:
        assert PaginadorEstimado(qs, 20).count == 50
    assert not any(CONTEO_COMPLETO.search(q["sql"]) for q in consultas)
    assert PaginadorEstimado(Evento.objects.filter(tipo="venta"), 20).count == 12


@pytest.mark.postgres  # the pg_class estimate
def test_paginador_estimado_usa_pg_class_sin_filtros(monkeypatch):
    pub = PublicacionFactory()
    _crear_eventos(300, pub)
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "eventos_medios_evento"')
    monkeypatch.setattr(PaginadorEstimado, "limite", 100)
    with CaptureQueriesContext(connection) as consultas:
        estimado = PaginadorEstimado(Evento.objects.all(), 50).count
    assert estimado >= 100
    assert any("pg_class" in q["sql"] for q in consultas)
    assert not any("COUNT(" in q["sql"] for q in consultas)


# --- Writes through the services ------------------------------------------------------------


def test_alta_de_socio_por_el_admin(admin_client_staff):
    resp = admin_client_staff.post(
        _url("socio", "add"),
        {"nombre": "Desde admin", "tipo": "embajador", "email": "a@example.com", "activo": "on"},
    )
    assert resp.status_code == 302, resp.content
    socio = Socio.objects.get(nombre="Desde admin")
    assert socio.tipo == "embajador" and len(socio.codigo_referido) == 8
    assert (
        resp["Location"].endswith(_url("socio", "changelist")) or str(socio.pk) in resp["Location"]
    )


def test_alta_de_marca_con_usuarios(admin_client_staff):
    usuario = UsuarioFactory()
    resp = admin_client_staff.post(
        _url("marca", "add"),
        {
            "nombre": "Marca admin",
            "sitio_web": "https://m.example.com",
            "activo": "on",
            "modelo_atribucion": "lineal",
            "ventana_atribucion_dias": "14",
            "usuarios": str(usuario.pk),
        },
    )
    assert resp.status_code == 302, resp.content
    marca = Marca.objects.get(nombre="Marca admin")
    assert (marca.modelo_atribucion, marca.ventana_atribucion_dias) == ("lineal", 14)
    assert list(marca.usuarios.all()) == [usuario]


def test_marca_ventana_fuera_de_rango_no_guarda(admin_client_staff):
    resp = admin_client_staff.post(
        _url("marca", "add"),
        {"nombre": "Mala", "modelo_atribucion": "lineal", "ventana_atribucion_dias": "400"},
    )
    assert resp.status_code == 200  # form shown again with the error
    assert not Marca.objects.filter(nombre="Mala").exists()


def _inline(prefijo: str, filas: list[dict], iniciales: int = 0) -> dict:
    datos = {
        f"{prefijo}-TOTAL_FORMS": str(len(filas)),
        f"{prefijo}-INITIAL_FORMS": str(iniciales),
        f"{prefijo}-MIN_NUM_FORMS": "0",
        f"{prefijo}-MAX_NUM_FORMS": "1000",
    }
    for i, fila in enumerate(filas):
        datos.update({f"{prefijo}-{i}-{k}": v for k, v in fila.items()})
    return datos


def test_alta_de_medio_con_publicacion_inline(admin_client_staff):
    socio, marca = SocioFactory(), MarcaFactory()
    datos = {
        "socio": str(socio.pk),
        "plataforma": "youtube",
        "nombre": "Canal",
        "url": "https://youtube.com/c/canal",
        "activo": "on",
        **_inline(
            "publicaciones",
            [
                {
                    "tipo": "video",
                    "marca": str(marca.pk),
                    "titulo": "Review",
                    "url": "",
                    "url_destino": "https://tienda.example.com/x",
                    "publicada_en_0": "",
                    "publicada_en_1": "",
                }
            ],
        ),
    }
    resp = admin_client_staff.post(_url("mediomarketing", "add"), datos)
    assert resp.status_code == 302, resp.context["errors"] if resp.context else resp.content
    medio = MedioMarketing.objects.get(nombre="Canal")
    pub = medio.publicaciones.get()
    assert pub.marca == marca and pub.url_destino == "https://tienda.example.com/x"
    assert len(pub.codigo) == 10


def test_inline_con_url_destino_javascript_no_guarda_nada(admin_client_staff):
    socio, marca = SocioFactory(), MarcaFactory()
    datos = {
        "socio": str(socio.pk),
        "plataforma": "blog",
        "nombre": "Blog malo",
        "activo": "on",
        **_inline(
            "publicaciones",
            [
                {
                    "tipo": "articulo",
                    "marca": str(marca.pk),
                    "url_destino": "javascript:alert(1)",
                    "publicada_en_0": "",
                    "publicada_en_1": "",
                }
            ],
        ),
    }
    resp = admin_client_staff.post(_url("mediomarketing", "add"), datos)
    assert resp.status_code == 200
    assert not MedioMarketing.objects.filter(nombre="Blog malo").exists()
    assert not Publicacion.objects.exists()


def test_cambio_de_publicacion_por_el_admin(admin_client_staff):
    pub = PublicacionFactory()
    resp = admin_client_staff.post(
        _url("publicacion", "change", pub.pk),
        {
            "tipo": "banner",
            "titulo": "Nuevo",
            "url": "",
            "url_destino": "https://tienda.example.com/nueva",
            "publicada_en_0": "",
            "publicada_en_1": "",
        },
    )
    assert resp.status_code == 302, resp.content
    pub.refresh_from_db()
    assert (pub.tipo, pub.titulo, pub.url_destino) == (
        "banner",
        "Nuevo",
        "https://tienda.example.com/nueva",
    )


def test_alta_de_publicacion_por_el_admin(admin_client_staff):
    medio, marca = MedioMarketingFactory(), MarcaFactory()
    resp = admin_client_staff.post(
        _url("publicacion", "add"),
        {
            "medio": str(medio.pk),
            "marca": str(marca.pk),
            "tipo": "post",
            "titulo": "Admin",
            "url": "",
            "url_destino": "https://tienda.example.com/p",
            "publicada_en_0": "",
            "publicada_en_1": "",
        },
    )
    assert resp.status_code == 302, resp.content
    pub = Publicacion.objects.get(titulo="Admin")
    assert pub.medio == medio and pub.marca == marca
    assert str(uuid.UUID(str(pub.pk))) in resp["Location"] or resp["Location"].endswith(
        _url("publicacion", "changelist")
    )


def test_medio_legado_sin_socio_no_acepta_publicaciones_hasta_tener_uno(admin_client_staff):
    medio = MedioMarketing.objects.create(plataforma="blog", nombre="Legado")
    marca = MarcaFactory()
    fila = {
        "tipo": "post",
        "marca": str(marca.pk),
        "url_destino": "https://tienda.example.com/x",
        "publicada_en_0": "",
        "publicada_en_1": "",
    }
    datos = {"plataforma": "blog", "nombre": "Legado", "activo": "on", "socio": ""}
    resp = admin_client_staff.post(
        _url("mediomarketing", "change", medio.pk), {**datos, **_inline("publicaciones", [fila])}
    )
    assert resp.status_code == 200  # shown again with the error, nothing written
    assert not Publicacion.objects.exists()
    socio = SocioFactory()
    resp = admin_client_staff.post(
        _url("mediomarketing", "change", medio.pk),
        {**datos, "socio": str(socio.pk), **_inline("publicaciones", [fila])},
    )
    assert resp.status_code == 302
    medio.refresh_from_db()
    assert medio.socio == socio and medio.publicaciones.count() == 1
    # Once set, the socio is read-only in the admin.
    pagina = admin_client_staff.get(_url("mediomarketing", "change", medio.pk)).content.decode()
    assert 'name="socio"' not in pagina


def test_publicacion_admin_rechaza_medio_sin_socio(admin_client_staff):
    medio = MedioMarketing.objects.create(plataforma="blog")
    resp = admin_client_staff.post(
        _url("publicacion", "add"),
        {
            "medio": str(medio.pk),
            "marca": str(MarcaFactory().pk),
            "tipo": "post",
            "url_destino": "https://tienda.example.com/p",
            "publicada_en_0": "",
            "publicada_en_1": "",
        },
    )
    assert resp.status_code == 200
    assert "medio" in resp.context["adminform"].form.errors
    assert not Publicacion.objects.exists()


def test_accion_rotar_credenciales(admin_client_staff):
    from eventos_medios.models import TokenApi

    socio, marca = SocioFactory(usuario=None), MarcaFactory()
    resp = admin_client_staff.post(
        _url("socio", "changelist"),
        {"action": "rotar_credenciales", "_selected_action": [str(socio.pk)]},
        follow=True,
    )
    socio.refresh_from_db()
    token = TokenApi.objects.get(usuario=socio.usuario)
    clave = re.search(r"new token (ap_\S+) ", resp.content.decode()).group(1)
    assert TokenApi.hash_de(clave) == token.hash  # shown once; only the hash is stored
    admin_client_staff.post(
        _url("marca", "changelist"),
        {"action": "rotar_credenciales", "_selected_action": [str(marca.pk)]},
    )
    assert TokenApi.objects.filter(usuario__in=marca.usuarios.all()).count() == 1
