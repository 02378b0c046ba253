from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _return_arrow_memory() -> None:
    """Arrow buffers (the columnar ingest path) from the C allocator, which hands large blocks
    back to the system when a batch is done; Arrow's default (mimalloc) keeps them cached per
    process, ~25 MB more per web worker between batches."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        import core.api.schema  # noqa: F401  (registers the OpenAPI auth extension)
        from core.roles import sync_role_groups

        _return_arrow_memory()

        # Groups need the permission rows that Django creates after migrate.
        post_migrate.connect(sync_role_groups, sender=self)
