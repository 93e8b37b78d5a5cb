"""Fallback load generator when wrk is not installed: asyncio HTTP/1.1 over raw sockets.

`python -m bench.cliente --base URL --receta FILE.json --segundos S --conexiones C --procesos P`
runs P processes with C/P connections each, sends the recipe's requests back to back (reopening
the connection when the server closes it) and prints one JSON line with the totals and the
p50/p99 latency. It is slower than wrk (Python CPU competes with the server), so the benchmark
prints which tool it used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import time
from typing import Any
from urllib.parse import urlsplit


def _evento(id_: str, marca: str) -> str:
    return (
        f'{{"id":"{id_}","tipo":"conversion","marca":"{marca}","visitante_id":"v-{id_}",'
        f'"valor":"49.90","moneda":"USD","metadata":{{"canal":"bench","campania":"flash"}}}}'
    )


class _Generador:
    def __init__(self, receta: dict[str, Any], semilla: int) -> None:
        self.r = receta
        self.semilla = semilla
        self.contador = 0
        self.rnd = random.Random(semilla)

    def _id(self) -> str:
        self.contador += 1
        return f"{self.r['prefijo']}-{self.semilla:04x}-4000-8000-{self.contador:012x}"

    def peticion(self, host: str) -> bytes:
        r = self.r
        ruta = r["rutas"][self.contador % len(r["rutas"])]
        cuerpo = b""
        if r["cuerpo"] == "evento":
            cuerpo = _evento(self._id(), r["marca"]).encode()
        elif r["cuerpo"] == "lote":
            partes = [_evento(self._id(), r["marca"]) for _ in range(r["lote"])]
            cuerpo = ('{"eventos":[' + ",".join(partes) + "]}").encode()
        else:
            self.contador += 1
        lineas = [f"{r['metodo']} {ruta} HTTP/1.1", f"Host: {host}"]
        lineas += [f"{k}: {v}" for k, v in r["cabeceras"].items()]
        if r["ip_aleatoria"]:
            a, b, c = self.rnd.randint(0, 255), self.rnd.randint(0, 255), self.rnd.randint(1, 254)
            ip = f"10.{a}.{b}.{c}"
            lineas.append(f"X-Forwarded-For: {ip}")
        if cuerpo:
            lineas.append(f"Content-Length: {len(cuerpo)}")
        return ("\r\n".join(lineas) + "\r\n\r\n").encode() + cuerpo


async def _conexion(
    host: str, puerto: int, gen: _Generador, fin: float, lat: list[float], cuenta: dict[str, int]
) -> None:
    lector: asyncio.StreamReader | None = None
    escritor: asyncio.StreamWriter | None = None
    while time.monotonic() < fin:
        try:
            if escritor is None:
                lector, escritor = await asyncio.open_connection(host, puerto)
            assert lector is not None
            datos = gen.peticion(f"{host}:{puerto}")
            t0 = time.perf_counter()
            escritor.write(datos)
            await escritor.drain()
            cabecera = await lector.readuntil(b"\r\n\r\n")
            estado = int(cabecera.split(b" ", 2)[1])
            largo = 0
            cerrar = False
            for linea in cabecera.split(b"\r\n")[1:]:
                nombre, _, valor = linea.partition(b":")
                n = nombre.strip().lower()
                if n == b"content-length":
                    largo = int(valor.strip())
                elif n == b"connection" and valor.strip().lower() == b"close":
                    cerrar = True
            if largo:
                await lector.readexactly(largo)
            lat.append((time.perf_counter() - t0) * 1000.0)
            cuenta["peticiones"] += 1
            if not 200 <= estado < 400:
                cuenta["no_2xx_3xx"] += 1
            if cerrar:
                escritor.close()
                escritor = None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            cuenta["errores_socket"] += 1
            if escritor is not None:
                escritor.close()
            escritor = None


def _proceso(args: tuple[str, int, dict[str, Any], float, int, int]) -> dict[str, Any]:
    host, puerto, receta, segundos, conexiones, semilla = args
    lat: list[float] = []
    cuenta = {"peticiones": 0, "no_2xx_3xx": 0, "errores_socket": 0}

    async def todo() -> None:
        fin = time.monotonic() + segundos
        await asyncio.gather(
            *(
                _conexion(host, puerto, _Generador(receta, semilla * 1000 + i), fin, lat, cuenta)
                for i in range(conexiones)
            )
        )

    asyncio.run(todo())
    return {"lat": lat, **cuenta}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--receta", required=True)
    p.add_argument("--segundos", type=float, default=5.0)
    p.add_argument("--conexiones", type=int, default=32)
    p.add_argument("--procesos", type=int, default=2)
    a = p.parse_args()
    with open(a.receta) as f:
        receta = json.load(f)
    url = urlsplit(a.base)
    host, puerto = url.hostname or "127.0.0.1", url.port or 80
    por_proceso = max(a.conexiones // a.procesos, 1)
    t0 = time.monotonic()
    with multiprocessing.Pool(a.procesos) as pool:
        partes = pool.map(
            _proceso,
            [(host, puerto, receta, a.segundos, por_proceso, i + 1) for i in range(a.procesos)],
        )
    segundos = time.monotonic() - t0
    lat = sorted(x for parte in partes for x in parte["lat"])
    peticiones = sum(parte["peticiones"] for parte in partes)

    def pct(q: float) -> float | None:
        return round(lat[min(int(q * len(lat)), len(lat) - 1)], 3) if lat else None

    print(
        json.dumps(
            {
                "peticiones": peticiones,
                "segundos": round(segundos, 3),
                "rps": round(peticiones / a.segundos, 2),
                "p50_ms": pct(0.50),
                "p99_ms": pct(0.99),
                "no_2xx_3xx": sum(parte["no_2xx_3xx"] for parte in partes),
                "errores_socket": sum(parte["errores_socket"] for parte in partes),
            }
        )
    )


if __name__ == "__main__":
    main()
