from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reinstall_reference_guards(sender, using="default", **kwargs):
    from django.db import connections

    from sop.db_guards import install_reference_guards

    install_reference_guards(connections[using])


class SopConfig(AppConfig):
    name = "sop"

    def ready(self):
        post_migrate.connect(_reinstall_reference_guards, sender=self, dispatch_uid="sop_reference_guards")
