"""The five attribution models and the exact rounding, on worked examples and properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comision_recompensa.atribucion import modelos as ma

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
D = Decimal


def tp(eid, socio, horas_antes, tipo="click"):
    return ma.Touchpoint(
        evento_id=eid, socio_id=socio, ocurrido_en=T0 - dt.timedelta(hours=horas_antes), tipo=tipo
    )


def creditos(modelo, tps, referencia=T0):
    return ma.participaciones_por_socio(ma.pesos_touchpoints(modelo, tps, referencia=referencia))


# Three touchpoints: A (72 h before), B (48 h), C (24 h); given out of order on purpose.
TRES = [tp("e2", "B", 48), tp("e3", "C", 24), tp("e1", "A", 72)]


def test_ultimo_clic_da_todo_al_ultimo():
    assert creditos("ultimo_clic", TRES) == {"C": D("1.000000")}


def test_primer_clic_da_todo_al_primero():
    assert creditos("primer_clic", TRES) == {"A": D("1.000000")}


def test_lineal_tres_tercios_suman_exactamente_uno():
    c = creditos("lineal", TRES)
    # 1/3 rounded: two get 0.333333, the leftover millionth goes to the first (tie → earlier).
    assert c == {"A": D("0.333334"), "B": D("0.333333"), "C": D("0.333333")}
    assert sum(c.values()) == D(1)


def test_posicional_40_20_40():
    assert creditos("posicional", TRES) == {
        "A": D("0.400000"),
        "B": D("0.200000"),
        "C": D("0.400000"),
    }


def test_posicional_cuatro_reparte_el_centro():
    tps = [*TRES, tp("e4", "D", 12)]
    assert creditos("posicional", tps) == {
        "A": D("0.400000"),
        "B": D("0.100000"),
        "C": D("0.100000"),
        "D": D("0.400000"),
    }


def test_posicional_dos_es_50_50_y_uno_es_100():
    assert creditos("posicional", TRES[:2]) == {"B": D("0.500000"), "C": D("0.500000")}
    assert creditos("posicional", TRES[:1]) == {"B": D("1.000000")}


@pytest.mark.parametrize(
    "modelo", ["ultimo_clic", "primer_clic", "lineal", "posicional", "decaimiento_temporal"]
)
def test_un_solo_touchpoint_recibe_todo(modelo):
    assert creditos(modelo, [tp("e1", "A", 5)]) == {"A": D("1.000000")}


def test_decaimiento_temporal_vida_media_siete_dias():
    # A is 7 days before the conversion, B is at the conversion: weights 1/2 and 1 → 1/3, 2/3.
    tps = [tp("e1", "A", 7 * 24), tp("e2", "B", 0)]
    pesos = ma.pesos_touchpoints("decaimiento_temporal", tps, referencia=T0)
    assert [p.peso for p in pesos] == [D("0.5"), D(1)]
    assert creditos("decaimiento_temporal", tps) == {"A": D("0.333333"), "B": D("0.666667")}


def test_decaimiento_temporal_catorce_dias_es_un_cuarto():
    tps = [tp("e1", "A", 14 * 24), tp("e2", "B", 0)]
    assert creditos("decaimiento_temporal", tps) == {"A": D("0.200000"), "B": D("0.800000")}


def test_un_socio_con_dos_touchpoints_suma_sus_partes():
    tps = [tp("e1", "A", 72), tp("e2", "B", 48), tp("e3", "A", 24)]
    assert creditos("lineal", tps) == {"A": D("0.666667"), "B": D("0.333333")}
    # posicional: A has first and last (0.4 + 0.4), B the middle.
    assert creditos("posicional", tps) == {"A": D("0.800000"), "B": D("0.200000")}
    assert creditos("ultimo_clic", tps) == {"A": D("1.000000")}


def test_empate_de_tiempos_se_ordena_por_id():
    # Same instant: the order (and so "last") is decided by event id, deterministically.
    tps = [tp("b", "B", 1), tp("a", "A", 1)]
    assert creditos("ultimo_clic", tps) == {"B": D("1.000000")}
    assert creditos("primer_clic", tps) == {"A": D("1.000000")}
    assert creditos("lineal", tps) == {"A": D("0.500000"), "B": D("0.500000")}


def test_sin_touchpoints_no_hay_credito():
    assert creditos("lineal", []) == {}


def test_modelo_desconocido_es_un_error():
    with pytest.raises(ValueError):
        ma.pesos_modelo("magia", [tp("e1", "A", 1)], referencia=T0)


def test_repartir_monto_centimos_exactos():
    assert ma.repartir_monto(D("10.00"), [D("0.333334"), D("0.333333"), D("0.333333")]) == [
        D("3.34"),
        D("3.33"),
        D("3.33"),
    ]
    assert ma.repartir_monto(D("0.01"), [D("0.5"), D("0.5")]) == [D("0.01"), D("0.00")]
    assert ma.repartir_monto(D("0"), [D("1")]) == [D("0.00")]


# --- Properties ------------------------------------------------------------------------------
MODELOS = st.sampled_from(
    ["ultimo_clic", "primer_clic", "lineal", "posicional", "decaimiento_temporal"]
)
TOUCHPOINTS = st.lists(
    st.tuples(st.sampled_from("ABCDE"), st.integers(min_value=0, max_value=90 * 24 * 3600)),
    min_size=1,
    max_size=12,
).map(
    lambda xs: [
        ma.Touchpoint(
            evento_id=f"e{i}", socio_id=s, ocurrido_en=T0 - dt.timedelta(seconds=segundos)
        )
        for i, (s, segundos) in enumerate(xs)
    ]
)
MONTOS = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(modelo=MODELOS, tps=TOUCHPOINTS, total=MONTOS)
def test_propiedad_creditos_suman_uno_y_montos_el_total(modelo, tps, total):
    pesos = ma.pesos_touchpoints(modelo, tps, referencia=T0)
    assert sum(p.participacion for p in pesos) == D(1)
    assert all(p.participacion >= 0 and p.participacion.as_tuple().exponent >= -6 for p in pesos)
    por_socio = ma.participaciones_por_socio(pesos)
    assert sum(por_socio.values()) == D(1)
    assert all(c > 0 for c in por_socio.values())
    partes = ma.repartir_monto(total, list(por_socio.values()))
    assert sum(partes) == total
    assert all(p >= 0 and p == p.quantize(D("0.01")) for p in partes)


@settings(max_examples=200, deadline=None)
@given(
    proporciones=st.lists(
        st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False), min_size=1
    ),
    unidades=st.integers(min_value=0, max_value=10**8),
)
def test_propiedad_resto_mayor_suma_exacta(proporciones, unidades):
    partes = ma.repartir_unidades(proporciones, unidades)
    assert sum(partes) == unidades
    assert all(p >= 0 for p in partes)
    total = sum(proporciones)
    if total > 0:
        # Each part is within one unit of its exact share.
        for p, q in zip(partes, proporciones, strict=True):
            assert abs(D(p) - q * unidades / total) < 1
