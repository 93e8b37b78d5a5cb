""" "Why was I paid this?" — a commission's or reward's `detalle_atribucion` in readable form.

`credito_explicar` returns one sentence (`texto`) plus the structured data behind it. It reads
`detalle_atribucion` as `detalle.DetalleAtribucion` defines it (written by the engine and by
the legacy endpoint through `detalle.detalle_construir`), and nothing else: no aliases, no
guessing from other columns. A key a stored detail lacks reads as empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comision_recompensa.atribucion.detalle import Metodo, Motivo
from comision_recompensa.models import Comision, EstadoCredito, Modalidad, Recompensa

_ORDINALES = {1: "1st", 2: "2nd", 3: "3rd"}


def _dec(valor: Any) -> Decimal | None:
    if valor is None or isinstance(valor, bool):
        return None
    try:
        numero = Decimal(str(valor))
    except (InvalidOperation, ValueError):
        return None
    return numero if numero.is_finite() else None


def _dinero(valor: Decimal | None, moneda: str) -> str:
    if valor is None:
        return "?"
    return f"{valor.quantize(Decimal('0.01'))} {moneda}".strip()


def _porcentaje(fraccion: Decimal) -> str:
    texto = f"{(fraccion * 100).quantize(Decimal('0.01'))}"
    return texto.rstrip("0").rstrip(".") if "." in texto else texto


def _fecha(valor: Any) -> dt.datetime | None:
    if isinstance(valor, str):
        try:
            return parse_datetime(valor)
        except ValueError:
            return None
    return None


def _momento(valor: dt.datetime | None) -> str:
    if valor is None:
        return "an unknown time"
    if timezone.is_aware(valor):
        valor = valor.astimezone(dt.UTC)
    return valor.strftime("%Y-%m-%d %H:%M UTC")


def _ordinal(n: int, total: int) -> str:
    if n == 1:
        return "first"
    if n == total:
        return "last"
    return _ORDINALES.get(n, f"{n}th")


def _touchpoints(detalle: dict[str, Any]) -> list[dict[str, Any]]:
    """The detail's touchpoints in time order, each with its `posicion` (1-based)."""
    lista: list[dict[str, Any]] = []
    for crudo in detalle.get("touchpoints") or []:
        momento = _fecha(crudo.get("ocurrido_en"))
        peso, parte = _dec(crudo.get("peso")), _dec(crudo.get("credito"))
        lista.append(
            {
                "evento_id": crudo.get("evento_id"),
                "tipo": crudo.get("tipo"),
                "ocurrido_en": momento.isoformat() if momento else crudo.get("ocurrido_en"),
                "socio_id": crudo.get("socio_id") or None,
                "peso": str(peso) if peso is not None else None,
                "credito": str(parte) if parte is not None else None,
                "propio": bool(crudo.get("propio")),
                "_momento": momento,
            }
        )
    lista.sort(key=lambda t: (t["_momento"] is None, t["_momento"] or dt.datetime.min))
    for i, t in enumerate(lista, start=1):
        t["posicion"] = i
        del t["_momento"]
    return lista


def _frase_origen(
    origen: str, tps: list[dict[str, Any]], modelo: str, ventana: Any, tipo_evento: str
) -> str:
    if origen == Metodo.PUBLICACION:
        return f"the {tipo_evento} named {{tu}} publicacion, which takes 100%"
    if origen == Metodo.CODIGO_REFERIDO:
        return f"the {tipo_evento} carried {{tu}} referral code, which takes 100%"
    if origen == Metodo.CLICK_ID:
        propio = next((t for t in tps if t["propio"]), None)
        cuando = f" at {_momento(_fecha(propio['ocurrido_en']))}" if propio else ""
        return f"the {tipo_evento} followed {{tu}} click{cuando}, which takes 100%"
    propios = [t for t in tps if t["propio"]]
    ventana_txt = f" in the {ventana}-day window" if ventana else ""
    if not propios:
        return f"{len(tps)} touchpoints{ventana_txt} were split under the '{modelo}' model"
    partes = [
        f"{t['tipo']} at {_momento(_fecha(t['ocurrido_en']))} ({_ordinal(t['posicion'], len(tps))})"
        for t in propios
    ]
    if len(propios) == 1:
        return (
            f"{{tu}} {propios[0]['tipo']} at {_momento(_fecha(propios[0]['ocurrido_en']))} was "
            f"the {_ordinal(propios[0]['posicion'], len(tps))} of {len(tps)} "
            f"touchpoint{'s' if len(tps) != 1 else ''}{ventana_txt}"
        )
    return (
        f"{{tu}} touchpoints ({', '.join(partes)}) were {len(propios)} of {len(tps)}"
        f"{ventana_txt}; a partner's credit is the sum of its touchpoints'"
    )


@dataclass(frozen=True)
class _Importe:
    """What the sentence about the rule needs."""

    participacion: Decimal
    monto: Decimal
    moneda: str
    tipo_evento: str
    marca: str


def _frase_regla(detalle: dict[str, Any], importe: _Importe) -> str:
    regla, asociacion = detalle.get("regla"), detalle.get("asociacion")
    if detalle.get("motivo") == Motivo.MANUAL:
        return f"the amount was entered by hand → {_dinero(importe.monto, importe.moneda)}"
    if asociacion is None:
        marca = importe.marca
        return f"there was no active agreement with {marca} at that time, so nothing is owed"
    if regla is None:
        return f"the agreement has no rule for {importe.tipo_evento} events, so nothing is owed"
    valor, tope = _dec(regla.get("valor")), _dec(regla.get("tope"))
    moneda_regla = str(regla.get("moneda") or importe.moneda)
    calculo = detalle.get("calculo") or {}
    if regla.get("modalidad") == Modalidad.PORCENTAJE:
        base = f"rule: {_porcentaje((valor or Decimal(0)) / 100)}% of the sale"
    else:
        base = f"rule: {_dinero(valor, moneda_regla)} per {importe.tipo_evento}"
    if tope is not None:
        aplicado = " (cap reached)" if calculo.get("tope_aplicado") else ""
        base += f", capped at {_dinero(tope, moneda_regla)}{aplicado}"
    total = _dec(calculo.get("total"))
    if total is not None and importe.participacion != 1:
        parte = _porcentaje(importe.participacion)
        base += f": {_dinero(total, moneda_regla)} for the whole {importe.tipo_evento} × {parte}%"
    frase = f"{base} → {_dinero(importe.monto, importe.moneda)}"
    motivo, nota = detalle.get("motivo"), detalle.get("nota")
    if motivo and motivo != Motivo.PAGADO and nota:
        frase += f" ({nota.rstrip('.')})"
    return frase


def _frase_estado(credito: Comision | Recompensa, asociacion: dict[str, Any] | None) -> str:
    if credito.estado == EstadoCredito.PENDIENTE:
        dias = (asociacion or {}).get("dias_retencion")
        if isinstance(dias, int):
            fecha = (credito.evento.ocurrido_en + dt.timedelta(days=dias)).date()
            return f"Status: pending; approved after the {dias}-day hold, from {fecha.isoformat()}."
        return "Status: pending approval."
    if credito.estado == EstadoCredito.APROBADA:
        return "Status: approved, waiting for the next payout."
    if credito.estado == EstadoCredito.PAGADA:
        return "Status: paid."
    motivo = f": {credito.motivo_reversion}" if credito.motivo_reversion else ""
    return f"Status: reversed{motivo}."


def _texto(
    credito: Comision | Recompensa,
    detalle: dict[str, Any],
    tps: list[dict[str, Any]],
    *,
    moneda: str,
    segunda_persona: bool,
) -> str:
    """The explanation as one paragraph."""
    evento, marca = credito.evento, credito.evento.marca
    metodo, modelo = detalle.get("metodo") or "", detalle.get("modelo") or ""
    sujeto = "You" if segunda_persona else credito.socio.nombre
    valor_txt = f" of {_dinero(evento.valor, evento.moneda)}" if evento.valor is not None else ""
    marca_txt = f" for {marca.nombre}" if marca is not None else ""
    cabecera = (
        f"{sujeto} earned {_porcentaje(credito.participacion)}% of this {evento.tipo}"
        f"{valor_txt}{marca_txt}"
    )
    if metodo == Metodo.VISITANTE_ID and modelo:
        cabecera += f" under the '{modelo}' model"
    origen = _frase_origen(metodo, tps, modelo, detalle.get("ventana_dias"), evento.tipo)
    origen = origen.replace("{tu}", "your" if segunda_persona else "their")
    regla = _frase_regla(
        detalle,
        _Importe(
            participacion=credito.participacion,
            monto=credito.monto,
            moneda=moneda,
            tipo_evento=evento.tipo,
            marca=marca.nombre if marca else "the brand",
        ),
    )
    conocido = metodo in {
        Metodo.PUBLICACION,
        Metodo.CODIGO_REFERIDO,
        Metodo.CLICK_ID,
        Metodo.VISITANTE_ID,
    }
    texto = f"{cabecera}: {origen}; {regla}." if conocido else f"{cabecera}; {regla}."
    return f"{texto[0].upper()}{texto[1:]} {_frase_estado(credito, detalle.get('asociacion'))}"


def credito_explicar(
    *, credito: Comision | Recompensa, segunda_persona: bool = False
) -> dict[str, Any]:
    """Explain a Comision or Recompensa: `texto` (one readable paragraph) and the structured data
    (`metodo`, `modelo`, `ventana_dias`, `touchpoints` with `propio`/`posicion`/`peso`, `regla`,
    `asociacion`, `evento`, `credito`, `monto`, `moneda`, `estado`, and the raw `detalle`).

    `segunda_persona=True` writes "You earned…" (for the partner itself); otherwise the
    partner is named. Pure read: needs `evento`, `evento.marca` and `socio` (select_related
    them for lists).
    """
    detalle = credito.detalle_atribucion if isinstance(credito.detalle_atribucion, dict) else {}
    evento, marca = credito.evento, credito.evento.marca
    tps = _touchpoints(detalle)
    regla = detalle.get("regla")
    moneda = credito.moneda or (regla or {}).get("moneda") or evento.moneda or ""
    texto = _texto(credito, detalle, tps, moneda=moneda, segunda_persona=segunda_persona)
    return {
        "texto": texto,
        "tipo_credito": "comision" if isinstance(credito, Comision) else "recompensa",
        "credito_id": str(credito.pk),
        "socio": {"id": str(credito.socio_id), "nombre": credito.socio.nombre},
        "evento": {
            "id": str(evento.pk),
            "tipo": evento.tipo,
            "ocurrido_en": evento.ocurrido_en.isoformat(),
            "valor": str(evento.valor) if evento.valor is not None else None,
            "moneda": evento.moneda or None,
            "marca": {"id": str(marca.pk), "nombre": marca.nombre} if marca else None,
        },
        "metodo": detalle.get("metodo") or None,
        "modelo": detalle.get("modelo") or None,
        "ventana_dias": detalle.get("ventana_dias"),
        "touchpoints": tps,
        "credito": str(credito.participacion),
        "monto": str(credito.monto),
        "moneda": moneda or None,
        "estado": credito.estado,
        "regla": regla,
        "asociacion": detalle.get("asociacion"),
        "detalle": detalle,
    }


def credito_explicar_para(*, credito: Comision | Recompensa, alcance: Any) -> dict[str, Any]:
    """The explanation of `credito` as the caller with `alcance` may read it: the one function
    behind the API's `explicacion` action and the partner portal's credit page, so both show
    the same (the partner itself reads it in the second person). The caller has already
    checked that `credito` is in its scope."""
    return credito_explicar(
        credito=credito, segunda_persona=getattr(alcance, "socio_id", None) == credito.socio_id
    )
