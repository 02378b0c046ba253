from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        import core.api.schema  # noqa: F401  (registers the OpenAPI auth extension)
        from core.roles import sync_role_groups

        # Groups need the permission rows that Django creates after migrate.
        post_migrate.connect(sync_role_groups, sender=self)
