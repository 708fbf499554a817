"""URLs for bench/capture_overhead.py: the same page with and without view tracking."""

from django.urls import path
from django.views.generic import DetailView

from recommendations.models import Product
from recommendations.tracking import TrackProductViewMixin


class Plain(DetailView):
    model = Product
    template_name = "tests/product_detail.html"


class Tracked(TrackProductViewMixin, Plain):
    pass


urlpatterns = [
    path("plain/<int:pk>/", Plain.as_view()),
    path("tracked/<int:pk>/", Tracked.as_view()),
]
