"""The one-time link of the invitation e-mail: set your first password.

A `PasswordResetTokenGenerator` with its own salt (an invitation token is no password-reset
token, and the reverse) and its own validity (`INVITACION_VALIDEZ_DIAS`). Like a reset token it
hashes the user's password and last login, so it stops working once the password is set."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode


class GeneradorInvitacion(PasswordResetTokenGenerator):
    key_salt = "comision_recompensa.solicitudes.invitacion"

    def check_token(self, user: Any, token: str | None) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secreto), token)
            for secreto in [self.secret, *self.secret_fallbacks]
        ):
            return False
        validez = int(settings.INVITACION_VALIDEZ_DIAS) * 24 * 3600
        return (self._num_seconds(self._now()) - ts) <= validez


generador_invitacion = GeneradorInvitacion()


def uid_de(usuario: Any) -> str:
    """The user id as the link carries it (base64, as Django's password reset)."""
    return urlsafe_base64_encode(force_bytes(usuario.pk))
