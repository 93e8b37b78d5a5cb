"""Fixtures for the cross-process tests under tests/: real server, Celery worker, Redis."""

from tests.procesos import (  # noqa: F401 - fixtures and the report hook are used by name
    entorno_procesos,
    pytest_runtest_makereport,
    redis_desechable,
    servidor_vivo,
    worker_celery,
)
