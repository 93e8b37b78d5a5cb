"""The process fixtures work: a real server on the test database, a real worker, a Redis."""

from __future__ import annotations

import json
import urllib.request

import pytest
import redis
from django.conf import settings
from django.test import Client

from eventos_medios.tests.factories import StaffFactory
from tests.procesos import esperar

pytestmark = pytest.mark.integration


def _get(url: str, cookies: dict[str, str] | None = None) -> tuple[int, str]:
    peticion = urllib.request.Request(url)
    if cookies:
        peticion.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))

    class SinRedirecciones(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    abridor = urllib.request.build_opener(SinRedirecciones)
    try:
        with abridor.open(peticion, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_esperar_devuelve_el_valor_y_agota_el_plazo():
    llamadas = iter([0, None, "listo"])
    assert esperar(lambda: next(llamadas), timeout=5, intervalo=0.001) == "listo"
    with pytest.raises(TimeoutError, match="nunca"):
        esperar(lambda: False, timeout=0.05, intervalo=0.01, mensaje="nunca")


def test_servidor_vivo_responde_health(servidor_vivo):
    estado, cuerpo = _get(f"{servidor_vivo.url}/health")
    assert estado == 200
    assert json.loads(cuerpo) == {"status": "ok", "database": "ok"}


def test_servidor_vivo_usa_la_base_de_datos_del_test(servidor_vivo):
    # A session created here (committed: transactional_db) is honoured by the server process.
    cliente = Client()
    cliente.force_login(StaffFactory())
    cookie = {settings.SESSION_COOKIE_NAME: cliente.cookies[settings.SESSION_COOKIE_NAME].value}

    assert _get(f"{servidor_vivo.url}/admin/", cookie)[0] == 200
    assert _get(f"{servidor_vivo.url}/admin/")[0] == 302  # anonymous → login page


def test_worker_celery_ejecuta_una_tarea_del_broker(worker_celery):
    assert worker_celery.ping()
    tarea_id = worker_celery.enviar("celery.accumulate", args=(1,))
    linea = worker_celery.esperar_tarea(tarea_id)
    assert "succeeded" in linea


def test_worker_celery_muere_y_vuelve(worker_celery):
    worker_celery.matar()
    assert not worker_celery.vivo

    worker_celery.arrancar()
    assert worker_celery.vivo and worker_celery.ping()
    tarea_id = worker_celery.enviar("celery.accumulate", args=(1,))
    assert "succeeded" in worker_celery.esperar_tarea(tarea_id)


def test_redis_desechable_para_y_arranca_en_el_mismo_puerto(redis_desechable):
    cliente = redis.Redis.from_url(redis_desechable.url, socket_timeout=1)
    assert cliente.set("k", "v")

    redis_desechable.parar()
    assert not redis_desechable.responde()
    with pytest.raises(redis.ConnectionError):
        cliente.ping()

    redis_desechable.arrancar()
    assert cliente.ping()
    assert cliente.get("k") is None  # nothing persisted
    cliente.close()


def test_servidor_y_worker_usan_el_redis_desechable(redis_desechable, servidor_vivo, worker_celery):
    assert worker_celery.entorno["REDIS_URL"] == redis_desechable.url
    assert servidor_vivo.entorno["REDIS_URL"] == redis_desechable.url
    tarea_id = worker_celery.enviar("celery.accumulate", args=(1,))
    assert "succeeded" in worker_celery.esperar_tarea(tarea_id)
