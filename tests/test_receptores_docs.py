"""The sample receivers of docs/API.md (docs/receptores/) verify real signatures, accept either
secret during a rotation, deduplicate by Idempotency-Key and report secuencia gaps."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import time
from pathlib import Path

from comision_recompensa.webhooks.entrega import firma_cabecera

RAIZ = Path(__file__).resolve().parent.parent
DIR = RAIZ / "docs" / "receptores"


def _modulo():
    spec = importlib.util.spec_from_file_location("receptor_docs", DIR / "receptor.py")
    assert spec and spec.loader
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    return modulo


def _entrega(secuencia: int, secretos: list[str], clave: str | None = None):
    cuerpo = json.dumps(
        {
            "id": clave or f"k{secuencia}",
            "tipo": "ping",
            "creado_en": "2026-01-01T00:00:00Z",
            "secuencia": secuencia,
            "datos": {"id": "x"},
        }
    ).encode()
    cabeceras = {
        "X-Alpes-Firma": firma_cabecera(cuerpo, secretos),
        "Idempotency-Key": clave or f"k{secuencia}",
    }
    return cabeceras, cuerpo


def test_receptor_python_verifica_deduplica_y_ve_huecos():
    m = _modulo()
    receptor = m.Receptor(["nuevo"])
    procesados = []
    receptor.procesar = procesados.append
    assert receptor.recibir(*_entrega(1, ["nuevo", "viejo"])) == 200  # rotation: both signed
    assert receptor.recibir(*_entrega(1, ["nuevo"])) == 200  # a retry of the same key
    assert receptor.recibir(*_entrega(4, ["nuevo"])) == 200
    assert receptor.recibir(*_entrega(5, ["otro"])) == 401
    assert [e["secuencia"] for e in procesados] == [1, 4]
    assert receptor.huecos() == [(2, 3)]
    receptor.recibir(*_entrega(3, ["nuevo"]))
    assert receptor.huecos() == [(2, 2)]
    viejo = m.Receptor(["viejo"])
    viejo.procesar = lambda e: None
    assert viejo.recibir(*_entrega(1, ["nuevo", "viejo"])) == 200
    cab, cuerpo = _entrega(1, ["nuevo"])
    cab["X-Alpes-Firma"] = cab["X-Alpes-Firma"].replace(
        cab["X-Alpes-Firma"].split(",")[0], f"t={int(time.time()) - 3600}"
    )
    assert m.firma_valida(cab["X-Alpes-Firma"], cuerpo, ["nuevo"]) is False  # stale


def test_receptor_node_verifica_la_firma():
    fuente = (DIR / "receptor.js").read_text()
    assert "timingSafeEqual" in fuente and "idempotency-key" in fuente and "secuencia" in fuente
    node = shutil.which("node")
    if node is None:  # the sample's source is still checked above
        return
    cab, cuerpo = _entrega(1, ["nuevo", "viejo"])
    guion = (
        "const r = require(process.argv[1]);"
        "const c = Buffer.from(process.argv[3]);"
        "console.log([r.firmaValida(process.argv[2], c, ['viejo']),"
        " r.firmaValida(process.argv[2], c, ['otro']),"
        " r.firmaValida(process.argv[2], Buffer.concat([c, Buffer.from(' ')]), ['nuevo'])].join())"
    )
    salida = subprocess.run(
        [node, "-e", guion, str(DIR / "receptor.js"), cab["X-Alpes-Firma"], cuerpo.decode()],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert salida.stdout.strip() == "true,false,false"
