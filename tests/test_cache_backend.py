"""``recommendations.cache.RedisCache``: Django's Redis cache with one Redis client per process,
against the real Redis (docs/deployment.md recommends it)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from recommendations.cache import RedisCache

LOCATION = "redis://127.0.0.1:6379/9"


@pytest.fixture
def backend():
    prefix = f"test-cache-{uuid.uuid4().hex}"
    cache = RedisCache(LOCATION, {"KEY_PREFIX": prefix})
    written: list[str] = []
    yield cache, written
    cache.delete_many(written)


def test_it_caches_as_djangos_backend_does(backend):
    cache, written = backend
    written += ["list", "token", "gone"]
    cache.set("list", [{"product_id": 1, "score": 0.5}], 60)
    cache.set("token", "abc", None)
    assert cache.get_many(["list", "token", "missing"]) == {"list": [{"product_id": 1, "score": 0.5}], "token": "abc"}
    assert cache.add("gone", 1) and not cache.add("gone", 2)
    cache.delete("gone")
    assert cache.get("gone") is None


def test_one_redis_client_serves_every_call(backend):
    cache, written = backend
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    django = DjangoRedisCache(LOCATION, {})
    assert django._cache.get_client() is not django._cache.get_client()  # what it saves


def test_threads_share_the_client_safely(backend):
    cache, written = backend
    keys = [f"k{i}" for i in range(8)]
    written += keys
    wrong: list[str] = []

    def work(key: str) -> None:
        for round_ in range(200):
            cache.set(key, (key, round_), 60)
            if cache.get(key) != (key, round_):
                wrong.append(key)

    threads = [threading.Thread(target=work, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
