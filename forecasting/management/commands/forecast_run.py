import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from forecasting.models import ForecastRun
from forecasting.services import forecast_run_create, forecast_run_execute


class Command(BaseCommand):
    help = "Forecast every product × territory series of the database now, in this process."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD, default today")
        parser.add_argument("--horizon", type=int, default=None, help="months, default the planning horizon setting")
        parser.add_argument("--chunk-size", type=int, default=500)

    def handle(self, *args, as_of, horizon, chunk_size, **options):
        started = time.monotonic()
        run = forecast_run_create(
            as_of=as_of, trigger=ForecastRun.Trigger.COMMAND, horizon=horizon, parameters={"chunk_size": chunk_size}
        )
        run = forecast_run_execute(run, say=self.stdout.write)
        line = (
            f"Run {run.pk} {run.status}: {run.series_done:,} series forecast, {run.series_failed:,} failed, "
            f"in {time.monotonic() - started:.1f} s."
        )
        if run.status == ForecastRun.Status.FAILED:
            raise CommandError(f"{line} {run.error}")
        self.stdout.write(self.style.SUCCESS(line))
