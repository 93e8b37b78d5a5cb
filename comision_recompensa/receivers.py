"""Receivers of eventos_medios' signals: queue attribution once the events are committed."""
