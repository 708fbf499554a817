from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from recommendations.api.authentication import ObtainTokenView
from recommendations.passwords import refuse_password_guesses

# The log-in pages refuse password guessing (429 after a few failures per account or address).
urlpatterns = [
    path("admin/login/", refuse_password_guesses(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", refuse_password_guesses(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/recommendations/", include("recommendations.urls")),
    path("api/token/", ObtainTokenView.as_view(), name="api-token"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the footer's language switch
    path("", include("demo_shop.catalog.urls")),
]
