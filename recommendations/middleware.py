"""The app's middleware; both are optional.

``RefuseUnstorableInputMiddleware``: a 400 for a request whose path, query string or form
fields hold a NUL character.

PostgreSQL cannot store or compare text with a NUL byte: a search, a filter or a form that
passes one on to a query ends in a server error, in the shop's own views as much as in the
admin's. The app's API refuses NUL in its own parameters and bodies (a 400 naming the field);
this middleware does the same for every other view of a shop. Add it to ``MIDDLEWARE`` (the demo
shop does)::

    MIDDLEWARE = [..., "recommendations.middleware.RefuseUnstorableInputMiddleware", ...]

``KeptListsMiddleware``: a kept recommendation list answered where this middleware stands in
``MIDDLEWARE``, so that the middleware below it does not run for that request (docs/deployment.md).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from .api.views import kept_list_response


def _holds_nul(data) -> str | None:
    """The name of the first field whose name or values hold a NUL character."""
    for key, values in data.lists():
        if "\x00" in key or any("\x00" in value for value in values if isinstance(value, str)):
            return key.replace("\x00", "\\x00")
    return None


class RefuseUnstorableInputMiddleware:
    """Checks before the view runs; DRF views are left alone (they refuse NUL themselves, in
    JSON, naming the field)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        field = "path" if "\x00" in request.path_info else _holds_nul(request.GET)
        if not field and request.method == "POST":
            field = _holds_nul(request.POST)
        if not field:
            return None
        return HttpResponseBadRequest(
            _("The request holds a NUL character (in %(field)s), which cannot be stored.") % {"field": field},
            content_type="text/plain; charset=utf-8")


class KeptListsMiddleware:
    """Answers a plain ``GET`` of one of the app's lists from its kept response (see
    ``docs/api.md``), as the view would, before the middleware below it, the view middleware and
    DRF's wrapper run: a cached list then costs about what a bare cached endpoint costs. Every
    other request, and a list that is not kept, goes on down as always.

    Put it below what the answer needs: ``SessionMiddleware``, ``LocaleMiddleware`` (the list's
    language) and ``AuthenticationMiddleware`` (the signed-in shopper; without ``request.user``
    it answers nothing); and below any middleware that must see every request (access rules,
    logging). The response still passes back up through the middleware above it (security
    headers, ``Vary``); the middleware below it does not add its headers (``X-Frame-Options``,
    a CSRF cookie) to these JSON responses. The system check ``recommendations.E041`` checks
    the order."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = kept_list_response(request)
        return response if response is not None else self.get_response(request)
