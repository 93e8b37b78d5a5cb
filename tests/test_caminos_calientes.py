"""Hot-path shortcuts keep their guarantees: the token cache (user + Alcance) is dropped when
what it holds changes, the per-process cache of known marcas never lets an event point at a
deleted marca, and the per-process attribution debounce never leaves an event uncovered."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comision_recompensa.atribucion import tasks as tareas
from conftest import cliente_para
from eventos_medios.models import Evento, Marca
from eventos_medios.services import ingesta
from eventos_medios.tests.factories import MarcaFactory, SocioFactory, UsuarioFactory


def _evento(marca: Marca | None = None) -> dict[str, object]:
    datos: dict[str, object] = {"id": str(uuid.uuid4()), "tipo": "conversion"}
    if marca is not None:
        datos["marca"] = str(marca.id)
    return datos


@pytest.mark.django_db
def test_token_cacheado_no_consulta_usuario_ni_alcance(marca, usuario_marca):
    cliente = cliente_para(usuario_marca)
    assert cliente.post("/api/v1/eventos/", _evento(marca), format="json").status_code == 201
    with CaptureQueriesContext(connection) as consultas:
        resp = cliente.post("/api/v1/eventos/", _evento(marca), format="json")
    assert resp.status_code == 201
    sql = " ".join(q["sql"] for q in consultas.captured_queries)
    # Only the event's INSERT: no token, user, Marca nor Socio lookups.
    assert "auth_user" not in sql and "tokenapi" not in sql
    assert "eventos_medios_marca" not in sql and "eventos_medios_socio" not in sql
    assert "INSERT INTO" in sql


@pytest.mark.django_db
def test_usuario_desactivado_deja_de_autenticar_al_momento(marca, usuario_marca):
    cliente = cliente_para(usuario_marca)
    assert cliente.post("/api/v1/eventos/", _evento(marca), format="json").status_code == 201
    usuario_marca.is_active = False
    usuario_marca.save()
    assert cliente.post("/api/v1/eventos/", _evento(marca), format="json").status_code == 401


@pytest.mark.django_db
def test_quitar_usuario_de_la_marca_retira_el_permiso_al_momento(marca, usuario_marca):
    cliente = cliente_para(usuario_marca)
    assert cliente.post("/api/v1/eventos/", _evento(marca), format="json").status_code == 201
    marca.usuarios.remove(usuario_marca)
    assert cliente.post("/api/v1/eventos/", _evento(marca), format="json").status_code == 403

    # Reverse side and clear() too.
    otra = MarcaFactory()
    usuario_marca.marcas.add(otra)
    assert cliente.post("/api/v1/eventos/", _evento(otra), format="json").status_code == 201
    otra.usuarios.clear()
    assert cliente.post("/api/v1/eventos/", _evento(otra), format="json").status_code == 403


@pytest.mark.django_db
def test_cambiar_usuario_del_socio_cambia_su_alcance_al_momento():
    usuario = UsuarioFactory()
    socio = SocioFactory(usuario=usuario)
    cliente = cliente_para(usuario)
    resp = cliente.get(f"/api/v1/socios/{socio.id}/")
    assert resp.status_code == 200
    socio.usuario = UsuarioFactory()
    socio.save()
    assert cliente.get(f"/api/v1/socios/{socio.id}/").status_code == 404


@pytest.mark.django_db
def test_token_borrado_deja_de_autenticar(staff, marca):
    cliente = cliente_para(staff)
    assert cliente.post("/api/v1/eventos/", _evento(marca), format="json").status_code == 201
    staff.token_api.delete()
    assert cliente.post("/api/v1/eventos/", _evento(marca), format="json").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_marca_borrada_tras_cachearse_es_un_400(staff):
    marca = MarcaFactory()
    cliente = cliente_para(staff)
    primero = _evento(marca)
    assert cliente.post("/api/v1/eventos/", primero, format="json").status_code == 201
    Evento.objects.filter(marca=marca).delete()
    marca.delete()  # no events nor publicaciones left: PROTECT allows it
    resp = cliente.post("/api/v1/eventos/", _evento(marca), format="json")
    assert resp.status_code == 400
    assert "marca" in resp.json()["errors"]
    assert not Evento.objects.filter(marca_id=marca.id).exists()
    ingesta.marcas_conocidas_olvidar()


def test_programar_atribucion_publica_una_vez_por_ventana_y_con_retraso(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(tareas, "_programado_hasta", 0.0)
    reloj = [1000.0]
    monkeypatch.setattr(tareas.time, "monotonic", lambda: reloj[0])
    publicadas: list[dict[str, object]] = []
    monkeypatch.setattr(
        tareas.atribuir_pendientes, "apply_async", lambda *a, **k: publicadas.append(k)
    )
    tareas.programar_atribucion(evento_ids=["a"])
    reloj[0] += tareas.VENTANA_PROGRAMAR_SEGUNDOS / 2
    tareas.programar_atribucion(evento_ids=["b"])
    # One drain for both, and it cannot start before the window (and event b) is over.
    assert publicadas == [{"countdown": tareas.VENTANA_PROGRAMAR_SEGUNDOS}]
    reloj[0] += tareas.VENTANA_PROGRAMAR_SEGUNDOS
    tareas.programar_atribucion(evento_ids=["c"])
    assert len(publicadas) == 2

    # Broker down: nothing raises, and the next event tries to publish again.
    def caido(*a: object, **k: object) -> None:
        raise ConnectionError("broker down")

    reloj[0] += tareas.VENTANA_PROGRAMAR_SEGUNDOS
    monkeypatch.setattr(tareas.atribuir_pendientes, "apply_async", caido)
    tareas.programar_atribucion(evento_ids=["d"])
    monkeypatch.setattr(
        tareas.atribuir_pendientes, "apply_async", lambda *a, **k: publicadas.append(k)
    )
    tareas.programar_atribucion(evento_ids=["e"])
    assert len(publicadas) == 3


def _matar_conexion_de_django() -> None:
    """Terminate this process's pooled PostgreSQL session from another session."""
    import psycopg

    pid = connection.connection.info.backend_pid
    parametros = connection.get_connection_params()
    with psycopg.connect(**parametros, autocommit=True) as otra:
        otra.execute("SELECT pg_terminate_backend(%s)", [pid])
    # What the next request's start does in a server (the test client skips it): keep the
    # pooled connection, due for a health check before its first query.
    connection.close_if_unusable_or_obsolete()


@pytest.mark.postgres  # a server-side session to terminate
@pytest.mark.django_db(transaction=True)
def test_conexion_muerta_entre_peticiones_no_cuesta_un_503(settings, staff):
    """The hot paths skip Django's `SELECT 1` health check: their INSERT is the check, retried
    once on a fresh connection, so a database restart between requests still loses nothing."""
    from eventos_medios.tests.factories import PublicacionFactory

    marca = MarcaFactory()
    pub = PublicacionFactory(marca=marca, url_destino="https://tienda.example.com/p")
    cliente = cliente_para(staff)
    assert cliente.post("/api/v1/eventos/", _evento(marca), format="json").status_code == 201
    _matar_conexion_de_django()
    segundo = _evento(marca)
    assert cliente.post("/api/v1/eventos/", segundo, format="json").status_code == 201
    assert Evento.objects.filter(id=segundo["id"]).count() == 1

    navegador = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"}
    assert cliente.get(f"/t/{pub.codigo}", **navegador).status_code == 302
    _matar_conexion_de_django()
    assert cliente.get(f"/t/{pub.codigo}", REMOTE_ADDR="10.0.0.9", **navegador).status_code == 302
    assert Evento.objects.filter(publicacion=pub, tipo="click").count() == 2
    ingesta.marcas_conocidas_olvidar()
