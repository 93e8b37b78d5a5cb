"""Admin registrations, one module per feature."""

from . import atribucion, pagos  # noqa: F401
