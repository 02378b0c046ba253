from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate

from sales.db_guards import install_reference_guards, remove_reference_guards


def _remove_reference_guards_on_sqlite(sender, using="default", **kwargs):
    """SQLite rebuilds a table to alter it; a trigger on another table naming the rebuilt one
    makes the rebuild fail. The guards are taken down for the migrations and put back after."""
    if connections[using].vendor == "sqlite":
        remove_reference_guards(connections[using])


def _reinstall_reference_guards(sender, using="default", **kwargs):
    install_reference_guards(connections[using])


class SalesConfig(AppConfig):
    name = "sales"

    def ready(self):
        pre_migrate.connect(_remove_reference_guards_on_sqlite, sender=self, dispatch_uid="sales_reference_guards_down")
        post_migrate.connect(_reinstall_reference_guards, sender=self, dispatch_uid="sales_reference_guards")
        # Territory performance reads sales lines through territories.sources (no upward
        # import); imported here, since models load only once the app registry is ready.
        from sales import selectors, services
        from territories import sources

        sources.provide(
            sales_by_territory=selectors.sales_by_territory,
            sales_by_account=selectors.sales_by_account,
            sales_by_month=selectors.sales_by_month,
            family_units_by_month=selectors.family_units_by_month,
            daily_sales=selectors.daily_sales,
            attainment_lines=selectors.attainment_lines,
            ownership_moved=services.sales_lines_restamp,
        )
