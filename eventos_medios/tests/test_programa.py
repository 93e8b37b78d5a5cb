"""Tracking's programme hook (`eventos_medios.programa`): fail closed without a rule."""

from __future__ import annotations

import uuid

from eventos_medios import programa


def test_sin_regla_registrada_ningun_codigo_esta_en_ningun_programa(monkeypatch):
    monkeypatch.setattr(programa, "_reglas", [])
    assert programa.socios_por_codigo(codigos={"ABC"}, marca_ids={uuid.uuid4()}) == {}


def test_las_reglas_registradas_responden_por_marca(monkeypatch):
    marca, otra, socio = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    llamadas = []

    def regla(codigos, marca_ids):
        llamadas.append((codigos, marca_ids))
        return [("ABC", marca, socio)]

    monkeypatch.setattr(programa, "_reglas", [])
    programa.registrar_codigos_referido(regla)
    programa.registrar_codigos_referido(regla)  # idempotent
    assert programa.socios_por_codigo(codigos=["ABC", "XYZ"], marca_ids=[marca, otra]) == {
        ("ABC", marca): socio
    }
    assert llamadas == [(frozenset({"ABC", "XYZ"}), frozenset({marca, otra}))]
    assert programa.socios_por_codigo(codigos=[], marca_ids=[marca]) == {}
    assert len(llamadas) == 1  # nothing to ask: no query
