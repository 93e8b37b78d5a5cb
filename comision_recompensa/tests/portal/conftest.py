"""Fixtures of the portal tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def confirmado(django_capture_on_commit_callbacks):
    """Run a call and then its transaction's on-commit work (the e-mail send queued after
    commit), as a real request would: `confirmado(client.post, url, datos)`."""

    def ejecutar(funcion, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return funcion(*args, **kwargs)

    return ejecutar
