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


urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="tests/login.html"), name="login"),
    path("products/<int:pk>/", ProductDetail.as_view(), name="product-detail"),
    path("api/recommendations/", include("recommendations.urls")),
    path("api/token/", ObtainTokenView.as_view(), name="api-token"),
]
