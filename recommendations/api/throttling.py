"""Throttling, CSRF and authentication guards for the API."""

from __future__ import annotations

import base64
import binascii
import logging

from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from ..conf import app_settings

logger = logging.getLogger(__name__)


class WriteRateThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` for writes only (reads are never throttled by it), with rates from
    ``RECOMMENDATIONS["THROTTLE_RATES"]``, overridden per scope by
    ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``; a scope without a rate is not throttled.
    Shoppers are told apart by user, else client IP (DRF's ``NUM_PROXIES`` applies). The
    counters live in the cache: if it is unreachable, writes are let through (and logged) rather
    than lost, as capture never depends on the cache."""

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001  (cache down)
            logger.warning("recommendations: throttle cache unavailable, request allowed: %s", exc)
            return True

    def get_rate(self):
        rates = {**(app_settings.THROTTLE_RATES or {}), **(api_settings.DEFAULT_THROTTLE_RATES or {})}
        return rates.get(self.scope)


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


class CsrfForSessionShoppersMixin:
    """DRF's ``SessionAuthentication`` checks CSRF only for signed-in users. Anonymous shoppers
    are identified by their session cookie too, so their writes need the CSRF token as well
    (send the ``X-CSRFToken`` header). Clients authenticated otherwise (token, basic) are exempt."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS and request.successful_authenticator is None:
            check = _CSRFCheck(lambda req: None)
            check.process_request(request)
            reason = check.process_view(request, None, (), {})
            if reason:
                raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")


class SafeAuthenticationMixin:
    """Refuses HTTP Basic credentials containing a NUL byte before DRF's Basic authentication
    looks the user up: PostgreSQL cannot store or compare such text, and the lookup would fail
    with a server error."""

    def initial(self, request, *args, **kwargs):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""  # DRF answers malformed credentials itself
            if b"\x00" in decoded:
                raise exceptions.AuthenticationFailed("Invalid username/password.")
        super().initial(request, *args, **kwargs)
