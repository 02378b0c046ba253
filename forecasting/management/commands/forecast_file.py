import sys

from django.core.management.base import BaseCommand, CommandError

from forecasting import file_forecast


class Command(BaseCommand):
    help = (
        "Forecast a CSV of history (series_id, value, date or period_index) into a CSV of "
        "forecasts with 80/95 % intervals. Uses no database."
    )
    # pure file in, file out: no system checks or migration checks that would need a database
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        file_forecast.add_arguments(parser)

    def handle(self, *args, **options):
        code = file_forecast.run(options, stderr=sys.stderr)
        if code:
            raise CommandError(
                f"forecast_file finished with exit code {code} (see the messages above)",
                returncode=code,
            )
