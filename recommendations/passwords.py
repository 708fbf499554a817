"""Password guessing, refused.

Every failed password check sends Django's ``user_login_failed``: the log-in form, the admin's,
DRF's Basic authentication and the token view all call ``authenticate()``. Each failure is
counted per account and per client address (``RECOMMENDATIONS["THROTTLE_RATES"]``:
``recommendations.login.account``, default ``"5/15m"``, and ``recommendations.login.address``,
default ``"20/h"``). Once either window is full, password checks for that account, or from that
address, are refused with HTTP 429 and ``Retry-After`` before the password is even hashed, the
right password included; each refusal is logged (logger ``recommendations.passwords``). Signing
in empties the account's window.

What checks passwords has to ask :func:`refusal` first:

* Django views: wrap them with :func:`refuse_password_guesses` (the demo wraps its log-in page
  and the admin's);
* the API: :class:`recommendations.api.authentication.ThrottledBasicAuthentication` (and the
  app's own API views refuse locked Basic credentials whichever Basic class a host enables),
  :class:`recommendations.api.authentication.ObtainTokenView`.

A locked-out account can be locked by anyone who knows its name, for the window's length: the
price of refusing guesses per account. The address limit is what stops a spray of one password
over many accounts. If the cache is unreachable, checks are let through (and logged).
"""

from __future__ import annotations

import functools
import logging
import math
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import ngettext

from . import limits

logger = logging.getLogger(__name__)
ACCOUNT_SCOPE = "recommendations.login.account"
ADDRESS_SCOPE = "recommendations.login.address"


def _limits(request: Any, username: str) -> list[limits.Limit | None]:
    account = limits.limit(ACCOUNT_SCOPE, str(username).strip().casefold())
    address = limits.limit(ADDRESS_SCOPE, limits.client_address(request)) if request is not None else None
    return [account, address]


def refusal(request: Any, username: str) -> int | None:
    """Seconds to wait before a password for ``username`` may be checked from this client, or
    None when it may be checked now. A refusal is logged."""
    try:
        refused = limits.refusal(_limits(request, username))
    except Exception as exc:  # noqa: BLE001  (cache down: guessing is not refused meanwhile)
        logger.warning("recommendations: password guard unavailable, check allowed: %s", exc)
        return None
    if refused is None:
        return None
    lim, wait = refused
    address = limits.client_address(request) if request is not None else "?"
    logger.warning("recommendations: password check refused for account %r from %s (%s full; retry after %d s)",
                   username, address, lim.scope, wait)
    return wait


def record_failure(request: Any, username: str) -> None:
    try:
        limits.hit(_limits(request, username))
    except Exception as exc:  # noqa: BLE001
        logger.warning("recommendations: password guard unavailable, failure not counted: %s", exc)


def forget_failures(username: str) -> None:
    try:
        limits.forget([limits.limit(ACCOUNT_SCOPE, str(username).strip().casefold())])
    except Exception as exc:  # noqa: BLE001
        logger.warning("recommendations: password guard unavailable: %s", exc)


def username_of(credentials: dict[str, Any]) -> str:
    """The account named in ``authenticate()``'s credentials (``user_login_failed`` sends them)."""
    field = get_user_model().USERNAME_FIELD
    return str(credentials.get(field) or credentials.get("username") or "")


def too_many_attempts(request: HttpRequest, wait: int) -> HttpResponse:
    """The 429 page (``recommendations/too_many_attempts.html``, overridable)."""
    minutes = max(1, math.ceil(wait / 60))
    message = ngettext("Too many failed sign-in attempts. Please try again in %(n)d minute.",
                       "Too many failed sign-in attempts. Please try again in %(n)d minutes.", minutes) % {"n": minutes}
    html = render_to_string("recommendations/too_many_attempts.html", {"message": message, "wait": wait},
                            request=request)
    return HttpResponse(html, status=429, headers={"Retry-After": str(wait)})


def refuse_password_guesses(view, *, username_field: str = "username"):
    """Wrap a Django view that checks a posted password (a log-in view): while the account or
    the address is locked, it answers 429 instead, without checking the password."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs):
        if request.method == "POST":
            wait = refusal(request, request.POST.get(username_field, ""))
            if wait is not None:
                return too_many_attempts(request, wait)
        return view(request, *args, **kwargs)

    return guarded
