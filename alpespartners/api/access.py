"""Kept for imports that predate `alpespartners.alcance`, the one module of access scope."""

from alpespartners.alcance import SIN_ALCANCE, Alcance, alcance_de

__all__ = ["SIN_ALCANCE", "Alcance", "alcance_de"]
