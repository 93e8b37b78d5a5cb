"""Domain errors raised by services; the API layer turns them into 4xx responses."""

from __future__ import annotations

from typing import Any


class ErrorDominio(Exception):
    """A rule of the domain was broken by the input. Maps to HTTP 400.

    `campo` names the offending field (None for the whole request); `codigo` is a stable
    machine-readable code.
    """

    status_code = 400

    def __init__(
        self,
        mensaje: str,
        *,
        campo: str | None = None,
        codigo: str = "invalid",
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje
        self.campo = campo
        self.codigo = codigo
        self.extra = extra or {}


class ErrorValidacion(ErrorDominio):
    """Several fields are wrong at once: `errores` maps field (or batch index) to messages."""

    def __init__(self, errores: dict[str, Any], mensaje: str = "Invalid input.") -> None:
        super().__init__(mensaje, codigo="invalid")
        self.errores = errores


class Conflicto(ErrorDominio):
    """The request conflicts with stored state (duplicate key, illegal transition). HTTP 409."""

    status_code = 409

    def __init__(
        self,
        mensaje: str,
        *,
        campo: str | None = None,
        codigo: str = "conflict",
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(mensaje, campo=campo, codigo=codigo, extra=extra)


class NoEncontrado(ErrorDominio):
    """A referenced object does not exist or is not visible to the caller. HTTP 404."""

    status_code = 404


class Prohibido(ErrorDominio):
    """The caller may not perform this action. HTTP 403."""

    status_code = 403
