"""`manage.py drf_create_token <username>`: issue a new API key for a user and print it once.

The name operators know from Django REST framework's authtoken, kept (PRODUCT.md §8); the key is
ours (`eventos_medios.services.tokens`): stored only as a hash, so each run issues a new key and
the user's previous key stops working. `-r/--reset` is accepted for compatibility (every run
resets).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from alpespartners.comandos import ComandoOperador
from eventos_medios.services.tokens import token_emitir


class Command(ComandoOperador):
    help = (
        "Issue a new API key for USERNAME and print it. This is the only time the key is\n"
        "shown: only its hash is stored. The user's previous key stops working at once, so run\n"
        "it to rotate a leaked key too. Keys look like `ap_…`; send them as\n"
        "`Authorization: Token <key>`."
    )
    ejemplos = """
  # a key for the brand's API login (the previous one stops working)
  python manage.py drf_create_token alpes-outdoor
"""
    con_progreso = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", type=str, help="The login that will own the key.")
        parser.add_argument(
            "-r",
            "--reset",
            action="store_true",
            dest="reset_token",
            help="Accepted for compatibility: every run issues a new key.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        modelo = get_user_model()
        try:
            usuario = modelo._default_manager.get_by_natural_key(username)
        except modelo.DoesNotExist:
            raise CommandError(f"Cannot create the Token: user {username} does not exist") from None
        clave = token_emitir(usuario=usuario)
        self.stdout.write(f"Generated token {clave} for user {username}")
