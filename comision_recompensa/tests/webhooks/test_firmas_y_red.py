"""The shared signature helper (`alpespartners.firmas`) and the SSRF checks of webhook URLs
(`comision_recompensa.webhooks.red`)."""

from __future__ import annotations

import ipaddress
import time

import pytest

from alpespartners.firmas import firma_valida, firmar
from comision_recompensa.webhooks import red
from comision_recompensa.webhooks.entrega import firma_cabecera

CUERPO = b'{"id":"x","secuencia":1}'


# --- Signatures ---------------------------------------------------------------------------
def test_firmar_da_t_y_sha256_sobre_t_punto_cuerpo():
    import hashlib
    import hmac

    cabecera = firmar(CUERPO, "s3creto", t=1_700_000_000)
    esperado = hmac.new(b"s3creto", b"1700000000." + CUERPO, hashlib.sha256).hexdigest()
    assert cabecera == f"t=1700000000,sha256={esperado}"


def test_firma_valida_acepta_la_firma_y_rechaza_cuerpo_secreto_o_edad_alterados():
    ahora = int(time.time())
    cabecera = firmar(CUERPO, "s3creto", t=ahora)
    assert firma_valida(cabecera, CUERPO, ["s3creto"])
    assert not firma_valida(cabecera, CUERPO + b" ", ["s3creto"])
    assert not firma_valida(cabecera, CUERPO, ["otro"])
    assert not firma_valida(cabecera, CUERPO, [""])
    assert not firma_valida(None, CUERPO, ["s3creto"])
    assert not firma_valida("sha256=abc", CUERPO, ["s3creto"])
    vieja = firmar(CUERPO, "s3creto", t=ahora - 301)
    assert not firma_valida(vieja, CUERPO, ["s3creto"])
    futura = firmar(CUERPO, "s3creto", t=ahora + 301)
    assert not firma_valida(futura, CUERPO, ["s3creto"])
    assert firma_valida(vieja, CUERPO, ["s3creto"], tolerancia_segundos=400)


def test_durante_una_rotacion_van_dos_firmas_y_vale_cualquiera():
    cabecera = firma_cabecera(CUERPO, ["nuevo", "viejo"])
    t, *firmas = cabecera.split(",")
    assert t.startswith("t=") and len(firmas) == 2
    assert all(f.startswith("sha256=") for f in firmas)
    assert firma_valida(cabecera, CUERPO, ["nuevo"])
    assert firma_valida(cabecera, CUERPO, ["viejo"])
    assert not firma_valida(cabecera, CUERPO, ["otro"])


# --- SSRF: what may be registered -----------------------------------------------------------
@pytest.fixture
def dns(monkeypatch):
    """A fake resolver: host → addresses (the network is never asked)."""
    tabla: dict[str, list[str]] = {"hooks.example.com": ["93.184.216.34"]}

    def resolver(host, puerto):
        if host not in tabla:
            raise OSError("NXDOMAIN")
        return list(tabla[host])

    monkeypatch.setattr(red, "resolver_host", resolver)
    return tabla


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/h",
        "https://10.0.0.5/h",
        "https://172.16.3.4/h",
        "https://192.168.1.1/h",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/h",  # CGNAT
        "https://100.100.100.200/h",  # metadata inside CGNAT
        "https://168.63.129.16/h",  # a metadata address that looks public
        "https://0.0.0.0/h",
        "https://224.0.0.1/h",  # multicast
        "https://240.0.0.1/h",  # reserved
        "https://255.255.255.255/h",
        "https://[::1]/h",
        "https://[::]/h",
        "https://[fe80::1]/h",
        "https://[fd00::1]/h",  # ULA
        "https://[fd00:ec2::254]/h",
        "https://[::ffff:127.0.0.1]/h",  # IPv4-mapped
        "https://[::ffff:10.0.0.1]/h",
        "https://[2002:7f00:1::]/h",  # 6to4 of 127.0.0.1
        "https://[64:ff9b::a00:1]/h",  # NAT64 of 10.0.0.1
        "https://2130706433/h",  # decimal 127.0.0.1
        "https://0x7f000001/h",  # hex
        "https://0177.0.0.1/h",  # octal
        "https://127.1/h",  # shortened
        "https://0x7f.0.0.1/h",
        "https://user:pass@hooks.example.com/h",
        "https://hooks.example.com@127.0.0.1/h",
        "http://hooks.example.com/h",  # http without the development setting
        "ftp://hooks.example.com/h",
        "file:///etc/passwd",
        "gopher://hooks.example.com/h",
        "javascript:alert(1)",
        "https:///h",
        "https://hooks.example.com/h#frag",
        "https://hooks.example.com:0/h",
        "https://hooks.example.com:99999/h",
        "https://hooks.exa mple.com/h",
        "https://hooks.example.com\\@127.0.0.1/",
        "https://no-resuelve.example.com/h",
        "",
        "https://hooks.example.com/" + "a" * 2100,
    ],
)
def test_registro_rechaza_destinos_no_publicos_y_formas_raras(url, dns, settings):
    settings.WEBHOOKS_PERMITIR_PRIVADAS = False
    with pytest.raises(red.UrlNoPermitida):
        red.url_validar(url)


@pytest.mark.parametrize(
    ("host", "direcciones"),
    [
        ("interno.example.com", ["10.1.2.3"]),
        ("local.example.com", ["127.0.0.1"]),
        ("enlace.example.com", ["169.254.10.10"]),
        ("mixto.example.com", ["93.184.216.34", "192.168.0.10"]),  # one bad answer is enough
        ("v6.example.com", ["fd12:3456::1"]),
        ("mapeado.example.com", ["::ffff:169.254.169.254"]),
    ],
)
def test_registro_resuelve_el_dns_y_rechaza_respuestas_internas(host, direcciones, dns, settings):
    settings.WEBHOOKS_PERMITIR_PRIVADAS = False
    dns[host] = direcciones
    with pytest.raises(red.UrlNoPermitida, match="non-public"):
        red.url_validar(f"https://{host}/hook")


def test_registro_acepta_https_publico(dns, settings):
    settings.WEBHOOKS_PERMITIR_PRIVADAS = False
    assert red.url_validar("https://hooks.example.com/h?x=1") == "https://hooks.example.com/h?x=1"
    assert red.url_validar("https://93.184.216.34:8443/h")
    assert red.url_validar("https://[2606:2800:220:1:248:1893:25c8:1946]/h")


def test_el_ajuste_de_desarrollo_permite_loopback_y_privadas_pero_no_metadatos(dns, settings):
    settings.WEBHOOKS_PERMITIR_PRIVADAS = True
    assert red.url_validar("http://127.0.0.1:9000/h")
    assert red.url_validar("https://10.0.0.5/h")
    for url in (
        "http://169.254.169.254/",
        "http://0.0.0.0:9000/",
        "http://224.0.0.1/",
        "http://2130706433/",
    ):
        with pytest.raises(red.UrlNoPermitida):
            red.url_validar(url)


def test_ip_permitida_en_detalle():
    assert red.ip_permitida(ipaddress.ip_address("8.8.8.8"))
    assert not red.ip_permitida(ipaddress.ip_address("100.127.255.255"))
    assert not red.ip_permitida(ipaddress.ip_address("198.18.0.1"))  # benchmarking range
    assert not red.ip_permitida(ipaddress.ip_address("192.0.2.1"))  # documentation


# --- SSRF: at every delivery ----------------------------------------------------------------
def test_la_entrega_vuelve_a_resolver_y_se_niega_si_el_dns_cambio(dns, settings):
    """DNS rebinding: public at registration, loopback at delivery → refused, not sent."""
    settings.WEBHOOKS_PERMITIR_PRIVADAS = False
    dns["rebote.example.com"] = ["93.184.216.34"]
    red.url_validar("https://rebote.example.com/hook")
    dns["rebote.example.com"] = ["127.0.0.1"]
    respuesta = red.enviar(
        "POST",
        "https://rebote.example.com/hook",
        cuerpo=b"{}",
        cabeceras={},
        timeout_conexion=0.5,
        timeout_lectura=0.5,
    )
    assert respuesta.estado_http is None
    assert respuesta.error.startswith("refused:") and "127.0.0.1" in respuesta.error


def test_la_entrega_se_conecta_a_la_ip_comprobada_con_el_host_original(dns, settings, monkeypatch):
    """The connection goes to the address that was checked (pinned), with the Host header,
    SNI and certificate name of the host."""
    settings.WEBHOOKS_PERMITIR_PRIVADAS = False
    dns["fijado.example.com"] = ["93.184.216.34"]
    vistos = {}

    class PoolFalso:
        def urlopen(self, metodo, ruta, **kw):
            vistos.update(metodo=metodo, ruta=ruta, host=kw["headers"]["Host"])
            raise red.NewConnectionError(None, "refused")  # never touches the network

    def pool(destino, ip):
        vistos.update(ip=ip, sni=destino.host)
        return PoolFalso()

    monkeypatch.setattr(red, "_pool", pool)
    respuesta = red.enviar(
        "POST",
        "https://fijado.example.com:8443/a?b=1",
        cuerpo=b"{}",
        cabeceras={},
        timeout_conexion=0.5,
        timeout_lectura=0.5,
    )
    assert vistos == {
        "ip": "93.184.216.34",
        "sni": "fijado.example.com",
        "metodo": "POST",
        "ruta": "/a?b=1",
        "host": "fijado.example.com:8443",
    }
    assert respuesta.error == "connection refused or unreachable"


def test_el_pool_https_fija_sni_y_nombre_del_certificado():
    destino = red.destino_de("https://hooks.example.com/x", privadas=False)
    pool = red._pool(destino, "93.184.216.34")
    assert pool.host == "93.184.216.34"
    assert pool.conn_kw.get("server_hostname") == "hooks.example.com"
    assert pool.assert_hostname == "hooks.example.com"
