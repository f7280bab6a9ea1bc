"""The app's configuration."""

from django.apps import AppConfig


class CrmBridgeConfig(AppConfig):
    """crmkit's records, stored through the Django ORM."""

    name = "crm_bridge"
    verbose_name = "crmkit bridge"
    default_auto_field = "django.db.models.BigAutoField"
