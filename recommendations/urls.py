"""The app's URLs; a host includes them once::

    path("api/recommendations/", include("recommendations.urls")),
"""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerView

from . import views
from .api import privacy as privacy_api
from .api import profiles as profiles_api
from .api import views as api
from .api.schema import AppSchemaView

app_name = "recommendations"
#: The REST API (what schema/ documents).
api_urlpatterns = [
    path("for-you/", api.ForYouView.as_view(), name="for-you"),
    path("trending/", api.TrendingView.as_view(), name="trending"),
    path("products/<str:pk>/similar/", api.SimilarView.as_view(), name="similar"),
    path("products/<str:pk>/also-bought/", api.AlsoBoughtView.as_view(), name="also-bought"),
    path("events/", api.EventView.as_view(), name="events"),
    path("ratings/", api.RatingListView.as_view(), name="ratings"),
    path("ratings/<str:pk>/", api.RatingDetailView.as_view(), name="rating"),
    path("me/history/", api.HistoryView.as_view(), name="history"),
    path("me/data/", privacy_api.MyDataView.as_view(), name="my-data"),
    path("me/profile/", profiles_api.MyProfileView.as_view(), name="my-profile"),
    path("me/not-interested/", profiles_api.NotInterestedListView.as_view(), name="not-interested"),
    path("me/not-interested/<str:pk>/", profiles_api.NotInterestedDetailView.as_view(),
         name="not-interested-detail"),
    path("clicks/", api.ClickView.as_view(), name="clicks"),
    path("models/", api.ModelVersionListView.as_view(), name="models"),
    path("models/retrain/", api.RetrainView.as_view(), name="retrain"),
]
urlpatterns = [
    *api_urlpatterns,
    path("r/<str:recommendation_id>/<str:product_id>/", views.click_redirect, name="click-redirect"),
    path("schema/", AppSchemaView.as_view(api_patterns=api_urlpatterns), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="recommendations:schema"), name="docs"),
]
