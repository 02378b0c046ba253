"""English, German, Italian (issue 16): catalogues complete, pages without English left,
the language switch and its default, amounts and exports in the locale's formats."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

ROOT = Path(__file__).resolve().parents[2]


def catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr of the committed .po (singulars; the header left out)."""
    import ast

    text = (ROOT / "locale" / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    out = {}
    for block in text.split("\n\n"):
        fields, current = {}, None
        for line in block.splitlines():
            m = re.match(r'^(msgid|msgstr|msgid_plural|msgstr\[0\]) (".*")$', line)
            if m:
                current = m.group(1)
                fields[current] = [m.group(2)]
            elif line.startswith('"') and current:
                fields[current].append(line)
        if "msgid" in fields:
            msgid = "".join(ast.literal_eval(x) for x in fields["msgid"])
            key = "msgstr" if "msgstr" in fields else "msgstr[0]"
            if msgid and key in fields:
                out[msgid] = "".join(ast.literal_eval(x) for x in fields[key])
    return out


@pytest.mark.parametrize("language", ["de", "it"])
def test_catalogues_are_complete_and_compiled(language):
    messages = catalogue(language)
    assert len(messages) > 800
    assert [m for m, t in messages.items() if not t.strip()] == []
    po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_size > 10_000
    # Placeholders survive translation.
    for msgid, text in messages.items():
        assert sorted(re.findall(r"%\(\w+\)[sd]", msgid)) == sorted(re.findall(r"%\(\w+\)[sd]", text)), msgid


class _Text(HTMLParser):
    """Visible text nodes and the visible attributes (placeholder, title, aria-label)."""

    def __init__(self):
        super().__init__()
        self.items: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label") and value:
                self.items.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.items.append(" ".join(data.split()))


def english_left(html: str, language: str) -> list[str]:
    """Text of the page that is an English message of the catalogue whose translation differs."""
    messages = {m.replace("%%", "%"): t for m, t in catalogue(language).items() if "%(" not in m}
    parser = _Text()
    parser.feed(html)
    return sorted(
        {
            text
            for text in parser.items
            if text in messages and messages[text].replace("%%", "%") != text and len(text) > 2
        }
    )


def _client(login, username, language):
    client = login(username)
    client.post("/language/", {"language": language, "next": "/"})
    return client


@pytest.mark.parametrize("language", ["de", "it"])
def test_home_and_two_workflow_pages_have_no_english_left(demo, login, language):
    from territories.models import QuotaPlan

    plan = QuotaPlan.objects.get(status="approved")
    pages = [
        ("manager", "/"),
        ("manager", f"/territories/quotas/{plan.code}/"),
        ("ops", "/"),
        ("ops", "/supply/alerts/"),
        ("planner", "/data/upload/"),
    ]
    for username, path in pages:
        response = _client(login, username, language).get(path)
        assert response.status_code == 200, (username, path)
        html = response.content.decode()
        assert f'<html lang="{language}">' in html
        assert english_left(html, language) == [], (username, path)


def test_the_switch_saves_the_profile_and_the_browser_language_is_the_default(demo, login, client):
    from core.models import Profile

    # No choice yet: the browser's Accept-Language decides.
    assert "Abmelden" in login("exec").get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert "Esci" in login("exec").get("/", HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9").content.decode()
    assert "Sign out" in login("exec").get("/", HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()
    # The header switch: saved on the profile, so a new session (another device) has it too.
    manager = login("manager")
    response = manager.post("/language/", {"language": "it", "next": "/supply/alerts/"})
    assert response.status_code == 302 and response["Location"] == "/supply/alerts/"
    user = get_user_model().objects.get(username="manager")
    assert Profile.objects.get(user=user).language == "it"
    fresh = client
    fresh.post("/accounts/login/", {"username": "manager", "password": "demo"})
    assert "Esci" in fresh.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # Back to the browser's language (a new client: signing in with the password upgraded its
    # hash, which ends the sessions opened before).
    manager = login("manager")
    manager.post("/language/", {"language": "", "next": "/"})
    assert Profile.objects.get(user=user).language == ""
    assert "Abmelden" in manager.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # Only a known language; the redirect stays on this site.
    assert manager.post("/language/", {"language": "xx"}).status_code == 400
    assert manager.post("/language/", {"language": "de", "next": "https://evil.example/"})["Location"] == "/"


def test_amounts_carry_the_currency_in_the_locale_format():
    from django.utils import translation

    from core.templatetags.sop_tags import format_money

    assert format_money(Decimal("1234.56"), currency="EUR", language="de") == "1.234,56\u00a0€"
    with translation.override("de"):
        assert format_money(Decimal("1234.56"), currency="EUR") == "1.234,56\u00a0€"
    with translation.override("it"):
        assert format_money(Decimal("-1234567.5"), 0, currency="EUR") == "-1.234.568\u00a0€"
    with translation.override("en"):
        assert format_money(Decimal("1234.56"), currency="USD") == "$1,234.56"
        assert format_money(Decimal("1234.56"), currency="CHF") == "CHF 1,234.56"


def test_a_german_page_shows_german_numbers_and_the_currency(demo, login):
    from core.services import organisation_settings_get

    org = organisation_settings_get()
    org.currency = "EUR"
    org.save()
    html = _client(login, "manager", "de").get("/").content.decode()
    assert re.search(r"\d{1,3}(\.\d{3})+\u00a0€", html), "a revenue like 1.234.567 € on the home page"


def test_human_exports_follow_the_locale_dialect(demo, login):
    from sop.models import CapacityAlert

    CapacityAlert.objects.create(
        fingerprint="x",
        type="capacity_overload",
        severity="critical",
        amount=Decimal("1234.5"),
        unit="hours",
        message="=cmd",
    )
    de = _client(login, "ops", "de").get("/supply/alerts/?export=csv")
    text = de.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Schweregrad" and "1234,50" in rows[1]
    assert "'=cmd" in rows[1]  # never a formula
    en = _client(login, "ops", "en").get("/supply/alerts/?export=csv").content.decode("utf-8-sig")
    assert en.splitlines()[0].startswith("Severity,") and "1234.50" in en


def test_a_german_excel_csv_upload_is_read_when_picked(demo, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inventory.models import Product, ProductFamily

    family = ProductFamily.objects.order_by("code").first().code
    body = (
        f"sku;name;family_code;unit;unit_price;unit_cost;status\nXL-1;Pumpe groß;{family};EA;1.234,56;0,5;active\n"
    ).encode("cp1252")
    client = _client(login, "planner", "de")
    page = client.get("/data/upload/")
    assert page.context["dialect"] == "excel"  # German users get their Excel's CSV first
    response = client.post(
        "/data/upload/",
        {
            "resource": "products",
            "dialect": "excel",
            "file": SimpleUploadedFile("p.csv", body, content_type="text/csv"),
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    product = Product.objects.get(sku="XL-1")
    assert product.unit_price == Decimal("1234.56") and product.unit_cost == Decimal("0.5")
    assert product.name == "Pumpe groß"
    # The API contract stays ISO and ".": the same file as standard CSV is refused, naming the row.
    refused = client.post(
        "/data/upload/",
        {"resource": "products", "dialect": "api", "file": SimpleUploadedFile("p.csv", body, content_type="text/csv")},
    )
    assert refused.status_code == 400


def test_inventory_positions_export_every_row_of_the_filter_in_xlsx_and_locale_csv(demo, login):
    from openpyxl import load_workbook

    from inventory.models import InventorySnapshot

    client = _client(login, "ops", "it")
    page = client.get("/inventory/?location=")
    assert "export=xlsx" in page.content.decode()
    book = load_workbook(io.BytesIO(client.get("/inventory/?export=xlsx").content))
    total = InventorySnapshot.objects.latest().count()
    assert book.active.max_row == 1 + total and book.active.cell(1, 1).value == "Codice articolo"
    rows = list(
        csv.reader(io.StringIO(client.get("/inventory/?export=csv").content.decode("utf-8-sig")), delimiter=";")
    )
    assert len(rows) == 1 + total and re.match(r"\d{2}/\d{2}/\d{4}$", rows[1][3])


def test_a_statement_exports_for_people_in_xlsx_and_the_locale_csv(demo, login):
    from openpyxl import load_workbook

    from compensation.models import Statement

    statement = Statement.objects.filter(rep__username="rep1").order_by("-period_start").first()
    client = _client(login, "rep1", "de")
    url = f"/compensation/statements/{statement.pk}/"
    rows = list(csv.reader(io.StringIO(client.get(url + "?export=csv").content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Außendienst", "Periode", "Status"] and len(rows) == 1 + statement.lines.count()
    book = load_workbook(io.BytesIO(client.get(url + "?export=xlsx").content))
    assert book.active.max_row == 1 + statement.lines.count()
