"""Load generation from a separate process: wrk when installed, else a small asyncio client.

A `Receta` describes the requests of one figure (paths, headers, and how to build a body with
fresh event ids, so that idempotency never short-circuits a request). The same recipe is
rendered as a wrk Lua script or run by `bench.cliente`, so both tools send the same requests.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.procesos import RAIZ, lanzar, terminar

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Safari/537.36"
)


@dataclass
class Receta:
    """What to send. `cuerpo`: None (GET), "evento" (one event) or "lote" (`lote` events)."""

    metodo: str
    rutas: list[str]
    cabeceras: dict[str, str] = field(default_factory=dict)
    cuerpo: str | None = None
    marca: str = ""
    lote: int = 1000
    ip_aleatoria: bool = False
    prefijo: str = field(default_factory=lambda: secrets.token_hex(4))

    def nueva(self) -> Receta:
        """The same recipe with a fresh id prefix (warm-up and measured runs never collide)."""
        copia = Receta(**asdict(self))
        copia.prefijo = secrets.token_hex(4)
        return copia


@dataclass
class Resultado:
    herramienta: str
    peticiones: int
    segundos: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    no_2xx_3xx: int
    errores_socket: int

    @property
    def exitosas(self) -> int:
        return max(self.peticiones - self.no_2xx_3xx - self.errores_socket, 0)


def herramienta_disponible(*, instalar: bool) -> str:
    """'wrk' when available (installed from Debian's packages if allowed), else 'python'."""
    if shutil.which("wrk"):
        return "wrk"
    if instalar and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing it with apt-get (Debian package `wrk`)…", flush=True)
        entorno_apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for orden in (["install"], ["update"], ["install"]):  # update only if needed
            if orden == ["update"] and shutil.which("wrk"):
                break
            try:
                subprocess.run(
                    ["apt-get", *orden, "-y", "-q", *(["wrk"] if orden == ["install"] else [])],
                    check=False,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=entorno_apt,
                    timeout=300,
                )
            except (OSError, subprocess.TimeoutExpired):
                break
        if shutil.which("wrk"):
            return "wrk"
    return "python"


def version_wrk() -> str:
    proc = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    texto = (proc.stdout + proc.stderr).strip().splitlines()
    return texto[0] if texto else "wrk"


def _lua_cadena(valor: str) -> str:
    return json.dumps(valor)  # a JSON string literal is a valid Lua string literal here


def script_lua(receta: Receta) -> str:
    """Render a recipe as a wrk script: per-thread counters make every event id unique."""
    rutas = ", ".join(_lua_cadena(r) for r in receta.rutas)
    cabeceras = ", ".join(
        f"[{_lua_cadena(k)}] = {_lua_cadena(v)}" for k, v in receta.cabeceras.items()
    )
    return f"""
local rutas = {{{rutas}}}
local nrutas = #rutas
local cabeceras = {{{cabeceras}}}
local metodo = {_lua_cadena(receta.metodo)}
local cuerpo = {_lua_cadena(receta.cuerpo or "")}
local marca = {_lua_cadena(receta.marca)}
local prefijo = {_lua_cadena(receta.prefijo)}
local lote = {receta.lote}
local ip_aleatoria = {"true" if receta.ip_aleatoria else "false"}
local contador = 0
local hilos = 0

function setup(thread)
  hilos = hilos + 1
  thread:set("hilo", hilos)
end

function init(args)
  math.randomseed(os.time() * 1000 + (hilo or 0) * 7919)
end

local function nuevo_id()
  contador = contador + 1
  return string.format("%s-%04x-4000-8000-%012x", prefijo, hilo or 0, contador)
end

local function evento(id)
  return '{{"id":"' .. id .. '","tipo":"conversion","marca":"' .. marca ..
    '","visitante_id":"v-' .. id .. '","valor":"49.90","moneda":"USD",' ..
    '"metadata":{{"canal":"bench","campania":"flash"}}}}'
end

request = function()
  local ruta = rutas[(contador % nrutas) + 1]
  local h = {{}}
  for k, v in pairs(cabeceras) do h[k] = v end
  if ip_aleatoria then
    h["X-Forwarded-For"] = string.format("10.%d.%d.%d",
      math.random(0, 255), math.random(0, 255), math.random(1, 254))
  end
  local body = nil
  if cuerpo == "evento" then
    body = evento(nuevo_id())
  elseif cuerpo == "lote" then
    local partes = {{}}
    for i = 1, lote do partes[i] = evento(nuevo_id()) end
    body = '{{"eventos":[' .. table.concat(partes, ",") .. ']}}'
  else
    contador = contador + 1
  end
  return wrk.format(metodo, ruta, h, body)
end
"""


_UNIDADES = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _a_ms(texto: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", texto.strip())
    if not m:
        raise ValueError(texto)
    return float(m.group(1)) * _UNIDADES[m.group(2)]


def analizar_wrk(salida: str) -> Resultado:
    """Parse `wrk --latency` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", salida)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", salida)
    if not total or not rps:
        raise RuntimeError(f"unexpected wrk output:\n{salida}")
    p50 = re.search(r"^\s+50%\s+(\S+)", salida, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", salida, re.M)
    no2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", salida)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", salida
    )
    # Sync gunicorn workers close every connection: wrk counts the close as a read "error"
    # after a complete response, so only connect/write/timeout errors are failed requests.
    errores = 0
    if sock:
        errores = int(sock.group(1)) + int(sock.group(3)) + int(sock.group(4))
    return Resultado(
        herramienta="wrk",
        peticiones=int(total.group(1)),
        segundos=_a_ms(total.group(2) + total.group(3)) / 1000.0,
        rps=float(rps.group(1)),
        # With no completed request wrk still prints a distribution of zeros.
        p50_ms=_a_ms(p50.group(1)) if p50 and int(total.group(1)) else None,
        p99_ms=_a_ms(p99.group(1)) if p99 and int(total.group(1)) else None,
        no_2xx_3xx=int(no2xx.group(1)) if no2xx else 0,
        errores_socket=errores,
    )


def ejecutar(
    herramienta: str,
    receta: Receta,
    *,
    base: str,
    segundos: float,
    conexiones: int,
    hilos: int = 2,
    env: dict[str, str],
    logs: Path,
) -> Resultado:
    """Drive `receta` against `base` for `segundos` from a separate process."""
    plazo = segundos + 60
    if herramienta == "wrk":
        with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=logs, delete=False) as f:
            f.write(script_lua(receta))
            script = f.name
        cmd = [
            "wrk",
            f"-t{hilos}",
            f"-c{conexiones}",
            f"-d{max(round(segundos), 1)}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            script,
            base,
        ]
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=logs, delete=False) as f:
            json.dump(asdict(receta), f)
            script = f.name
        cmd = [
            sys.executable,
            "-m",
            "bench.cliente",
            "--base",
            base,
            "--receta",
            script,
            "--segundos",
            str(segundos),
            "--conexiones",
            str(conexiones),
            "--procesos",
            str(hilos),
        ]
    salida_log = logs / f"carga-{receta.prefijo}.out"
    with salida_log.open("wb") as out:
        proc = lanzar(cmd, env=env, stdout=out.fileno())
        try:
            proc.wait(timeout=plazo)
        finally:
            terminar(proc)
    texto = salida_log.read_text(errors="replace")
    if herramienta == "wrk":
        return analizar_wrk(texto)
    try:
        datos = json.loads(texto.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"unexpected client output:\n{texto}") from None
    return Resultado(herramienta="python", **datos)


__all__ = [
    "RAIZ",
    "USER_AGENT",
    "Receta",
    "Resultado",
    "analizar_wrk",
    "ejecutar",
    "herramienta_disponible",
    "script_lua",
    "version_wrk",
]
