"""Throttling, CSRF and authentication guards for the API."""

from __future__ import annotations

import base64
import binascii
import logging

from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from .. import limits
from ..serving import Shopper
from .authentication import refuse_if_locked

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
        return limits.rate(self.scope)

    def parse_rate(self, rate):
        return limits.parse_rate(rate) or (None, None)  # also "5/15m"


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
    """Checks HTTP Basic credentials (where a host enables Basic) before DRF's Basic
    authentication looks the user up: refuses a NUL byte (PostgreSQL cannot store or compare
    such text, and the lookup would fail with a server error), and answers 429 while the account
    or the client's address is locked after failed passwords (:mod:`recommendations.passwords`),
    whichever Basic authentication class the host uses."""

    authentication_classes = None  # the host's DEFAULT_AUTHENTICATION_CLASSES, read per request

    def authentication_classes_in_use(self) -> list[type]:
        classes = self.authentication_classes
        return api_settings.DEFAULT_AUTHENTICATION_CLASSES if classes is None else classes

    def get_authenticators(self):
        return [auth() for auth in self.authentication_classes_in_use()]

    def initial(self, request, *args, **kwargs):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""  # DRF answers malformed credentials itself
            if b"\x00" in decoded:
                raise exceptions.AuthenticationFailed(_("Invalid username/password."))
            if decoded and any(isinstance(a, BasicAuthentication) for a in request.authenticators):
                refuse_if_locked(request, decoded.partition(b":")[0].decode("utf-8", "replace"))
        super().initial(request, *args, **kwargs)


class ReadRateThrottle(BaseThrottle):
    """Reads (GET, HEAD, OPTIONS) per shopper (``recommendations.reads``: user, else session,
    else client address) and per client address (``recommendations.reads.address``, which also
    holds a client that drops its cookies), in one cache round trip each way. Rates from
    ``RECOMMENDATIONS["THROTTLE_RATES"]``; a scope without a rate is not limited. If the cache is
    unreachable, reads are let through (and logged)."""

    shopper_scope = "recommendations.reads"
    address_scope = "recommendations.reads.address"

    def allow_request(self, request, view, shopper: Shopper | None = None) -> bool:
        """``shopper``: the request's, where the caller has it already (the kept-list fast path)."""
        self._wait = None
        if request.method not in SAFE_METHODS or not (limits.rate(self.shopper_scope)
                                                      or limits.rate(self.address_scope)):
            return True  # nothing to count (the shopper and the address cost a visible share)
        address = limits.client_address(request)
        shopper = Shopper.from_request(request) if shopper is None else shopper
        who = shopper.data_key if shopper.known else f"address:{address}"
        try:
            refused = limits.hit([limits.limit(self.shopper_scope, who), limits.limit(self.address_scope, address)],
                                 unless_full=True)
        except Exception as exc:  # noqa: BLE001  (cache down)
            logger.warning("recommendations: throttle cache unavailable, read allowed: %s", exc)
            return True
        if refused is None:
            return True
        self._wait = refused[1]
        return False

    def wait(self) -> int | None:
        return self._wait
