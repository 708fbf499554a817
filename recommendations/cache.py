"""A Redis cache backend that keeps its Redis client: Django's ``RedisCache`` builds a new
``redis.Redis`` object for every cache call (a few hundred Python calls in redis-py 5+, about as
much CPU as the rest of a bare cached DRF endpoint), and a signed-in request makes at least two
calls (the session, the list). The client is thread-safe (its connection pool hands each
command a connection), so one per pool serves the whole process.

    CACHES = {"default": {"BACKEND": "recommendations.cache.RedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/1"}}

Everything else (options, serializer, several servers) is Django's; see docs/deployment.md.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class PersistentRedisCacheClient(RedisCacheClient):
    """Django's client wrapper, building each connection pool's ``redis.Redis`` once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._pools.get(index)
            if pool is None:
                pool = self._pools.setdefault(index, self._pool_class.from_url(self._servers[index],
                                                                               **self._pool_options))
            client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with a persistent Redis client."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PersistentRedisCacheClient
