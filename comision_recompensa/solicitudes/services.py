"""Applications (PRODUCT.md §12): receive one from the public form, approve or reject it.

- `solicitud_recibir` stores the application and the "application received" e-mail in one
  transaction; a second application of the same e-mail to the same programme while the first
  is pending adds nothing (the unique constraint decides, races included).
- `solicitud_aprobar` does everything in one transaction, or nothing: the conditional UPDATE
  `pendiente → aprobada` (so a second approval, even a concurrent one, is a Conflicto), the
  login (its password unusable until the partner sets one), the socio, its main medio, the
  agreement from the marca's default terms (`asociaciones.terminos`), its preferences and the
  invitation e-mail with a one-time link (`invitacion.py`). An e-mail that already belongs to
  a login is a Conflicto naming it.
- `solicitud_rechazar`: `pendiente → rechazada` with a reason, and the rejection e-mail.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alpespartners.errors import Conflicto, ErrorValidacion
from comision_recompensa.asociaciones.terminos import asociacion_desde_terminos
from comision_recompensa.correos.contenido import url_portal
from comision_recompensa.correos.services import correo_encolar, preferencias_guardar
from comision_recompensa.models import EstadoSolicitud, Solicitud, TipoCorreo
from comision_recompensa.solicitudes.invitacion import generador_invitacion, uid_de
from eventos_medios.models import Marca, Socio
from eventos_medios.services.catalogo import medio_crear, socio_crear

__all__ = ["solicitud_aprobar", "solicitud_rechazar", "solicitud_recibir"]

_LARGO_USERNAME = 150


def solicitud_recibir(
    *,
    marca: Marca,
    nombre: str,
    email: str,
    tipo_socio: str,
    medio_plataforma: str,
    medio_url: str = "",
    mensaje: str = "",
    acepta_terminos: bool,
    idioma: str,
    ip_hash: str = "",
) -> Solicitud | None:
    """Store an application and its "received" e-mail. None when the same e-mail already has a
    pending application to this marca (nothing is written)."""
    if not acepta_terminos:
        raise ErrorValidacion({"acepta_terminos": ["The programme's terms must be accepted."]})
    solicitud = Solicitud(
        marca=marca,
        nombre=nombre.strip(),
        email=email.strip().lower(),
        tipo_socio=tipo_socio,
        medio_plataforma=medio_plataforma,
        medio_url=medio_url,
        mensaje=mensaje.strip(),
        acepta_terminos=True,
        idioma=idioma,
        ip_hash=ip_hash,
    )
    try:
        with transaction.atomic():
            solicitud.save()
            correo_encolar(
                tipo=TipoCorreo.SOLICITUD_RECIBIDA,
                destinatario=solicitud.email,
                idioma=idioma,
                contexto={"nombre": solicitud.nombre, "marca": marca.nombre},
                clave_idempotencia=f"solicitud_recibida:{solicitud.pk}",
            )
    except IntegrityError:
        if Solicitud.objects.filter(
            marca=marca, email=solicitud.email, estado=EstadoSolicitud.PENDIENTE
        ).exists():
            return None
        raise
    return solicitud


def _resolver(solicitud_id: uuid.UUID, estado: str, por: Any, **extra: Any) -> Solicitud:
    """The conditional UPDATE `pendiente → estado`; Conflicto when it was resolved already."""
    cambiadas = Solicitud.objects.filter(pk=solicitud_id, estado=EstadoSolicitud.PENDIENTE).update(
        estado=estado,
        resuelta_en=timezone.now(),
        resuelta_por=por if getattr(por, "pk", None) else None,
        **extra,
    )
    if cambiadas != 1:
        raise Conflicto("This application was already approved or rejected.", campo="estado")
    return Solicitud.objects.select_related("marca").get(pk=solicitud_id)


def _login_nuevo(email: str) -> Any:
    """A login for `email` (its username), with an unusable password until the partner sets
    one through the invitation. Conflicto when a login already uses that e-mail."""
    modelo = get_user_model()
    if len(email) > _LARGO_USERNAME:
        raise Conflicto(f"The e-mail {email} is too long for a username.", campo="email")
    if modelo.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise Conflicto(
            f"The e-mail {email} already belongs to a user: link that user to a socio by hand, "
            "or reject this application.",
            campo="email",
        )
    usuario = modelo(username=email, email=email)
    usuario.set_unusable_password()
    usuario.save()
    return usuario


def _socio_de(solicitud: Solicitud, usuario: Any) -> Socio:
    socio = socio_crear(
        nombre=solicitud.nombre, tipo=solicitud.tipo_socio, email=solicitud.email, usuario=usuario
    )
    medio_crear(
        socio=socio,
        plataforma=solicitud.medio_plataforma,
        nombre=solicitud.nombre,
        url=solicitud.medio_url,
    )
    return socio


@transaction.atomic
def solicitud_aprobar(*, solicitud_id: uuid.UUID, por: Any = None) -> Solicitud:
    """Approve a pending application: login, socio, medio, agreement from the marca's default
    terms and the invitation e-mail, in one transaction. Conflicto when it is not pending,
    when its e-mail belongs to a login, or when the marca has no default terms."""
    solicitud = _resolver(solicitud_id, EstadoSolicitud.APROBADA, por)
    usuario = _login_nuevo(solicitud.email)
    socio = _socio_de(solicitud, usuario)
    asociacion_desde_terminos(
        marca=solicitud.marca, socio=socio, desde=timezone.now().date(), por=por
    )
    preferencias_guardar(socio_id=socio.pk, idioma=solicitud.idioma)
    Solicitud.objects.filter(pk=solicitud.pk).update(socio=socio)
    solicitud.socio = socio
    enlace = url_portal(
        "portal:invitacion", uidb64=uid_de(usuario), token=generador_invitacion.make_token(usuario)
    )
    correo_encolar(
        tipo=TipoCorreo.INVITACION,
        destinatario=solicitud.email,
        idioma=solicitud.idioma,
        contexto={
            "nombre": solicitud.nombre,
            "marca": solicitud.marca.nombre,
            "usuario": usuario.get_username(),
            "url_invitacion": enlace,
            "validez_dias": settings.INVITACION_VALIDEZ_DIAS,
        },
        clave_idempotencia=f"invitacion:{solicitud.pk}",
        socio_id=socio.pk,
    )
    return solicitud


@transaction.atomic
def solicitud_rechazar(*, solicitud_id: uuid.UUID, motivo: str = "", por: Any = None) -> Solicitud:
    """Reject a pending application; `motivo` goes to the applicant in the e-mail. Conflicto
    when it is not pending."""
    motivo = motivo.strip()[:500]
    solicitud = _resolver(solicitud_id, EstadoSolicitud.RECHAZADA, por, motivo_rechazo=motivo)
    correo_encolar(
        tipo=TipoCorreo.SOLICITUD_RECHAZADA,
        destinatario=solicitud.email,
        idioma=solicitud.idioma,
        contexto={"nombre": solicitud.nombre, "marca": solicitud.marca.nombre, "motivo": motivo},
        clave_idempotencia=f"solicitud_rechazada:{solicitud.pk}",
    )
    return solicitud
