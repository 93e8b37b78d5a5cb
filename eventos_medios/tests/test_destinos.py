"""Destinations (PRODUCT.md §8): host names and url_destino, as pure functions."""

from __future__ import annotations

import pytest

from eventos_medios import destinos
from eventos_medios.destinos import DestinoInvalido

DOMINIOS = ("tienda.example.com",)


@pytest.mark.parametrize(
    ("entrada", "canonico"),
    [
        ("tienda.example.com", "tienda.example.com"),
        ("Tienda.EXAMPLE.com", "tienda.example.com"),
        ("tienda.example.com.", "tienda.example.com"),
        ("ñandú.example", "xn--and-6ma2c.example"),
        ("xn--and-6ma2c.example", "xn--and-6ma2c.example"),
        ("ｔｉｅｎｄａ.example.com", "tienda.example.com"),  # full-width, mapped as browsers do
        ("straße.example", "xn--strae-oqa.example"),  # non-transitional, as browsers
        ("localhost", "localhost"),
    ],
)
def test_host_normalizado(entrada, canonico):
    assert destinos.host_normalizar(entrada) == canonico


@pytest.mark.parametrize(
    "malo",
    [
        "",
        "com",
        "10.0.0.1",
        "a..example.com",
        "-a.example.com",
        "a-.example.com",
        "a_b.example.com",
        "a%2eb.example.com",
        "xn--zz.example.com",  # an A-label that decodes to nothing
        "a" * 64 + ".example.com",
        ".".join(["a" * 60] * 5),
        "exa mple.com",
    ],
)
def test_host_invalido(malo):
    with pytest.raises(DestinoInvalido):
        destinos.host_normalizar(malo)


def test_dominios_normalizados_sin_repetir():
    assert destinos.dominios_normalizar(
        ["Shop.Example.com", " shop.example.com. ", "ñandú.example"]
    ) == ["shop.example.com", "xn--and-6ma2c.example"]
    assert destinos.dominios_normalizar([]) == []


@pytest.mark.parametrize(
    "malo",
    [
        "shop.example.com",
        None,
        [None],
        [""],
        [3],
        ["https://shop.example.com"],
        ["shop.example.com/x"],
        ["shop.example.com:8080"],
        ["user@shop.example.com"],
        ["*.example.com"],
        ["shop example.com"],
        ["x" * 254],
        [f"s{i}.example.com" for i in range(destinos.MAX_DOMINIOS + 1)],
    ],
)
def test_dominios_invalidos(malo):
    with pytest.raises(DestinoInvalido):
        destinos.dominios_normalizar(malo)


def test_dominios_efectivos():
    assert destinos.dominios_efectivos(["a.example"], "https://www.b.example/x") == ("a.example",)
    assert destinos.dominios_efectivos([], "https://WWW.b.example:8443/x") == ("www.b.example",)
    assert destinos.dominios_efectivos(None, "") == ()
    # Stored values are read defensively: junk is ignored, never trusted.
    assert destinos.dominios_efectivos(["evil .example", 7], "https://b.example") == ("b.example",)


@pytest.mark.parametrize(
    "url",
    [
        "https://tienda.example.com",
        "https://tienda.example.com/a?b=c#d",
        "http://sub.tienda.example.com/",
        "https://TIENDA.example.com/",
        "https://tienda.example.com./",
        "https://tienda.example.com:443/",
        "https://tienda.example.com/ruta@con-arroba",
    ],
)
def test_url_permitida(url):
    assert destinos.url_destino_permitida(url, DOMINIOS)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "https://tienda.example.com.evil.example/",
        "https://xtienda.example.com/",
        "https://tienda.example.com@evil.example/",
        "https://evil.example\\@tienda.example.com/",
        "https://u:p@tienda.example.com/",
        "https://evil.example#@tienda.example.com",
        "javascript:alert(1)",
        "HTTPS://tienda.example.com/",
        " https://tienda.example.com/",
        "https://tienda.example.com/a b",
        "https://tienda.example.com/\x00",
        "https://tienda.example.com:/",
        "https://tienda.example.com:abc/",
        "https://[::1]/",
        "https://tіenda.example.com/",
        "https://",
        "http:///tienda.example.com",
    ],
)
def test_url_prohibida(url):
    assert not destinos.url_destino_permitida(url, DOMINIOS)


def test_sin_dominios_nada_es_destino():
    with pytest.raises(DestinoInvalido, match="no domains"):
        destinos.url_destino_validar("https://tienda.example.com/", ())
