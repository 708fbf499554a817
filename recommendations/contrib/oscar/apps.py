from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OscarRecommendationsConfig(AppConfig):
    name = "recommendations.contrib.oscar"
    label = "recommendations_oscar"
    verbose_name = _("Recommendations for Oscar")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects Oscar's signals to capture)
