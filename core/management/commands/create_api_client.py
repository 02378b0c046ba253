import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.api.permissions import SCOPES
from core.errors import ApplicationError
from core.services import api_client_create


class Command(BaseCommand):
    help = "Create an API client (e.g. an ERP system) and print its Bearer token once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"comma-separated, at least one of: {', '.join(SCOPES)} (a write scope includes its read scope)",
        )
        parser.add_argument("--expires-in-days", type=int, default=None)
        parser.add_argument("--rate-limit", default="", help="e.g. 120/min (default: API_RATE_LIMIT)")

    def handle(self, *args, name, scopes, expires_in_days, rate_limit, **options):
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
        expires_at = timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None
        try:
            client, token = api_client_create(
                name=name, scopes=scope_list, rate_limit=rate_limit, expires_at=expires_at
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"API client '{client.name}' created with scopes: {', '.join(client.scopes)}")
        if expires_at:
            self.stdout.write(f"Token expires at {expires_at:%Y-%m-%d %H:%M %Z}.")
        self.stdout.write("Token (shown once, store it now):")
        self.stdout.write(token)
