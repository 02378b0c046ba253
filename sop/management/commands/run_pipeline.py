import datetime as dt
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from sop.pipeline import pipeline_run


class Command(BaseCommand):
    help = "Run the nightly planning pipeline once, in this process (what Celery beat runs at night)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD, default today")

    def handle(self, *args, as_of, **options):
        started = time.monotonic()
        as_of = as_of or timezone.localdate()
        self.stdout.write(f"Nightly pipeline as of {as_of}:")
        pipeline_run(as_of=as_of, say=lambda message: self.stdout.write(f"  {message}"))
        self.stdout.write(self.style.SUCCESS(f"Pipeline done in {time.monotonic() - started:.1f} s."))
