from django.apps import AppConfig


class HostShopConfig(AppConfig):
    name = "tests.hostshop"
    label = "hostshop"
    default_auto_field = "django.db.models.BigAutoField"
