"""Issue 10's hostile-input findings, each a test named after it (PRODUCT.md §8):

6. legacy endpoints mint money: DEBUG is off unless set; the seed's endpoints are open only in
   the embedded mode (DEBUG on and no DATABASE_URL) and obey the API's money rules;
7. 5xx from hostile input: deep JSON, tampered cursors, malformed ids → 4xx JSON;
8. unbounded work from one request: report ranges, event age, the daily rollup;
9. lenient money parsing: `valor` and `moneda` under one strict rule everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import threading
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from alpespartners.api.json_seguro import PROFUNDIDAD_MAXIMA, json_cargar, profundidad_excede
from alpespartners.dinero import DineroInvalido, dinero_parsear
from alpespartners.firmas import firmar
from comision_recompensa.models import Comision, DiaResumido, EndpointWebhook, Pago, ReglaPago
from comision_recompensa.reportes.resumen_diario import resumen_cerrojo, resumen_refrescar
from comision_recompensa.tests.factories import (
    AsociacionFactory,
    ComisionFactory,
    PagoFactory,
    RecompensaFactory,
)
from conftest import cliente_para
from eventos_medios.models import CODIGOS_MONEDA, Evento, TipoSocio
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

RAIZ = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def _anidado(niveles: int) -> bytes:
    return b"[" * niveles + b"]" * niveles


def _objeto_anidado(niveles: int) -> bytes:
    return b'{"a":' * niveles + b"1" + b"}" * niveles


# --- Finding 6: legacy endpoints mint money --------------------------------------------------


def _settings_en_subproceso(**entorno: str) -> dict[str, object]:
    codigo = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'DEBUG': s.DEBUG, 'EMBEBIDO': s.EMBEBIDO}))"
    )
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    r = subprocess.run(
        [sys.executable, "-c", codigo],
        cwd=RAIZ,
        env={**base, "DJANGO_SETTINGS_MODULE": "alpespartners.settings", **entorno},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_hallazgo_06_debug_apagado_salvo_que_se_pida():
    secretos = {"SECRET_KEY": "k" * 20 + uuid.uuid4().hex * 2, "IP_HASH_SALT": "sal"}
    # DEBUG unset, a real database: production mode, legacy endpoints closed.
    con_bd = _settings_en_subproceso(
        DATABASE_URL="postgres://alpes@127.0.0.1:5432/alpes", **secretos
    )
    assert con_bd == {"DEBUG": False, "EMBEBIDO": False}
    # DEBUG unset without a database: still off.
    assert _settings_en_subproceso(**secretos)["DEBUG"] is False
    # `make run` turns it on for the embedded mode (dev-only secrets then allowed).
    assert _settings_en_subproceso(DEBUG="true") == {"DEBUG": True, "EMBEBIDO": True}


COMISION_ENORME = {"monto_comision": {"valor": 999999999.99, "moneda": "EUR"}}


@pytest.mark.parametrize(
    ("debug", "embebido"),
    [(False, True), (False, False), (True, False)],
    ids=["debug-apagado", "debug-apagado-con-bd", "debug-con-bd"],
)
def test_hallazgo_06_legado_cerrado_fuera_del_modo_embebido(debug, embebido):
    evento = EventoFactory(tipo="venta")
    with override_settings(DEBUG=debug, EMBEBIDO=embebido):
        anonimo = APIClient()
        r = anonimo.post(
            "/prueba/comision-comando",
            {"id_evento": str(evento.pk), **COMISION_ENORME},
            format="json",
        )
        assert r.status_code == 401, r.content
        assert "error" in r.json()
        for ruta in ("/eventos/evento-comando", "/medios_marketing/medio-comando"):
            assert anonimo.post(ruta, {}, format="json").status_code == 401
        assert anonimo.get("/eventos/evento-query").status_code == 401
        # A partner's token does not open the commands either (staff only).
        socio = SocioFactory(usuario=UsuarioFactory())
        r = cliente_para(socio.usuario).post(
            "/prueba/comision-comando",
            {"id_evento": str(evento.pk), **COMISION_ENORME},
            format="json",
        )
        assert r.status_code == 403
    assert not Comision.objects.exists()


@override_settings(DEBUG=True, EMBEBIDO=True)
@pytest.mark.parametrize(
    "monto",
    [
        {"valor": "1_000"},
        {"valor": "١٢٣"},
        {"valor": "1e3"},
        {"valor": "NaN"},
        {"valor": "+5"},
        {"valor": " 5"},
        {"valor": "1.005"},
        {"valor": 5, "moneda": "XXX"},
        {"valor": 5, "moneda": "XAU"},
    ],
)
def test_hallazgo_06_legado_abierto_obedece_las_reglas_del_dinero(monto):
    socio = SocioFactory(tipo=TipoSocio.AFILIADO)
    evento = EventoFactory(tipo="venta", publicacion__medio__socio=socio, socio=socio)
    r = APIClient().post(
        "/prueba/comision-comando",
        {"id_evento": str(evento.pk), "monto_comision": monto},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "monto_comision" in r.json()["error"]
    assert not Comision.objects.exists()


@override_settings(DEBUG=True, EMBEBIDO=True)
def test_hallazgo_06_legado_abierto_rechaza_numeros_con_exponente_crudos():
    socio = SocioFactory(tipo=TipoSocio.AFILIADO)
    evento = EventoFactory(tipo="venta", publicacion__medio__socio=socio, socio=socio)
    cuerpo = '{"id_evento": "ID", "monto_comision": {"valor": 1e3}}'.replace("ID", str(evento.pk))
    r = APIClient().post("/prueba/comision-comando", cuerpo, content_type="application/json")
    assert r.status_code == 400 and "monto_comision" in r.json()["error"]
    cuerpo = cuerpo.replace("1e3", "1000")
    assert (
        APIClient()
        .post("/prueba/comision-comando", cuerpo, content_type="application/json")
        .status_code
        == 202
    )
    assert Comision.objects.get().monto == Decimal("1000.00")


# --- Finding 7: 5xx from hostile input --------------------------------------------------------


def test_hallazgo_07_profundidad_medida_sin_recursion():
    assert not profundidad_excede(_anidado(PROFUNDIDAD_MAXIMA))
    assert profundidad_excede(_anidado(PROFUNDIDAD_MAXIMA + 1))
    assert profundidad_excede(_anidado(50_000))
    assert profundidad_excede(b"[" * 50_000)  # unbalanced: still refused, never parsed
    # Brackets inside strings do not count; escaped quotes do not end a string.
    assert not profundidad_excede(json.dumps({"a": "[" * 1000 + '\\"' + "{" * 1000}).encode())
    assert json_cargar(_anidado(PROFUNDIDAD_MAXIMA)) is not None
    # Closers inside strings cannot hide 70 real levels behind a shallow-looking bracket count.
    escondido = b'["' + b"]" * 30 + b'",' + b"[" * 69 + b'"' + b"[" * 30 + b'"' + b"]" * 70
    assert _profundidad(json.loads(escondido)) == 70 and profundidad_excede(escondido)


def _profundidad(valor) -> int:
    if isinstance(valor, dict | list):
        hijos = valor.values() if isinstance(valor, dict) else valor
        return 1 + max((_profundidad(h) for h in hijos), default=0)
    return 0


def test_hallazgo_07_profundidad_exacta_con_corchetes_y_escapes_en_cadenas():
    """The byte-level measure agrees with the parsed depth around the limit, whatever the
    strings hold (brackets, escaped quotes, backslashes) and however the JSON is laid out."""
    azar = random.Random(7)

    def cadena() -> str:
        return azar.choice(["a]", "[b", "x", 'q"u\\"o', "{", "}}]]", "", "\\", "[{]}"])

    def generar(nivel: int):
        if nivel <= 0:
            return azar.choice([cadena(), 1, True, None])
        hijos = [generar(nivel - 1)]
        hijos += [generar(min(nivel - 1, azar.randint(0, 2))) for _ in range(azar.randint(0, 2))]
        azar.shuffle(hijos)
        return hijos if azar.random() < 0.5 else {f"k{i}{cadena()}": h for i, h in enumerate(hijos)}

    for _ in range(150):
        valor = generar(azar.choice([azar.randint(0, 8), azar.randint(60, 68)]))
        esperado = _profundidad(valor) > PROFUNDIDAD_MAXIMA
        for texto in (json.dumps(valor), json.dumps(valor, indent=1, ensure_ascii=False)):
            assert profundidad_excede(texto.encode()) == esperado


def _ids_reales() -> dict[str, str]:
    """One stored object per resource, so every view gets as far as reading its body."""
    socio = SocioFactory()
    publicacion = PublicacionFactory(medio__socio=socio)
    evento = EventoFactory(
        publicacion=publicacion, tipo="venta", valor=Decimal("10.00"), moneda="EUR"
    )
    return {
        "socios": str(socio.pk),
        "marcas": str(publicacion.marca_id),
        "medios": str(publicacion.medio_id),
        "publicaciones": str(publicacion.pk),
        "eventos": str(evento.pk),
        "asociaciones": str(AsociacionFactory(socio=socio, marca=publicacion.marca).pk),
        "comisiones": str(ComisionFactory(evento=evento, socio=socio).pk),
        "recompensas": str(RecompensaFactory(socio=SocioFactory(tipo="influencer")).pk),
        "webhooks": str(
            EndpointWebhook.objects.create(
                socio=socio, url="https://h.example.com/", secreto="s"
            ).pk
        ),
    }


def _rutas_json(cliente_staff) -> list[tuple[str, str]]:
    """Every JSON-accepting operation of the API (from its own schema), with real ids; the
    payments callback apart (it needs a signature)."""
    esquema = cliente_staff.get("/api/v1/schema/", {"format": "json"}).json()
    ids = _ids_reales()
    rutas = []
    for ruta, operaciones in esquema["paths"].items():
        recurso = ruta.split("/")[3]
        for metodo, op in operaciones.items():
            if metodo in {"post", "put", "patch"} and "requestBody" in op and recurso != "pagos":
                rutas.append((metodo, re.sub(r"\{[a-z_]*id\}", ids.get(recurso, ""), ruta)))
    return rutas


# Operations only a partner may call (staff gets a 403 before the body is read).
RUTAS_DEL_SOCIO = {"/api/v1/perfil-pago/"}


@pytest.mark.parametrize("niveles", [PROFUNDIDAD_MAXIMA + 1, 50_000])
def test_hallazgo_07_json_anidado_es_400_en_cada_endpoint(cliente_staff, settings, niveles):
    settings.PAGOS_SECRETO = "secreto-de-prueba"
    rutas = _rutas_json(cliente_staff)
    eventos_antes = Evento.objects.count()
    assert len(rutas) >= 15
    rutas += [("post", r) for r in ("/medios_marketing/medio-comando", "/prueba/comision-comando")]
    respuestas = {}
    cliente_socio = cliente_para(SocioFactory(usuario=UsuarioFactory()).usuario)
    for cuerpo in (_anidado(niveles), _objeto_anidado(niveles)):
        for metodo, ruta in rutas:
            cliente = cliente_socio if ruta in RUTAS_DEL_SOCIO else cliente_staff
            r = getattr(cliente, metodo)(ruta, cuerpo, content_type="application/json")
            respuestas[(metodo, ruta, cuerpo[:2])] = r
        # The payments callback reads its raw body itself (after checking the signature).
        pago = PagoFactory()
        r = APIClient().post(
            f"/api/v1/pagos/{pago.pk}/confirmacion/",
            cuerpo,
            content_type="application/json",
            HTTP_X_ALPES_FIRMA=firmar(cuerpo, settings.PAGOS_SECRETO),
        )
        respuestas[("post", "confirmacion", cuerpo[:2])] = r
    mal = {k: r.status_code for k, r in respuestas.items() if r.status_code != 400}
    assert mal == {}
    for r in respuestas.values():
        texto = r.json().get("detail") or r.json().get("error")
        assert f"deeper than {PROFUNDIDAD_MAXIMA} levels" in texto, texto
    assert Evento.objects.count() == eventos_antes
    assert not Pago.objects.exclude(estado="pendiente").exists()


@override_settings(DEBUG=True, EMBEBIDO=True)
def test_hallazgo_07_json_anidado_en_el_legado_abierto():
    for ruta in ("/eventos/evento-comando", "/prueba/recompensa-comando"):
        r = APIClient().post(ruta, _anidado(50_000), content_type="application/json")
        assert r.status_code == 400 and "deeper than 64" in r.json()["error"]


@pytest.mark.parametrize(
    "cursor",
    [
        "cD0xJm89MQ==",  # base64 of "p=1&o=1": a position that is not a date-time
        "p='; drop table;--",
        "cD0nOyBkcm9wIHRhYmxlIGV2ZW50b3M7LS0=",  # base64 of "p='; drop table eventos;--"
        "%%%%",
        "bm90IGEgY3Vyc29y",  # "not a cursor"
        "cD05OTk5OS0xMi0zMVQwMDowMDowMCswMDowMA==",  # p=99999-12-31T00:00:00+00:00
        "cD0wMDAxLTAxLTAxVDAwOjAwOjAwKzIzOjU5",  # p=0001-01-01T00:00:00+23:59: year 0 in UTC
        "bz0" + "9" * 5000,  # o=999…: more digits than int() takes
        "cj05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OSZwPXg=",  # r=huge&p=x
    ],
)
def test_hallazgo_07_cursor_manipulado_es_400(cliente_staff, cursor):
    EventoFactory()
    r = cliente_staff.get("/api/v1/eventos/", {"cursor": cursor})
    assert r.status_code == 400, r.content[:300]
    assert "cursor" in r.json()["errors"]


def test_hallazgo_07_cursor_legitimo_sigue_funcionando(cliente_staff):
    for _ in range(3):
        EventoFactory()
    primera = cliente_staff.get("/api/v1/eventos/", {"page_size": 2}).json()
    siguiente = cliente_staff.get(primera["next"]).json()
    assert len(primera["results"]) == 2 and len(siguiente["results"]) == 1


RECURSOS_CON_ID = [
    "socios",
    "marcas",
    "medios",
    "publicaciones",
    "eventos",
    "asociaciones",
    "comisiones",
    "recompensas",
    "pagos",
]
IDS_MALFORMADOS = ["zzz", "1", "%00", "a" * 300, "%2e%2e", "12345678-1234-1234-1234-12345678901Z"]


@pytest.mark.parametrize("debug", [False, True], ids=["produccion", "debug"])
def test_hallazgo_07_id_malformado_es_json_nunca_html(cliente_staff, debug):
    with override_settings(DEBUG=debug):
        for recurso in RECURSOS_CON_ID:
            for malo in IDS_MALFORMADOS:
                for sufijo in ("", "explicacion/"):
                    r = cliente_staff.get(f"/api/v1/{recurso}/{malo}/{sufijo}")
                    assert r.status_code in (400, 404), (recurso, malo, r.status_code)
                    assert r["Content-Type"].startswith("application/json"), (recurso, malo)
        for ruta in ("/api/v1/no-existe/", "/api/v2/", "/api/v1/eventos/x/y/z", "/api/"):
            r = cliente_staff.get(ruta)
            assert r.status_code == 404 and r.json()["code"] == "not_found", ruta
        r = APIClient().get("/eventos/evento-query/x/y")
        assert r.status_code == 404 and "error" in r.json()


# --- Finding 8: unbounded work from one request -----------------------------------------------

SERIE = "/api/v1/reportes/serie/"


@pytest.mark.parametrize(
    ("params", "estado"),
    [
        ({"intervalo": "dia", "desde": "1900-01-01", "hasta": "2100-01-01"}, 400),
        ({"intervalo": "dia", "desde": "2025-01-01", "hasta": "2026-02-05"}, 400),  # 401 days
        ({"intervalo": "dia", "desde": "2025-01-01", "hasta": "2026-02-04"}, 200),  # 400 days
        ({"intervalo": "dia", "desde": "1900-01-01"}, 400),  # to now
        ({"intervalo": "semana", "desde": "2010-01-01", "hasta": "2021-01-01"}, 400),
        ({"intervalo": "mes", "desde": "1900-01-01", "hasta": "2100-01-01"}, 400),
        ({"intervalo": "semana", "desde": "2017-01-01", "hasta": "2026-01-01"}, 200),
        ({"intervalo": "mes", "desde": "2016-01-02", "hasta": "2025-12-31"}, 200),
    ],
)
def test_hallazgo_08_rango_de_la_serie_acotado(socio, params, estado):
    r = cliente_para(socio.usuario).get(SERIE, params)
    assert r.status_code == estado, r.content[:300]
    if estado == 400:
        assert {"desde", "hasta"} & set(r.json()["errors"])


@pytest.mark.parametrize(
    "ruta",
    [
        "/api/v1/reportes/resumen/",
        "/api/v1/reportes/publicaciones/",
        "/api/v1/exportaciones/eventos/",
        "/api/v1/exportaciones/comisiones/",
    ],
)
def test_hallazgo_08_informes_y_exportaciones_acotados(cliente_staff, ruta):
    r = cliente_staff.get(ruta, {"desde": "1900-01-01", "hasta": "2100-01-01"})
    assert r.status_code == 400 and "desde" in r.json()["errors"]
    assert (
        cliente_staff.get(ruta, {"desde": "2020-01-01", "hasta": "2026-01-01"}).status_code == 200
    )


def _venta(marca, **extra) -> dict[str, object]:
    return {
        "marca": str(marca.pk),
        "tipo": "venta",
        "valor": "10.00",
        "moneda": "EUR",
        "referencia_externa": f"r-{uuid.uuid4()}",
        **extra,
    }


def test_hallazgo_08_ocurrido_en_antiguo_es_400(cliente_marca, marca, settings):
    ahora = timezone.now()
    for fecha in ("0001-01-01T00:00:00Z", (ahora - dt.timedelta(days=401)).isoformat()):
        r = cliente_marca.post("/api/v1/eventos/", _venta(marca, ocurrido_en=fecha), format="json")
        assert r.status_code == 400 and "ocurrido_en" in r.json()["errors"], r.content
        lote = {"eventos": [_venta(marca), _venta(marca, ocurrido_en=fecha)]}
        r = cliente_marca.post("/api/v1/eventos/lote/", lote, format="json")
        assert r.status_code == 400
        assert "ocurrido_en" in r.json()["errors"]["eventos"]["1"]
    assert not Evento.objects.exists()
    dentro = (ahora - dt.timedelta(days=399)).isoformat()
    r = cliente_marca.post("/api/v1/eventos/", _venta(marca, ocurrido_en=dentro), format="json")
    assert r.status_code == 201
    settings.EVENTOS_ANTIGUEDAD_MAXIMA_DIAS = 10
    once = (ahora - dt.timedelta(days=11)).isoformat()
    r = cliente_marca.post("/api/v1/eventos/", _venta(marca, ocurrido_en=once), format="json")
    assert r.status_code == 400 and "10 days" in r.json()["errors"]["ocurrido_en"][0]


@override_settings(DEBUG=True, EMBEBIDO=True)
def test_hallazgo_08_el_legado_esta_exento_de_la_antiguedad():
    publicacion = PublicacionFactory()
    cuerpo = {
        "id": str(uuid.uuid4()),
        "tipo_evento": "Lead",
        "id_publicacion": str(publicacion.pk),
        "fecha_creacion": "2001-01-01T00:00:00Z",
    }
    r = APIClient().post("/eventos/evento-comando", cuerpo, format="json")
    assert r.status_code == 202, r.content
    assert Evento.objects.get().ocurrido_en.year == 2001


def test_hallazgo_08_el_resumen_acota_los_dias_por_ejecucion(settings):
    settings.RESUMEN_MAX_DIAS_POR_EJECUCION = 5
    settings.RESUMEN_HORIZONTE_DIAS = 30
    hoy = timezone.now()
    EventoFactory(ocurrido_en=dt.datetime(1, 1, 1, tzinfo=dt.UTC))  # e.g. a legacy event
    for dias in (1, 2, 10, 20, 40):
        EventoFactory(ocurrido_en=hoy - dt.timedelta(days=dias))
    primera = resumen_refrescar()
    assert primera["dias"] == 5
    hechos = sorted(DiaResumido.objects.values_list("dia", flat=True))
    assert hechos[0] >= (hoy - dt.timedelta(days=30)).date()  # never past the horizon
    assert hechos[-1] == (hoy - dt.timedelta(days=1)).date()  # the newest first
    # Later runs backfill the rest of the horizon, a bounded slice at a time.
    for _ in range(10):
        resumen_refrescar()
    hechos = DiaResumido.objects.values_list("dia", flat=True)
    assert min(hechos) == (hoy - dt.timedelta(days=20)).date()
    assert DiaResumido.objects.count() == 20


def test_hallazgo_08_el_resumen_nunca_corre_dos_veces_a_la_vez():
    EventoFactory(ocurrido_en=timezone.now() - dt.timedelta(days=3))
    tomado, soltar = threading.Event(), threading.Event()

    def otro_refresco() -> None:
        try:
            with resumen_cerrojo() as obtenido:
                assert obtenido
                tomado.set()
                soltar.wait(60)
        finally:
            connection.close()  # this thread's own connection

    hilo = threading.Thread(target=otro_refresco)
    hilo.start()
    try:
        assert tomado.wait(60)
        assert resumen_refrescar() == {"dias": 0, "filas": 0, "omitidos": 0, "en_curso": 1}
        assert not DiaResumido.objects.exists()
    finally:
        soltar.set()
        hilo.join(60)
    assert resumen_refrescar()["dias"] >= 1


# --- Finding 9: lenient money parsing ---------------------------------------------------------

VALORES_MALOS = [
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # full-width digits
    "1e3",
    "1E3",
    "NaN",
    "nan",
    "Infinity",
    "+5",
    "-5",
    " 5",
    "5 ",
    "5.",
    ".5",
    "1.005",
    "1,000",
    "0x10",
    True,
    [],
    {},
]


@pytest.mark.parametrize("valor", VALORES_MALOS, ids=repr)
def test_hallazgo_09_valor_estricto(cliente_marca, marca, valor):
    r = cliente_marca.post("/api/v1/eventos/", _venta(marca, valor=valor), format="json")
    assert r.status_code == 400, r.content
    assert "valor" in r.json()["errors"]
    lote = {"eventos": [_venta(marca), _venta(marca, valor=valor)]}
    r = cliente_marca.post("/api/v1/eventos/lote/", lote, format="json")
    assert r.status_code == 400 and "valor" in r.json()["errors"]["eventos"]["1"]
    assert not Evento.objects.exists()


@pytest.mark.parametrize("numero", ["1e3", "1E3", "1.0e2", "-0", "-5", "1.000", "5.125", "NaN"])
def test_hallazgo_09_numero_json_con_forma_invalida(cliente_marca, marca, numero):
    cuerpo = json.dumps(_venta(marca)).replace('"10.00"', numero)
    for ruta, datos in (
        ("/api/v1/eventos/", cuerpo),
        ("/api/v1/eventos/lote/", '{"eventos": [' + cuerpo + "]}"),
    ):
        r = cliente_marca.post(ruta, datos, content_type="application/json")
        assert r.status_code == 400, (numero, r.content)
    assert not Evento.objects.exists()


@pytest.mark.parametrize(
    ("valor", "guardado"),
    [('"120"', "120.00"), ('"120.5"', "120.50"), ("120", "120.00"), ("120.50", "120.50")],
)
def test_hallazgo_09_valores_correctos_se_aceptan(cliente_marca, marca, valor, guardado):
    cuerpo = json.dumps(_venta(marca, metadata={"ratio": 0.001})).replace('"10.00"', valor)
    r = cliente_marca.post("/api/v1/eventos/", cuerpo, content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["valor"] == guardado
    # A number elsewhere (metadata) may have any JSON shape; it is stored as a plain number.
    assert r.json()["metadata"] == {"ratio": 0.001}


MONEDAS_MALAS = ["XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "BOV", "CHE", "CLF", "XDR", "XSU", "XUA"]


@pytest.mark.parametrize("moneda", [*MONEDAS_MALAS, "EURO", "€", "eu"])
def test_hallazgo_09_moneda_activa(cliente_marca, marca, moneda):
    r = cliente_marca.post("/api/v1/eventos/", _venta(marca, moneda=moneda), format="json")
    assert r.status_code == 400 and "moneda" in r.json()["errors"], r.content
    assert not Evento.objects.exists()


def test_hallazgo_09_lista_de_monedas_definida_una_vez():
    assert not set(MONEDAS_MALAS) & set(CODIGOS_MONEDA)
    assert {"EUR", "USD", "COP", "XOF", "XAF", "JPY"} <= set(CODIGOS_MONEDA)
    # The database refuses them too (CHECK constraints fed by the same list).
    marca = MarcaFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Evento.objects.create(
            tipo="venta", ocurrido_en=timezone.now(), marca=marca, valor=1, moneda="XXX"
        )
    asociacion = AsociacionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReglaPago.objects.create(
            asociacion=asociacion, tipo_evento="venta", modalidad="fijo", valor=1, moneda="XAU"
        )


@pytest.mark.parametrize(
    ("campo", "valor"),
    [
        ("valor", "1_000"),
        ("valor", "1e3"),
        ("valor", "١٢"),
        ("valor", " 5"),
        ("tope", "1e3"),
        ("tope", "+5"),
        ("moneda", "XXX"),
        ("moneda", "XAU"),
    ],
)
def test_hallazgo_09_reglas_con_las_mismas_reglas_del_dinero(cliente_staff, campo, valor):
    regla = {"tipo_evento": "venta", "modalidad": "fijo", "valor": "5", "moneda": "EUR"}
    datos = {
        "marca": str(MarcaFactory().pk),
        "socio": str(SocioFactory().pk),
        "tipo": "programa_afiliados",
        "vigencia_inicio": "2026-01-01",
        "reglas": [{**regla, campo: valor}],
    }
    r = cliente_staff.post("/api/v1/asociaciones/", datos, format="json")
    assert r.status_code == 400, r.content
    assert f"reglas[0].{campo}" in r.json()["errors"]
    assert not ReglaPago.objects.exists()


def test_hallazgo_09_dinero_parsear_en_detalle():
    assert dinero_parsear("0") == Decimal("0.00")
    assert dinero_parsear(120.5) == Decimal("120.50")
    assert dinero_parsear(Decimal("7.10")) == Decimal("7.10")
    for malo in (1e16, 0.1 + 0.2, float("nan"), Decimal("1E+3"), None, b"5", "9" * 40):
        with pytest.raises(DineroInvalido):
            dinero_parsear(malo)
    with pytest.raises(DineroInvalido):
        dinero_parsear("1000000000000")  # 13 digits: over the column's 12
    assert Client().get("/health").status_code == 200
