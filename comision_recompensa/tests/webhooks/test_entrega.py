"""Delivery of the outbox to a real local HTTP receiver (in-process): body, headers and
signature; retries with backoff and the dead letter; no head-of-line blocking; replays keep
the key; rotation signs with both secrets; postbacks wait for the review."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from alpespartners.firmas import firma_valida
from comision_recompensa.models import EntregaWebhook, EstadoEntrega
from comision_recompensa.webhooks import entrega as e
from comision_recompensa.webhooks import services
from comision_recompensa.webhooks.desarrollo.receptor import ReceptorWebhooks
from comision_recompensa.webhooks.services import NuevaEntrega

pytestmark = pytest.mark.django_db


@pytest.fixture
def receptor():
    with ReceptorWebhooks(segundos_colgado=5) as r:
        yield r


@pytest.fixture
def endpoint(mundo, receptor, settings):
    settings.WEBHOOKS_TIMEOUT_LECTURA_SEGUNDOS = 0.3
    ep = services.endpoint_crear(marca=mundo.marca_x, url=receptor.url, eventos=["*"])
    receptor.secretos = [ep.secreto]
    return ep


def _nueva(endpoint, n=1, tipo="comision.aprobada"):
    return services.entregas_registrar(
        nuevas=[
            NuevaEntrega(endpoint_id=endpoint.pk, tipo=tipo, datos={"id": f"c{i}", "monto": "1.00"})
            for i in range(n)
        ]
    )


def test_entrega_firmada_con_cuerpo_y_cabeceras(endpoint, receptor):
    (fila,) = _nueva(endpoint)
    assert e.entrega_enviar(entrega_id=fila.id).resultado == e.Resultado.ENTREGADA
    peticion = receptor.peticiones[-1]
    cab, cuerpo = peticion["cabeceras"], peticion["cuerpo"]
    assert json.loads(cuerpo) == {
        "id": str(fila.id),
        "tipo": "comision.aprobada",
        "creado_en": fila.creado_en.isoformat().replace("+00:00", "Z"),
        "secuencia": 1,
        "datos": {"id": "c0", "monto": "1.00"},
    }
    assert cab["idempotency-key"] == cab["x-alpes-entrega"] == str(fila.id)
    assert cab["content-type"] == "application/json"
    assert cab["user-agent"].startswith("AlpesPartners-Webhooks/")
    assert firma_valida(cab["x-alpes-firma"], cuerpo, [endpoint.secreto])
    fila.refresh_from_db()
    assert fila.estado == EstadoEntrega.ENTREGADA and fila.entregada_en
    assert fila.ultimo_estado_http == 200 and fila.intentos == 1
    assert fila.latencia_ms is not None and "repetida" in fila.respuesta


def test_fallo_reintenta_con_espera_creciente_y_luego_carta_muerta(endpoint, receptor, settings):
    settings.WEBHOOKS_BACKOFF_BASE_SEGUNDOS = 10
    settings.WEBHOOKS_VENTANA_REINTENTOS_SEGUNDOS = 24 * 3600
    receptor.cambiar_modo("fail")
    (fila,) = _nueva(endpoint)
    esperas = []
    for _ in range(3):
        intento = e.entrega_enviar(entrega_id=fila.id, forzar=True)
        assert intento.resultado == e.Resultado.REINTENTO
        esperas.append(intento.espera)
    assert 8 <= esperas[0] <= 10 and 16 <= esperas[1] <= 20 and 32 <= esperas[2] <= 40
    fila.refresh_from_db()
    assert fila.ultimo_estado_http == 500 and fila.ultimo_error == "HTTP 500"
    assert fila.proximo_intento_en > timezone.now()
    # Not due: the sweep and the task leave it alone.
    assert e.entrega_enviar(entrega_id=fila.id).resultado == e.Resultado.OMITIDA
    # The window is over: the next failure is the dead letter.
    EntregaWebhook.objects.filter(pk=fila.pk).update(
        ventana_desde=timezone.now() - dt.timedelta(hours=25)
    )
    assert e.entrega_enviar(entrega_id=fila.id, forzar=True).resultado == e.Resultado.FALLIDA
    fila.refresh_from_db()
    assert fila.estado == EstadoEntrega.FALLIDA and fila.intentos == 4


def test_timeout_y_conexion_rechazada_se_registran(endpoint, receptor, mundo):
    receptor.cambiar_modo("hang")
    (fila,) = _nueva(endpoint)
    assert e.entrega_enviar(entrega_id=fila.id).resultado == e.Resultado.REINTENTO
    fila.refresh_from_db()
    assert fila.ultimo_error.startswith("timeout") and fila.ultimo_estado_http is None
    receptor.cambiar_modo("ok")
    cerrado = services.endpoint_crear(
        marca=mundo.marca_x, url="http://127.0.0.1:9/x", eventos=["*"]
    )
    (otra,) = _nueva(cerrado)
    e.entrega_enviar(entrega_id=otra.id)
    otra.refresh_from_db()
    assert otra.ultimo_error == "connection refused or unreachable"


def test_una_entrega_que_falla_no_retiene_las_siguientes(endpoint, receptor, monkeypatch):
    """Delivery 1 keeps failing (the receiver refuses that key); 2 and 3 are delivered and the
    receiver sees the gap at 1 until the retry arrives."""
    primera, _segunda, _tercera = _nueva(endpoint, 3)
    original = receptor._aceptar

    def rechaza_la_primera(clave, cuerpo):
        if clave == str(primera.id):
            return 503, {"detail": "not now"}
        return original(clave, cuerpo)

    monkeypatch.setattr(receptor, "_aceptar", rechaza_la_primera)
    conteo = e.entregas_enviar_pendientes()
    assert conteo.por_resultado == {"reintento": 1, "entregada": 2}
    assert sorted(receptor.aceptadas.values()) == [2, 3]
    monkeypatch.setattr(receptor, "_aceptar", original)
    assert e.entrega_enviar(entrega_id=primera.id, forzar=True).resultado == "entregada"
    assert sorted(receptor.aceptadas.values()) == [1, 2, 3]


def test_reenvio_es_la_misma_entrega(endpoint, receptor):
    (fila,) = _nueva(endpoint)
    e.entrega_enviar(entrega_id=fila.id)
    services.entrega_reenviar(entrega=fila)
    fila.refresh_from_db()
    assert fila.estado == EstadoEntrega.PENDIENTE and fila.reenvios == 1
    e.entrega_enviar(entrega_id=fila.id)
    claves = [p["cabeceras"]["idempotency-key"] for p in receptor.peticiones]
    cuerpos = [json.loads(p["cuerpo"]) for p in receptor.peticiones]
    assert claves == [str(fila.id)] * 2
    assert cuerpos[0] == cuerpos[1]  # same id, secuencia, creado_en, datos
    assert receptor.duplicados == 1 and len(receptor.aceptadas) == 1


def test_reenvio_por_rango(endpoint, receptor, settings):
    filas = _nueva(endpoint, 5)
    e.entregas_enviar_pendientes()
    assert services.entregas_reenviar(endpoint=endpoint, desde_secuencia=2, hasta_secuencia=4) == 3
    assert e.entregas_enviar_pendientes().por_resultado == {"entregada": 3}
    settings.WEBHOOKS_REENVIO_MAX = 2
    from alpespartners.errors import ErrorDominio

    with pytest.raises(ErrorDominio) as error:
        services.entregas_reenviar(endpoint=endpoint, desde_secuencia=1)
    assert error.value.campo == "hasta"
    assert len(filas) == 5


def test_rotacion_firma_con_los_dos_secretos_durante_24h(endpoint, receptor):
    viejo = endpoint.secreto
    nuevo = services.endpoint_rotar_secreto(endpoint=endpoint).secreto
    assert nuevo != viejo
    (fila,) = _nueva(endpoint)
    e.entrega_enviar(entrega_id=fila.id)
    cab, cuerpo = receptor.peticiones[-1]["cabeceras"], receptor.peticiones[-1]["cuerpo"]
    assert cab["x-alpes-firma"].count("sha256=") == 2
    assert firma_valida(cab["x-alpes-firma"], cuerpo, [viejo])
    assert firma_valida(cab["x-alpes-firma"], cuerpo, [nuevo])
    ep = type(endpoint).objects.get(pk=endpoint.pk)
    ep.secreto_anterior_expira_en = timezone.now() - dt.timedelta(seconds=1)
    ep.save()
    (otra,) = _nueva(endpoint)
    e.entrega_enviar(entrega_id=otra.id)
    cab, cuerpo = receptor.peticiones[-1]["cabeceras"], receptor.peticiones[-1]["cuerpo"]
    assert cab["x-alpes-firma"].count("sha256=") == 1
    assert not firma_valida(cab["x-alpes-firma"], cuerpo, [viejo])


def test_endpoint_inactivo_no_se_envia(endpoint, receptor):
    (fila,) = _nueva(endpoint)
    services.endpoint_actualizar(endpoint=endpoint, activo=False)
    assert e.entrega_enviar(entrega_id=fila.id).resultado == e.Resultado.OMITIDA
    assert receptor.recibidas == 0


def test_postback_get_a_la_url_expandida_y_revisa_el_credito(mundo, receptor):
    pb = services.endpoint_crear(
        socio=mundo.socio_a, clase="postback", url=receptor.url + "?m={monto}&e={evento_id}"
    )
    c = mundo.comision()
    from django.db import transaction

    from alpespartners.senales import enviar_en_transaccion
    from comision_recompensa import signals
    from comision_recompensa.models import Comision

    with transaction.atomic():
        enviar_en_transaccion(
            signals.creditos_creados, sender=Comision, clase="comision", credito_ids=[c.pk]
        )
    fila = EntregaWebhook.objects.get(endpoint=pb)
    assert e.entrega_enviar(entrega_id=fila.id).resultado == e.Resultado.ENTREGADA
    peticion = receptor.peticiones[-1]
    assert peticion["ruta"] == f"/webhooks?m=12.00&e={c.evento_id}"
    assert peticion["cabeceras"]["idempotency-key"] == str(fila.id)
    # A postback whose credit was reversed before it went out is cancelled, not sent.
    c2 = mundo.comision()
    with transaction.atomic():
        enviar_en_transaccion(
            signals.creditos_creados, sender=Comision, clase="comision", credito_ids=[c2.pk]
        )
    Comision.objects.filter(pk=c2.pk).update(estado="revertida")
    fila2 = EntregaWebhook.objects.get(endpoint=pb, credito_id=c2.pk)
    assert e.entrega_enviar(entrega_id=fila2.id).resultado == e.Resultado.CANCELADA
    assert receptor.recibidas == 1


def test_ssrf_en_la_entrega_con_rebinding(mundo, settings, monkeypatch):
    """Registered while the name resolved to a public address; at delivery it resolves to
    127.0.0.1: the delivery is refused and recorded, nothing is sent."""
    from comision_recompensa.webhooks import red

    settings.WEBHOOKS_PERMITIR_PRIVADAS = False
    respuestas = iter([["93.184.216.34"], ["127.0.0.1"]])
    monkeypatch.setattr(red, "resolver_host", lambda host, puerto: next(respuestas))
    ep = services.endpoint_crear(
        marca=mundo.marca_x, url="https://rebind.example.com/h", eventos=["*"]
    )
    (fila,) = _nueva(ep)
    assert e.entrega_enviar(entrega_id=fila.id).resultado == e.Resultado.REINTENTO
    fila.refresh_from_db()
    assert fila.ultimo_error.startswith("refused:") and "127.0.0.1" in fila.ultimo_error


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_dos_reclamos_a_la_vez_solo_uno_gana(mundo):
    """Two workers claim the same due delivery concurrently: exactly one sends it."""
    import threading

    from django.db import connection, transaction

    ep = services.endpoint_crear(marca=mundo.marca_x, url="http://127.0.0.1:9/x", eventos=["*"])
    (fila,) = _nueva(ep)  # (its fast path already ran after commit: due again now)
    EntregaWebhook.objects.filter(pk=fila.pk).update(
        proximo_intento_en=timezone.now() - dt.timedelta(seconds=1), intentos=0
    )
    ganadores = []
    barrera = threading.Barrier(2)

    def reclamar():
        try:
            barrera.wait(5)
            with transaction.atomic():
                if e._reclamar(fila.id, forzar=False):
                    ganadores.append(threading.current_thread().name)
        finally:
            connection.close()

    hilos = [threading.Thread(target=reclamar, name=f"w{i}") for i in range(2)]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join(10)
    assert len(ganadores) == 1
    assert EntregaWebhook.objects.get(pk=fila.pk).intentos == 1
