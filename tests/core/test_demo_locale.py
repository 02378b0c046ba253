"""``seed_demo --locale de|it``: a German or Italian demo company (issue 16)."""

import pytest
from django.core.management import call_command


@pytest.mark.parametrize(
    "locale, plant, currency_text", [("de", "Werk Augsburg", "€"), ("it", "Stabilimento di Brescia", "€")]
)
def test_a_localised_demo_has_local_names_plants_and_eur(demo, login, locale, plant, currency_text):
    from core.models import OrganisationSettings
    from home.demo_locale import FIRST, demo_localise
    from sales.models import SalesOrderLine
    from sop.models import Plant
    from territories.models import Account, Territory

    lines_before = SalesOrderLine.objects.count()
    demo_localise(locale=locale)
    org = OrganisationSettings.objects.get()
    assert org.currency == "EUR"
    assert Plant.objects.filter(name=plant).exists()
    rep = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model().objects.get(username="rep1")
    assert rep.first_name in FIRST[locale] and rep.profile.language == locale
    assert not Territory.objects.filter(name__icontains="territory").exists()
    assert not Account.objects.filter(name__endswith="Inc.").exists()
    assert SalesOrderLine.objects.count() == lines_before  # only names change
    page = login("manager").get("/").content.decode()
    assert currency_text in page


def test_seed_demo_command_takes_the_locale(db):
    from core.models import OrganisationSettings

    call_command("seed_demo", "--scale", "tiny", "--no-cycles", "--locale", "it", "--as-of", "2026-06-15")
    assert OrganisationSettings.objects.get().name.startswith("Aster Pompe")
