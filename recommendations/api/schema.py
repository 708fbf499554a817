"""The OpenAPI schema (``schema/``) of the app's own endpoints.

It covers the app's endpoints only, under the prefix the host mounted them at (the host's other
views play no part), and states what the server checks: bounds of parameters, required fields
(``oneOf`` where exactly one of two is needed), and every status an operation can answer: 403
(invalid credentials, not allowed, a missing CSRF token), 415 (a body that is not JSON), 429
(throttled). The app's views use :class:`RecommendationsAutoSchema` whatever the host's
``DEFAULT_SCHEMA_CLASS`` is; ``"drf_spectacular"`` must be in ``INSTALLED_APPS`` (see
docs/integration.md).
"""

from __future__ import annotations

import re

from django.urls import get_script_prefix, include, path, reverse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.views import SpectacularAPIView

STANDARD_RESPONSES = {
    "400": "Invalid parameter or payload: the body names the field.",
    "403": "Invalid credentials, not signed in, not allowed (staff only), or a missing CSRF token.",
    "415": "A body that is not JSON.",
    "429": "Too many requests (per shopper, per address, or failed passwords): retry after Retry-After seconds.",
}


class RecommendationsAutoSchema(AutoSchema):
    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # drf-spectacular states a blank-allowing field with a pattern as "the pattern, or empty";
        # where the pattern already allows "", that oneOf would refuse "" (it matches both).
        branches = schema.get("oneOf")
        if (branches and len(branches) == 2 and branches[1] == {"type": "string", "maxLength": 0}
                and re.search(branches[0].get("pattern", "(?!)"), "")):
            schema.update(schema.pop("oneOf")[0])

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        one_of = getattr(serializer, "one_of_required", None)
        if one_of and direction == "request":
            schema["oneOf"] = [{"required": list(names)} for names in one_of]
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        if "requestBody" in operation and self.method != "PATCH":
            operation["requestBody"]["required"] = True  # an empty body is refused (a 400)
        responses = operation.setdefault("responses", {})
        statuses = ["403"]
        if operation.get("parameters") or "requestBody" in operation:
            statuses.append("400")
        if "requestBody" in operation:
            statuses.append("415")
        if self.view.get_throttles():
            statuses.append("429")
        for status in statuses:
            responses.setdefault(status, {"description": STANDARD_RESPONSES[status]})
        return operation


class AppSchemaView(SpectacularAPIView):
    """drf-spectacular's schema view over the app's own URL patterns only (``api_patterns``,
    given by ``recommendations.urls``), under the prefix the host mounted them at."""

    api_patterns: list = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        namespace = request.resolver_match.namespace if request.resolver_match else "recommendations"
        mounted = reverse(f"{namespace}:for-you")[len(get_script_prefix()):-len("for-you/")]
        self.patterns = [path(mounted, include((self.api_patterns, "recommendations")))]
