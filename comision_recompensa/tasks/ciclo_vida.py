"""Lifecycle tasks (approval after the hold period)."""

__all__: list[str] = []
