"""URL routes (filled in by the feature that owns this module)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
