"""Fixtures of the demo shop's browser tests."""

from __future__ import annotations

import io
from pathlib import Path

import django.contrib.admin
import pytest
from django.core.cache import cache
from django.core.management import call_command

from recommendations import serving


@pytest.fixture
def trained_demo_shop(settings, tmp_path, live_server):
    """``build(users, events, products)``: the demo's own generated data at that size, trained with
    the engines the demo serves (hybrid and its parts), behind a live server; returns its URL."""
    settings.MEDIA_ROOT = tmp_path
    settings.STATIC_ROOT = str(Path(django.contrib.admin.__file__).parent / "static")  # admin CSS
    cache.clear()
    serving.active_models.clear()

    def build(*, users: int, events: int, products: int) -> str:
        call_command("generate_demo_data", "--users", str(users), "--events", str(events),
                     "--products", str(products), stdout=io.StringIO(), stderr=io.StringIO())
        call_command("recommendations_train", "--sync", "--engine", "popular", "--engine", "trending",
                     "--engine", "item_cf", "--engine", "content", "--engine", "hybrid", stdout=io.StringIO())
        return live_server.url

    yield build
    serving.active_models.clear()
