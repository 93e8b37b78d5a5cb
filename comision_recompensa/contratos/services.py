"""Contract versions of an agreement and their acceptance by the partner (PRODUCT.md §9).

    draft ──contrato_publicar──► published (immutable; new text = new version)
    published & in force ──contrato_aceptar (the agreement's partner)──► AceptacionContrato

Staff write a version as a draft (one per agreement at a time), preview it and publish it.
Publishing and the compliance check of a Pago both lock the agreement's row (`FOR NO KEY
UPDATE`: foreign-key inserts such as new credits are not blocked), so a check sees a version
either entirely before or entirely after it was published.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from alpespartners.errors import Conflicto, ErrorDominio, ErrorValidacion, NoEncontrado, Prohibido
from alpespartners.senales import enviar_en_transaccion
from comision_recompensa import signals
from comision_recompensa.contratos.selectors import contrato_vigente, hoy, texto_hash
from comision_recompensa.models import AceptacionContrato, AsociacionEstrategica, Contrato

logger = logging.getLogger(__name__)

MAX_TEXTO = 100_000


def contrato_validar(*, texto: object, vigente_desde: object) -> dict[str, list[str]]:
    """Errors per field of a version's text and start date (empty: valid)."""
    errores: dict[str, list[str]] = {}
    if not isinstance(texto, str) or not texto.strip():
        errores["texto"] = ["is required."]
    elif len(texto) > MAX_TEXTO:
        errores["texto"] = [f"must be at most {MAX_TEXTO} characters."]
    if not isinstance(vigente_desde, dt.date) or isinstance(vigente_desde, dt.datetime):
        errores["vigente_desde"] = ["must be a date (YYYY-MM-DD)."]
    return errores


def _bloquear_asociacion(asociacion_id: uuid.UUID) -> AsociacionEstrategica:
    asociacion = (
        AsociacionEstrategica.objects.select_for_update(no_key=True)
        .filter(pk=asociacion_id)
        .first()
    )
    if asociacion is None:
        raise NoEncontrado("Agreement not found.", campo="asociacion")
    return asociacion


def contrato_crear(
    *, asociacion_id: uuid.UUID, texto: str, vigente_desde: dt.date, por: int | None
) -> Contrato:
    """A new draft version of the agreement's contract (the next version number). Raises
    `ErrorValidacion` for an empty text or a bad date and `Conflicto` when the agreement
    already has a draft (edit or publish that one first)."""
    errores = contrato_validar(texto=texto, vigente_desde=vigente_desde)
    if errores:
        raise ErrorValidacion(errores)
    with transaction.atomic():
        _bloquear_asociacion(asociacion_id)
        versiones = Contrato.objects.filter(asociacion_id=asociacion_id)
        if versiones.filter(publicado_en__isnull=True).exists():
            raise Conflicto(
                "This agreement already has a draft contract: edit or publish it first.",
                codigo="borrador_existente",
            )
        ultima = versiones.aggregate(m=Max("version"))["m"] or 0
        return Contrato.objects.create(
            asociacion_id=asociacion_id,
            version=ultima + 1,
            texto=texto,
            hash_texto=texto_hash(texto),
            vigente_desde=vigente_desde,
            creado_por_id=por,
        )


def contrato_editar(*, contrato: Contrato, texto: str, vigente_desde: dt.date) -> Contrato:
    """Change a draft. A published version never changes (`Conflicto`): write a new one."""
    errores = contrato_validar(texto=texto, vigente_desde=vigente_desde)
    if errores:
        raise ErrorValidacion(errores)
    with transaction.atomic():
        cambiadas = Contrato.objects.filter(pk=contrato.pk, publicado_en__isnull=True).update(
            texto=texto,
            hash_texto=texto_hash(texto),
            vigente_desde=vigente_desde,
            actualizado_en=timezone.now(),
        )
        if cambiadas != 1:
            raise Conflicto(
                "A published contract version cannot change: create a new version.",
                codigo="contrato_publicado",
            )
    contrato.refresh_from_db()
    return contrato


def contrato_borrar_borrador(*, contrato: Contrato) -> None:
    """Discard a draft (`Conflicto` for a published version)."""
    borrados, _ = Contrato.objects.filter(pk=contrato.pk, publicado_en__isnull=True).delete()
    if not borrados:
        raise Conflicto(
            "A published contract version cannot be deleted.", codigo="contrato_publicado"
        )


def contrato_publicar(*, contrato_id: uuid.UUID, por: int | None, origen: str) -> Contrato:
    """Publish a draft: from then on it is immutable, partners see it, and once its
    `vigente_desde` comes it is the version their Pagos are checked against. Its start date may
    not be before the previous published version's. Raises `Conflicto` if it is already
    published. Sends `contrato_publicado` inside the transaction."""
    with transaction.atomic():
        asociacion_id = (
            Contrato.objects.filter(pk=contrato_id).values_list("asociacion_id", flat=True).first()
        )
        if asociacion_id is None:
            raise NoEncontrado("Contract not found.", campo="contrato")
        _bloquear_asociacion(asociacion_id)
        contrato = Contrato.objects.get(pk=contrato_id)
        if contrato.publicado_en is not None:
            raise Conflicto(
                f"Version {contrato.version} is already published.", codigo="contrato_publicado"
            )
        anterior = (
            Contrato.objects.filter(asociacion_id=asociacion_id, publicado_en__isnull=False)
            .order_by("-version")
            .first()
        )
        if anterior is not None and contrato.vigente_desde < anterior.vigente_desde:
            raise ErrorDominio(
                f"must not be before version {anterior.version}'s ({anterior.vigente_desde}).",
                campo="vigente_desde",
            )
        contrato.publicado_en = timezone.now()
        contrato.publicado_por_id = por
        contrato.hash_texto = texto_hash(contrato.texto)
        contrato.save(
            update_fields=["publicado_en", "publicado_por", "hash_texto", "actualizado_en"]
        )
        enviar_en_transaccion(
            signals.contrato_publicado,
            sender=Contrato,
            contrato_id=contrato.pk,
            asociacion_id=asociacion_id,
            version=contrato.version,
            vigente_desde=contrato.vigente_desde,
            por=por,
            origen=origen,
        )
    logger.info(
        "Contract v%s of agreement %s published by %s", contrato.version, asociacion_id, por
    )
    return contrato


def contrato_publicar_version(
    *,
    asociacion_id: uuid.UUID,
    texto: str,
    vigente_desde: dt.date | None = None,
    por: int | None,
    origen: str,
) -> Contrato:
    """Create and publish a new version in one step (in force from `vigente_desde`, today by
    default). See `contrato_crear` and `contrato_publicar`."""
    with transaction.atomic():
        borrador = contrato_crear(
            asociacion_id=asociacion_id, texto=texto, vigente_desde=vigente_desde or hoy(), por=por
        )
        return contrato_publicar(contrato_id=borrador.pk, por=por, origen=origen)


def _exigir_aceptable(contrato: Contrato, socio_id: uuid.UUID | None) -> None:
    """Only the agreement's partner accepts, and only the version in force or a later one."""
    if socio_id is None or socio_id != contrato.asociacion.socio_id:
        raise Prohibido(
            "Only the partner of this agreement can accept its contract, with its own token.",
            codigo="solo_el_socio",
        )
    if contrato.publicado_en is None:
        raise NoEncontrado("Contract not found.", codigo="not_found")
    vigente = contrato_vigente(asociacion_id=contrato.asociacion_id)
    if vigente is not None and contrato.version < vigente.version:
        raise Conflicto(
            f"Version {contrato.version} was superseded by version {vigente.version} "
            f"({vigente.id}); accept that one.",
            codigo="contrato_sustituido",
            extra={"contrato_vigente": {"id": str(vigente.id), "version": vigente.version}},
        )


def contrato_aceptar(
    *, contrato_id: uuid.UUID, socio_id: uuid.UUID | None, usuario_id: int | None, ip_hash: str
) -> tuple[AceptacionContrato, bool]:
    """The partner accepts a contract version (the one in force, or a published later one).

    Keeps who (socio, usuario), when, the salted hash of the caller's IP and the SHA-256 of the
    text accepted. Idempotent: accepting again returns the existing acceptance (created=False).
    Raises `Prohibido` when the caller is not the agreement's partner (a brand or staff token
    never accepts on a partner's behalf), `NoEncontrado` for an unknown or draft version and
    `Conflicto` for a superseded one (naming the version in force). Sends `contrato_aceptado`
    inside the transaction. Returns (acceptance, created)."""
    contrato = Contrato.objects.select_related("asociacion").filter(pk=contrato_id).first()
    if contrato is None:
        raise NoEncontrado("Contract not found.", codigo="not_found")
    _exigir_aceptable(contrato, socio_id)
    socio_id = contrato.asociacion.socio_id  # the caller's, checked above
    existente = AceptacionContrato.objects.filter(contrato=contrato, socio_id=socio_id).first()
    if existente is not None:
        return existente, False
    with transaction.atomic():
        try:
            with transaction.atomic():
                aceptacion = AceptacionContrato.objects.create(
                    contrato=contrato,
                    socio_id=socio_id,
                    usuario_id=usuario_id,
                    ip_hash=ip_hash,
                    hash_texto=texto_hash(contrato.texto),
                )
        except IntegrityError:
            # A concurrent acceptance of the same version won: that one is the acceptance.
            return AceptacionContrato.objects.get(contrato=contrato, socio_id=socio_id), False
        enviar_en_transaccion(
            signals.contrato_aceptado,
            sender=AceptacionContrato,
            contrato_id=contrato.pk,
            aceptacion_id=aceptacion.pk,
            socio_id=socio_id,
            asociacion_id=contrato.asociacion_id,
            version=contrato.version,
            por=usuario_id,
        )
    logger.info("Contract v%s accepted by socio %s", contrato.version, socio_id)
    return aceptacion, True
