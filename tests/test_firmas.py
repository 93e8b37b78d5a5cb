"""The one signing scheme (`alpespartners.firmas`): payout deliveries, payment callbacks and
webhooks sign `"<t>.<raw body>"` with HMAC-SHA256 and refuse stale or future timestamps."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from alpespartners import firmas

CUERPO = b'{"pago_id": "x", "estado": "pagado"}'
T = 1_800_000_000


def test_formato_y_contenido_firmado():
    cabecera = firmas.firmar(CUERPO, "s", t=T)
    esperado = hmac.new(b"s", f"{T}.".encode() + CUERPO, hashlib.sha256).hexdigest()
    assert cabecera == f"t={T},sha256={esperado}"
    assert firmas.verificar(cabecera, CUERPO, ["s"], ahora=T) == T


def test_tolerancia_de_cinco_minutos_en_ambos_sentidos():
    cabecera = firmas.firmar(CUERPO, "s", t=T)
    assert firmas.verificar(cabecera, CUERPO, ["s"], ahora=T + 300) == T
    assert firmas.verificar(cabecera, CUERPO, ["s"], ahora=T - 300) == T
    with pytest.raises(firmas.FirmaInvalida) as viejo:
        firmas.verificar(cabecera, CUERPO, ["s"], ahora=T + 301)
    assert viejo.value.codigo == "firma_caducada"
    with pytest.raises(firmas.FirmaInvalida) as futuro:
        firmas.verificar(cabecera, CUERPO, ["s"], ahora=T - 301)
    assert futuro.value.codigo == "firma_futura"


def test_rotacion_varios_secretos_y_varias_firmas():
    vieja = firmas.firmar(CUERPO, "viejo", t=T)
    assert firmas.verificar(vieja, CUERPO, ["nuevo", "viejo"], ahora=T) == T
    with pytest.raises(firmas.FirmaInvalida):
        firmas.verificar(vieja, CUERPO, ["nuevo"], ahora=T)
    # A sender mid-rotation may send both signatures.
    nueva = firmas.firmar(CUERPO, "nuevo", t=T).split(",")[1]
    doble = f"{vieja},{nueva}"
    assert firmas.verificar(doble, CUERPO, ["nuevo"], ahora=T) == T


@pytest.mark.parametrize(
    ("cabecera", "codigo"),
    [
        (None, "firma_ausente"),
        ("  ", "firma_ausente"),
        ("sha256=" + "a" * 64, "firma_malformada"),
        (f"t={T}", "firma_malformada"),
        (f"t={T},sha256=xyz", "firma_malformada"),
        (f"t=-1,sha256={'a' * 64}", "firma_malformada"),
        (f"t={T};sha256={'a' * 64}", "firma_malformada"),
        (f"t={T},sha256={'a' * 64}", "firma_invalida"),
    ],
)
def test_cabeceras_malas(cabecera, codigo):
    with pytest.raises(firmas.FirmaInvalida) as error:
        firmas.verificar(cabecera, CUERPO, ["s"], ahora=T)
    assert error.value.codigo == codigo
    assert "s" not in error.value.mensaje.split()  # never the secret


def test_sin_secretos_nada_verifica():
    cabecera = firmas.firmar(CUERPO, "s", t=T)
    with pytest.raises(firmas.FirmaInvalida):
        firmas.verificar(cabecera, CUERPO, ["", ""], ahora=T)
    with pytest.raises(ValueError):
        firmas.firmar(CUERPO, "")


def test_otro_cuerpo_u_otra_marca_de_tiempo_no_verifican():
    cabecera = firmas.firmar(CUERPO, "s", t=T)
    with pytest.raises(firmas.FirmaInvalida):
        firmas.verificar(cabecera, CUERPO + b" ", ["s"], ahora=T)
    movida = cabecera.replace(f"t={T}", f"t={T + 10}")
    with pytest.raises(firmas.FirmaInvalida):
        firmas.verificar(movida, CUERPO, ["s"], ahora=T)
