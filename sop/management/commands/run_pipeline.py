import datetime as dt
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from core.errors import ApplicationError
from sop.services import plan_chain_execute


class Command(BaseCommand):
    help = "Run the nightly planning chain once, in this process (the chain Celery beat starts at night)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD, default today")

    def handle(self, *args, as_of, **options):
        started = time.monotonic()
        as_of = as_of or timezone.localdate()
        self.stdout.write(f"Nightly pipeline as of {as_of}:")
        try:
            plan_chain_execute(as_of=as_of, say=lambda message: self.stdout.write(f"  {message}"))
        except ApplicationError as exc:  # a run is active: skipped, as the nightly schedule does
            self.stdout.write(self.style.WARNING(f"  not run: {exc.message}"))
            return
        self.stdout.write(self.style.SUCCESS(f"Pipeline done in {time.monotonic() - started:.1f} s."))
