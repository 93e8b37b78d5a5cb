""" "Why was I paid this?" — a commission's or reward's `detalle_atribucion` in readable form.

`credito_explicar` returns one sentence (`texto`) plus the structured data behind it. It reads
the attribution engine's `detalle_atribucion`, expected as (PRODUCT.md §3):

    {
      "metodo": "publicacion" | "codigo_referido" | "click_id" | "visitante_id",
      "modelo": "posicional", "ventana_dias": 30,
      "touchpoints": [{"evento_id", "tipo", "ocurrido_en" (ISO), "socio_id", "peso",
                       "credito", "propio"}, …],
      "credito": "0.400000",
      "regla": {"id", "tipo_evento", "modalidad", "valor", "moneda", "tope"} | null,
      "asociacion": {"id", "tipo", "vigencia_inicio", "vigencia_fin", "dias_retencion"} | null,
      "calculo": {"base", "total_regla", "tope_aplicado", "total"}, "motivo", "nota",
    }

(the engine's format, services/atribucion.py)

and is lenient: missing keys fall back to the credit's own columns (credito, monto, moneda, regla,
asociacion, the marca's model and window), so older or partial details still explain something.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comision_recompensa.models import Comision, EstadoCredito, Modalidad, Recompensa

_ORDINALES = {1: "1st", 2: "2nd", 3: "3rd"}
_ALIAS_ORIGEN = {
    "publicacion": "publicacion",
    "codigo_referido": "codigo_referido",
    "codigo": "codigo_referido",
    "click_id": "click_id",
    "click": "click_id",
    "touchpoints": "visitante_id",
    "visitante": "visitante_id",
    "visitante_id": "visitante_id",
}


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
    if isinstance(valor, dt.datetime):
        return valor
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


def _touchpoints(detalle: dict[str, Any], socio_id: str) -> list[dict[str, Any]]:
    crudos = detalle.get("touchpoints") or []
    if not isinstance(crudos, list):
        return []
    lista: list[dict[str, Any]] = []
    for crudo in crudos:
        if not isinstance(crudo, dict):
            continue
        momento = _fecha(crudo.get("ocurrido_en"))
        peso = _dec(crudo.get("peso"))
        parte = _dec(crudo.get("credito"))
        socio = str(crudo.get("socio_id") or "")
        propio = crudo.get("propio")
        lista.append(
            {
                "evento_id": crudo.get("evento_id") or crudo.get("id"),
                "tipo": crudo.get("tipo", "click"),
                "ocurrido_en": momento.isoformat() if momento else crudo.get("ocurrido_en"),
                "socio_id": socio or None,
                "peso": str(peso) if peso is not None else None,
                "credito": str(parte) if parte is not None else None,
                "propio": propio if isinstance(propio, bool) else socio == socio_id,
                "_momento": momento,
            }
        )
    lista.sort(key=lambda t: (t["_momento"] is None, t["_momento"] or dt.datetime.min))
    for i, t in enumerate(lista, start=1):
        t["posicion"] = i
        del t["_momento"]
    return lista


def _regla(detalle: dict[str, Any], credito: Comision | Recompensa) -> dict[str, Any] | None:
    regla = detalle.get("regla")
    if isinstance(regla, dict) and regla:
        return {
            "id": regla.get("id"),
            "tipo_evento": regla.get("tipo_evento"),
            "modalidad": regla.get("modalidad"),
            "valor": regla.get("valor"),
            "moneda": regla.get("moneda"),
            "tope": regla.get("tope"),
        }
    if credito.regla_id and credito.regla is not None:
        r = credito.regla
        return {
            "id": str(r.pk),
            "tipo_evento": r.tipo_evento,
            "modalidad": r.modalidad,
            "valor": str(r.valor),
            "moneda": r.moneda,
            "tope": str(r.tope) if r.tope is not None else None,
        }
    return None


def _asociacion(detalle: dict[str, Any], credito: Comision | Recompensa) -> dict[str, Any] | None:
    asociacion = detalle.get("asociacion")
    if isinstance(asociacion, dict) and asociacion:
        return asociacion
    if isinstance(asociacion, str):
        return {"id": asociacion}
    if credito.asociacion_id and credito.asociacion is not None:
        a = credito.asociacion
        return {
            "id": str(a.pk),
            "tipo": a.tipo,
            "vigencia_inicio": a.vigencia_inicio.isoformat(),
            "vigencia_fin": a.vigencia_fin.isoformat() if a.vigencia_fin else None,
            "dias_retencion": a.dias_retencion,
        }
    return None


def _frase_origen(
    origen: str, tps: list[dict[str, Any]], modelo: str, ventana: Any, tipo_evento: str
) -> str:
    if origen == "publicacion":
        return f"the {tipo_evento} named {{tu}} publicacion, which takes 100%"
    if origen == "codigo_referido":
        return f"the {tipo_evento} carried {{tu}} referral code, which takes 100%"
    if origen == "click_id":
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


def _frase_regla(
    regla: dict[str, Any] | None,
    asociacion: dict[str, Any] | None,
    *,
    detalle: dict[str, Any],
    valor_evento: Decimal | None,
    credito: Decimal,
    monto: Decimal,
    moneda: str,
    tipo_evento: str,
    marca: str,
) -> str:
    if asociacion is None:
        return f"there was no active agreement with {marca} at that time, so nothing is owed"
    if regla is None:
        return f"the agreement has no rule for {tipo_evento} events, so nothing is owed"
    valor = _dec(regla.get("valor"))
    tope = _dec(regla.get("tope"))
    moneda_regla = str(regla.get("moneda") or moneda)
    calculo = detalle.get("calculo") if isinstance(detalle.get("calculo"), dict) else {}
    assert isinstance(calculo, dict)
    if regla.get("modalidad") == Modalidad.PORCENTAJE:
        base = f"rule: {_porcentaje((valor or Decimal(0)) / 100)}% of the sale"
        bruto = (
            (valor_evento * valor / 100).quantize(Decimal("0.01"))
            if valor_evento is not None and valor is not None
            else None
        )
    else:
        base = f"rule: {_dinero(valor, moneda_regla)} per {tipo_evento}"
        bruto = valor
    total = _dec(calculo.get("total"))
    if total is None and bruto is not None:
        total = min(bruto, tope) if tope is not None else bruto
    if tope is not None:
        aplicado = calculo.get("tope_aplicado")
        if aplicado is None and bruto is not None:
            aplicado = bruto > tope
        base += f", capped at {_dinero(tope, moneda_regla)}{' (cap reached)' if aplicado else ''}"
    if total is not None and credito != 1:
        parte = _porcentaje(credito)
        base += f": {_dinero(total, moneda_regla)} for the whole {tipo_evento} × {parte}%"
    frase = f"{base} → {_dinero(monto, moneda)}"
    motivo = detalle.get("motivo")
    nota = detalle.get("nota")
    if motivo and motivo != "pagado" and isinstance(nota, str) and nota:
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


def credito_explicar(
    *, credito: Comision | Recompensa, segunda_persona: bool = False
) -> dict[str, Any]:
    """Explain a Comision or Recompensa: `texto` (one readable paragraph) and the structured data
    (`metodo`, `modelo`, `ventana_dias`, `touchpoints` with `propio`/`posicion`/`peso`, `regla`,
    `asociacion`, `evento`, `credito`, `monto`, `moneda`, `estado`, and the raw `detalle`).

    `segunda_persona=True` writes "You earned…" (for the partner itself); otherwise the
    partner is named. Pure read: needs `evento`, `evento.marca`, `socio`, `regla`, `asociacion`
    (select_related them for lists).
    """
    detalle = credito.detalle_atribucion if isinstance(credito.detalle_atribucion, dict) else {}
    evento = credito.evento
    marca = evento.marca
    socio_id = str(credito.socio_id)
    tps = _touchpoints(detalle, socio_id)
    origen_crudo = str(detalle.get("metodo") or detalle.get("origen") or "")
    origen = _ALIAS_ORIGEN.get(origen_crudo, origen_crudo) or ("visitante_id" if tps else "")
    modelo = str(detalle.get("modelo") or (marca.modelo_atribucion if marca else "") or "")
    ventana = detalle.get("ventana_dias", detalle.get("ventana"))
    if ventana is None and marca is not None and origen == "visitante_id":
        ventana = marca.ventana_atribucion_dias
    fraccion = credito.credito if credito.credito is not None else Decimal(0)
    regla = _regla(detalle, credito)
    asociacion = _asociacion(detalle, credito)
    moneda = credito.moneda or (regla or {}).get("moneda") or evento.moneda or ""

    sujeto = "You" if segunda_persona else credito.socio.nombre
    posesivo = "your" if segunda_persona else "their"
    valor_txt = f" of {_dinero(evento.valor, evento.moneda)}" if evento.valor is not None else ""
    marca_txt = f" for {marca.nombre}" if marca is not None else ""
    cabecera = (
        f"{sujeto} earned {_porcentaje(fraccion)}% of this {evento.tipo}{valor_txt}{marca_txt}"
    )
    if origen == "visitante_id" and modelo:
        cabecera += f" under the '{modelo}' model"
    frase_origen = _frase_origen(origen, tps, modelo, ventana, evento.tipo) if origen else ""
    frase_origen = frase_origen.replace("{tu}", posesivo)
    frase_regla = _frase_regla(
        regla,
        asociacion,
        detalle=detalle,
        valor_evento=evento.valor,
        credito=fraccion,
        monto=credito.monto,
        moneda=moneda,
        tipo_evento=evento.tipo,
        marca=marca.nombre if marca else "the brand",
    )
    texto = (
        f"{cabecera}: {frase_origen}; {frase_regla}."
        if frase_origen
        else (f"{cabecera}; {frase_regla}.")
    )
    texto = f"{texto[0].upper()}{texto[1:]} {_frase_estado(credito, asociacion)}"

    return {
        "texto": texto,
        "tipo_credito": "comision" if isinstance(credito, Comision) else "recompensa",
        "credito_id": str(credito.pk),
        "socio": {"id": socio_id, "nombre": credito.socio.nombre},
        "evento": {
            "id": str(evento.pk),
            "tipo": evento.tipo,
            "ocurrido_en": evento.ocurrido_en.isoformat(),
            "valor": str(evento.valor) if evento.valor is not None else None,
            "moneda": evento.moneda or None,
            "marca": {"id": str(marca.pk), "nombre": marca.nombre} if marca else None,
        },
        "metodo": origen or None,
        "modelo": modelo or None,
        "ventana_dias": ventana,
        "touchpoints": tps,
        "credito": str(fraccion),
        "monto": str(credito.monto),
        "moneda": moneda or None,
        "estado": credito.estado,
        "regla": regla,
        "asociacion": asociacion,
        "detalle": detalle,
    }
