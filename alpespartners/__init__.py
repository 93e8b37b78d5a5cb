"""Alpes Partners project package: settings, URL routing, the Celery app and API glue."""

from .celery import app as celery_app

__all__ = ["celery_app"]
