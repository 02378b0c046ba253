from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """The role home dashboards: the top of the app stack (reads every other app)."""

    name = "dashboards"
    verbose_name = "Dashboards"
