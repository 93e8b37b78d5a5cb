"""Writes of the e-mail outbox and of the partners' e-mail preferences.

`correo_encolar` writes one `CorreoSaliente` row in the caller's transaction (a savepoint when
there is one, its own transaction otherwise), so an e-mail about a change is stored atomically
with it; the row's `clave_idempotencia` makes a second call for the same fact a no-op. Once the
row is committed `correo_encolado` queues the fast-path send (`correos.receivers`); the periodic
sweep sends whatever that missed (`correos.envio`).

Optional e-mails (`TIPOS_CORREO_OPCIONALES`: commission approved, payout sent) respect the
partner's `PreferenciasSocio` and carry a one-click unsubscribe link; the others always go.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alpespartners.errors import Conflicto
from alpespartners.senales import enviar_al_confirmar
from comision_recompensa import signals
from comision_recompensa.correos.baja import baja_firmar, baja_leer
from comision_recompensa.correos.contenido import correo_componer, url_absoluta
from comision_recompensa.models import (
    TIPOS_CORREO_OPCIONALES,
    CorreoSaliente,
    EstadoCorreo,
    Idioma,
    PreferenciasSocio,
    TipoCorreo,
)
from eventos_medios.models import Socio

__all__ = [
    "baja_aplicar",
    "correo_a_socio",
    "correo_encolar",
    "correo_reintentar",
    "preferencias_de",
    "preferencias_guardar",
]

# Which preference switches each optional e-mail off.
_PREFERENCIA_DE_TIPO = {
    TipoCorreo.CREDITO_APROBADO: "correo_creditos",
    TipoCorreo.PAGO_ENVIADO: "correo_pagos",
}


def correo_encolar(
    *,
    tipo: str,
    destinatario: str,
    idioma: str,
    contexto: dict[str, Any],
    clave_idempotencia: str,
    socio_id: uuid.UUID | None = None,
    cabeceras: dict[str, str] | None = None,
) -> CorreoSaliente | None:
    """Render the e-mail of `tipo` in `idioma` and store it in the outbox, in the current
    transaction. Returns the new row, or None when `clave_idempotencia` was already used (the
    e-mail exists: nothing is written)."""
    clave_idempotencia = clave_idempotencia[:200]
    if CorreoSaliente.objects.filter(clave_idempotencia=clave_idempotencia).exists():
        return None  # the common repeat (a day's second approval): no rendering, no insert
    contenido = correo_componer(tipo=tipo, idioma=idioma, contexto=contexto)
    correo = CorreoSaliente(
        id=uuid.uuid4(),
        tipo=tipo,
        destinatario=destinatario,
        asunto=contenido.asunto,
        cuerpo_texto=contenido.texto,
        cuerpo_html=contenido.html,
        cabeceras=cabeceras or {},
        idioma=idioma,
        socio_id=socio_id,
        clave_idempotencia=clave_idempotencia,
        creado_en=timezone.now(),
        proximo_intento_en=timezone.now(),
    )
    with transaction.atomic():
        # ON CONFLICT DO NOTHING: never an IntegrityError that would break the caller's
        # transaction when the same fact is told twice.
        CorreoSaliente.objects.bulk_create([correo], ignore_conflicts=True)
        guardado = (
            CorreoSaliente.objects.filter(clave_idempotencia=correo.clave_idempotencia)
            .values_list("id", flat=True)
            .first()
        )
    if guardado != correo.id:
        return None
    enviar_al_confirmar(signals.correo_encolado, sender=CorreoSaliente, correo_id=correo.id)
    return correo


def preferencias_de(*, socio_id: uuid.UUID) -> PreferenciasSocio:
    """The partner's preferences (defaults, unsaved, when it never changed them)."""
    return PreferenciasSocio.objects.filter(socio_id=socio_id).first() or PreferenciasSocio(
        socio_id=socio_id
    )


def preferencias_guardar(
    *,
    socio_id: uuid.UUID,
    idioma: str | None = None,
    correo_creditos: bool | None = None,
    correo_pagos: bool | None = None,
) -> PreferenciasSocio:
    """Change some of the partner's preferences (None leaves a value as it is)."""
    cambios: dict[str, Any] = {}
    if idioma is not None:
        if idioma not in Idioma.values:
            raise Conflicto(f"Unknown language {idioma!r}.", campo="idioma")
        cambios["idioma"] = idioma
    if correo_creditos is not None:
        cambios["correo_creditos"] = correo_creditos
    if correo_pagos is not None:
        cambios["correo_pagos"] = correo_pagos
    preferencias, _ = PreferenciasSocio.objects.update_or_create(
        socio_id=socio_id, defaults=cambios
    )
    return preferencias


def baja_aplicar(*, token: str) -> tuple[uuid.UUID, str] | None:
    """Unsubscribe from what a one-click link names; (socio_id, tipo), or None when the token is
    not valid. Idempotent."""
    leido = baja_leer(token)
    if leido is None or not Socio.objects.filter(pk=leido[0]).exists():
        return None
    socio_id, tipo = leido
    campo = _PREFERENCIA_DE_TIPO[TipoCorreo(tipo)]
    PreferenciasSocio.objects.update_or_create(socio_id=socio_id, defaults={campo: False})
    return leido


def _destino(socio: Socio) -> str:
    usuario = socio.usuario
    return socio.email or (usuario.email if usuario is not None else "")


def correo_a_socio(
    *, tipo: str, socio_id: uuid.UUID, contexto: dict[str, Any], clave_idempotencia: str
) -> CorreoSaliente | None:
    """`correo_encolar` for a partner: to its e-mail (or its login's), in its language; an
    optional e-mail it unsubscribed from is not written (None), nor one to a partner without
    an address."""
    socio = Socio.objects.select_related("usuario").filter(pk=socio_id).first()
    if socio is None:
        return None
    preferencias = preferencias_de(socio_id=socio_id)
    campo = _PREFERENCIA_DE_TIPO.get(TipoCorreo(tipo))
    destinatario = _destino(socio)
    if not destinatario or (campo is not None and not getattr(preferencias, campo)):
        return None
    cabeceras: dict[str, str] = {}
    datos = {"socio": socio, **contexto}
    if tipo in TIPOS_CORREO_OPCIONALES:
        token = baja_firmar(socio_id=socio_id, tipo=tipo)
        url_baja = url_absoluta(reverse("portal:baja", kwargs={"token": token}))
        datos["url_baja"] = url_baja
        cabeceras = {
            "List-Unsubscribe": f"<{url_baja}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return correo_encolar(
        tipo=tipo,
        destinatario=destinatario,
        idioma=preferencias.idioma,
        contexto=datos,
        clave_idempotencia=clave_idempotencia,
        socio_id=socio_id,
        cabeceras=cabeceras,
    )


def correo_reintentar(*, correo: CorreoSaliente) -> CorreoSaliente:
    """Put a dead letter (`fallido`) back in the outbox with its attempts reset (staff).
    Conflicto for any other state."""
    ahora = timezone.now()
    with transaction.atomic():
        cambiadas = CorreoSaliente.objects.filter(pk=correo.pk, estado=EstadoCorreo.FALLIDO).update(
            estado=EstadoCorreo.PENDIENTE,
            intentos=0,
            proximo_intento_en=ahora,
            actualizado_en=ahora,
        )
        if cambiadas != 1:
            raise Conflicto("Only a failed (dead-letter) e-mail can be retried.", campo="estado")
        enviar_al_confirmar(signals.correo_encolado, sender=CorreoSaliente, correo_id=correo.pk)
    correo.refresh_from_db()
    return correo
