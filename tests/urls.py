from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import DetailView

from recommendations.api.authentication import ObtainTokenView
from recommendations.conf import get_product_model
from recommendations.tracking import TrackProductViewMixin


class ProductDetail(TrackProductViewMixin, DetailView):
    model = get_product_model()
    template_name = "tests/product_detail.html"


_pk = get_product_model()._meta.pk
PK = "uuid" if _pk.get_internal_type() == "UUIDField" else "int" if _pk.get_internal_type().endswith(
    "AutoField") or _pk.get_internal_type().endswith("IntegerField") else "str"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="tests/login.html"), name="login"),
    path(f"products/<{PK}:pk>/", ProductDetail.as_view(), name="product-detail"),
    path("api/recommendations/", include("recommendations.urls")),
    path("api/token/", ObtainTokenView.as_view(), name="api-token"),
]
