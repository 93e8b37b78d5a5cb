"""The Redis cache's serializer: no pickle, ever (PRODUCT.md §8).

Django's default Redis serializer pickles every value that is not an int and unpickles what it
reads back: whoever can write to Redis could then run code in every web worker and Celery
worker that reads a cache key. This one stores ints as digits, text and bytes as bytes, and
anything else as JSON; it reads back ints, or the raw bytes for the caller to decode (the
project's cache users store strings or JSON documents of ids and decode them themselves).
A value that is not JSON-serialisable is refused when written, so nothing can sneak in a
pickle by accident.
"""

from __future__ import annotations

from typing import Any

import orjson


class SerializadorSinPickle:
    """`dumps`/`loads` for django.core.cache.backends.redis.RedisCache without pickle."""

    def dumps(self, obj: Any) -> int | bytes:
        if type(obj) is int:
            return obj
        if isinstance(obj, bytes):
            return obj
        if isinstance(obj, str):
            return obj.encode("utf-8")
        return orjson.dumps(obj)

    def loads(self, data: Any) -> int | bytes:
        try:
            return int(data)
        except ValueError:
            return bytes(data)
