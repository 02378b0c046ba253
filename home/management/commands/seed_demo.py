import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from home import demo
from home.demo_locale import demo_localise


class Command(BaseCommand):
    help = "Load the deterministic demo company (replaces an earlier demo; refuses real data)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(demo.SCALES), default="small")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--as-of", type=dt.date.fromisoformat, default=None, help="last day of history, YYYY-MM-DD (default: today)"
        )
        parser.add_argument("--force", action="store_true", help="replace non-demo data too")
        parser.add_argument(
            "--no-cycles", action="store_true", help="leave out the S&OP cycles and the forecast run they start from"
        )
        parser.add_argument(
            "--locale",
            choices=["en", "de", "it"],
            default="en",
            help="a German or Italian company: names, plants, accounts, EUR, the users' language",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the demo (or any business data) is already loaded"
        )

    def handle(self, *args, scale, seed, as_of, force, if_empty, no_cycles=False, locale="en", **options):
        if if_empty and (demo.demo_is_loaded() or demo.holds_business_data()):
            self.stdout.write("Demo data already loaded: keeping it.")
            return
        started = time.monotonic()
        try:
            ctx = demo.seed_demo(scale=scale, seed=seed, as_of=as_of, force=force, cycles=not no_cycles)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if locale != "en":
            demo_localise(locale=locale)
            ctx.log.append(f"localised for {locale}: names, plants, accounts, currency EUR")
        for line in ctx.log:
            self.stdout.write(f"  {line}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo company loaded (scale {scale}, seed {seed}, as of {ctx.as_of}) "
                f"in {time.monotonic() - started:.1f} s."
            )
        )
