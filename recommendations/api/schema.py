"""The OpenAPI schema (``schema/``) of the app's own endpoints.

It needs ``"drf_spectacular"`` in ``INSTALLED_APPS`` and
``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"`` (see
docs/integration.md), and covers the app's endpoints only, under the prefix the host mounted them
at: the host's other views (which may document themselves otherwise) play no part.
"""

from __future__ import annotations

from django.urls import get_script_prefix, include, path, reverse
from drf_spectacular.views import SpectacularAPIView


class AppSchemaView(SpectacularAPIView):
    """drf-spectacular's schema view over the app's ``api_urlpatterns`` only."""

    def initial(self, request, *args, **kwargs):
        from ..urls import api_urlpatterns

        super().initial(request, *args, **kwargs)
        namespace = request.resolver_match.namespace if request.resolver_match else "recommendations"
        mounted = reverse(f"{namespace}:for-you")[len(get_script_prefix()):-len("for-you/")]
        self.patterns = [path(mounted, include((api_urlpatterns, "recommendations")))]
