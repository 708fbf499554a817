"""Rate limits kept in the app's cache (``RECOMMENDATIONS["CACHE_ALIAS"]``): per key, the times
of the latest hits in a sliding window, as DRF's throttles keep them, with all the keys of one
request read in one round trip and written in one more. The API's read throttle and the
password guard (:mod:`recommendations.passwords`) use them.

Rates come from ``RECOMMENDATIONS["THROTTLE_RATES"]``, where ``REST_FRAMEWORK
["DEFAULT_THROTTLE_RATES"]`` entries of the same scope win; a scope without a rate (or ``None``)
has no limit. A rate is ``"<count>/<period>"``, the period s, m, h or d, optionally with a
number of them: ``"120/min"``, ``"5/15m"``, ``"20/h"``.

Like DRF's throttles, two requests at the same moment may both read the window before either
writes it: a limit can be passed by the number of concurrent requests, never by more.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from .conf import app_settings

#: The clock of every window (tests stand it still).
clock = time.time

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"5/15m"`` -> ``(5, 900)``: how many hits per how many seconds; None: no limit."""
    if not rate:
        return None
    match = _RATE.match(str(rate))
    if match is None:
        raise ImproperlyConfigured(f"Invalid rate {rate!r}: use '<count>/<period>', e.g. '120/min' or '5/15m'.")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNIT_SECONDS[unit.lower()]


def rate(scope: str) -> str | None:
    from rest_framework.settings import api_settings

    rates = {**(app_settings.THROTTLE_RATES or {}), **(api_settings.DEFAULT_THROTTLE_RATES or {})}
    return rates.get(scope)


@dataclass(frozen=True)
class Limit:
    scope: str
    who: str  # the account, shopper or address, as logs show it
    count: int
    seconds: int

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.who.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"recommendations:limit:{self.scope}:{digest}"


def limit(scope: str, who: str) -> Limit | None:
    """The limit of ``scope`` for ``who``; None when the scope has no rate."""
    parsed = parse_rate(rate(scope))
    return Limit(scope, who, *parsed) if parsed else None


def _cache():
    return caches[app_settings.CACHE_ALIAS]


def _windows(limits: list[Limit], now: float) -> dict[Limit, list[float]]:
    stored = _cache().get_many([lim.key for lim in limits])
    return {lim: [t for t in stored.get(lim.key) or () if t > now - lim.seconds] for lim in limits}


def _wait(lim: Limit, window: list[float], now: float) -> int | None:
    """Whole seconds until ``window`` has room for one more hit; None when it has room now."""
    excess = len(window) - lim.count + 1
    if excess <= 0:
        return None
    oldest_to_go = sorted(window)[excess - 1]
    return max(1, math.ceil(oldest_to_go + lim.seconds - now))


def refusal(limits: list[Limit | None]) -> tuple[Limit, int] | None:
    """The first full limit and the seconds until it has room, without counting a hit."""
    limits = [lim for lim in limits if lim is not None]
    if not limits:
        return None
    now = clock()
    for lim, window in _windows(limits, now).items():
        wait = _wait(lim, window, now)
        if wait is not None:
            return lim, wait
    return None


def hit(limits: list[Limit | None], *, unless_full: bool = False) -> tuple[Limit, int] | None:
    """Count a hit in every limit. With ``unless_full``, a request that finds one of them full
    is refused instead (returned as in :func:`refusal`) and counts nowhere."""
    limits = [lim for lim in limits if lim is not None]
    if not limits:
        return None
    now = clock()
    windows = _windows(limits, now)
    if unless_full:
        for lim, window in windows.items():
            wait = _wait(lim, window, now)
            if wait is not None:
                return lim, wait
    _cache().set_many({lim.key: [*window, now][-lim.count:] for lim, window in windows.items()},
                      timeout=max(lim.seconds for lim in limits))
    return None


def forget(limits: list[Limit | None]) -> None:
    """Empty these windows (e.g. an account's failed passwords once it signs in)."""
    keys = [lim.key for lim in limits if lim is not None]
    if keys:
        _cache().delete_many(keys)


def client_address(request: Any) -> str:
    """The client's address: ``REMOTE_ADDR``, or with ``REST_FRAMEWORK["NUM_PROXIES"]`` set (behind
    that many proxies) the address those proxies put in ``X-Forwarded-For``. Unlike DRF's own
    throttles, a client's ``X-Forwarded-For`` is never trusted when NUM_PROXIES is unset: anyone
    could send a new one with every guess."""
    from rest_framework.settings import api_settings

    meta = request.META
    remote = meta.get("REMOTE_ADDR", "")
    proxies = api_settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote
