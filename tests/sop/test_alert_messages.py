"""Alert texts in the viewer's language (issue 16): the rules name a message and its
parameters; pages, dashboards and human exports word it per viewer, the API keeps English."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from tests.sop.factories import HORIZON, run_plan, supply_world, user_with_roles

pytestmark = pytest.mark.django_db


def client_in(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.post("/language/", {"language": language, "next": "/"})  # saved on the profile
    return client


def overloaded_world():
    # 2,500 units asked of a work center with 1,000 h in February 2027: 1,500 h over.
    supply_world(demand={1: 2500.0}, hours=1000.0)
    run_plan()


def test_an_alert_of_the_rules_reads_in_german_for_a_german_user_and_in_english_for_an_english_one():
    from sop.models import CapacityAlert

    overloaded_world()
    alert = CapacityAlert.objects.get(type="capacity_overload", period_start=HORIZON[1])
    # The stored text stays English: the API's contract.
    assert alert.message == (
        "Work center 0 is loaded at 250 % in 2027-02: 1,500 h over the 1,000 h available. "
        "1,500 h cannot be built in time."
    )
    ops = user_with_roles("ops", "ops_lead")

    german = client_in(ops, "de").get("/supply/alerts/").content.decode()
    assert "Work center 0 ist im Februar 2027 zu 250 % ausgelastet: 1.500 h über den verfügbaren 1.000 h." in german
    assert "is loaded at" not in german

    detail = client_in(ops, "de").get(f"/supply/alerts/{alert.pk}/").content.decode()
    assert "1.500 h können nicht rechtzeitig gefertigt werden." in detail
    assert "Fügen Sie bis Februar 2027 1.500 h Kapazität hinzu" in detail  # the suggestion

    english = client_in(ops, "en").get("/supply/alerts/").content.decode()
    assert "Work center 0 is loaded at 250 % in February 2027: 1,500 h over the 1,000 h available." in english

    italian = client_in(ops, "it").get(f"/supply/alerts/{alert.pk}/").content.decode()
    assert "Work center 0 è caricato al 250 % a Febbraio 2027: 1.500 h oltre le 1.000 h disponibili." in italian


def test_the_api_keeps_the_english_text_whatever_the_language(api):
    from sop.models import CapacityAlert

    overloaded_world()
    alert = CapacityAlert.objects.get(type="capacity_overload", period_start=HORIZON[1])
    ops = user_with_roles("ops", "ops_lead")
    body = client_in(ops, "de").get(f"/api/v1/alerts/{alert.pk}/", HTTP_ACCEPT="application/json").json()
    assert body["message"] == alert.message and "is loaded at 250 %" in body["message"]


def test_the_stockout_alert_and_its_suggestion_and_the_csv_export_are_german():
    from sop.models import CapacityAlert

    overloaded_world()
    stockout = CapacityAlert.objects.get(type="stockout_risk")
    assert stockout.message_key == "stockout_risk.critical"
    ops = user_with_roles("ops", "ops_lead")
    client = client_in(ops, "de")

    text = client.get("/supply/alerts/?export=csv").content.decode("utf-8-sig")
    rows = {row[1]: row for row in csv.reader(io.StringIO(text), delimiter=";")}
    assert rows["Fehlmengenrisiko"][10] == (
        "P0 Pump 0 geht der Bestand aus: 1.500 Stück Bedarf können im Februar 2027 nicht bedient werden."
    )
    assert rows["Fehlmengenrisiko"][11].startswith("Fertigen Sie in früheren Perioden mit freier Kapazität vor")
    assert rows["Fehlmengenrisiko"][8] == "Stück"  # the unit, in words
    # The list shows the amount with its unit in German too.
    assert '<td class="num">1.500 Stück</td>' in client.get("/supply/alerts/").content.decode()


def test_the_ops_dashboard_words_the_alerts_in_the_viewers_language():
    overloaded_world()
    ops = user_with_roles("ops", "ops_lead")
    html = client_in(ops, "de").get("/").content.decode()
    assert "zu 250 % ausgelastet" in html


def test_an_alert_stored_before_message_keys_shows_its_stored_text():
    from sop.models import CapacityAlert

    alert = CapacityAlert.objects.create(
        fingerprint="old", type="capacity_overload", severity="warning", amount=1, unit="hours", message="Old words."
    )
    ops = user_with_roles("ops", "ops_lead")
    assert "Old words." in client_in(ops, "de").get(f"/supply/alerts/{alert.pk}/").content.decode()


def test_every_key_a_plan_run_stores_is_in_the_catalogue_and_its_parameters_are_json():
    from sop.alert_messages import MESSAGES
    from sop.models import CapacityAlert

    supply_world(demand={1: 2500.0, 2: 10.0, 3: 960.0}, hours=1000.0)
    run_plan()
    alerts = list(CapacityAlert.objects.all())
    assert {a.type for a in alerts} >= {"capacity_overload", "capacity_underload", "stockout_risk"}

    def keys(params):
        for value in params.values():
            if isinstance(value, dict) and "key" in value:
                yield value["key"]
                yield from keys(value.get("params") or {})
            elif isinstance(value, list):
                for part in value:
                    yield part["key"]
                    yield from keys(part.get("params") or {})

    for alert in alerts:
        for key, params in ((alert.message_key, alert.message_params), (alert.suggestion_key, alert.suggestion_params)):
            if key:
                assert {key, *keys(params)} <= set(MESSAGES), alert.fingerprint
                assert json.loads(json.dumps(params)) == params


def test_an_alert_a_rerun_resolved_says_so_in_the_viewers_language():
    from sop.models import CapacityAlert, CapacityCalendar

    overloaded_world()
    CapacityCalendar.objects.update(available_hours=5000)  # the plant adds shifts
    run_plan()
    alert = CapacityAlert.objects.get(type="capacity_overload", period_start=HORIZON[1])
    assert alert.status == "resolved" and alert.resolution.startswith("Cause gone in plan run")  # the API's words
    ops = user_with_roles("ops", "ops_lead")
    html = client_in(ops, "de").get(f"/supply/alerts/{alert.pk}/").content.decode()
    assert "Die Ursache war behoben." in html and "Cause gone" not in html


def test_the_comment_of_a_reopened_alert_reads_in_the_viewers_language():
    from core.models import Comment
    from sop.models import CapacityAlert, CapacityCalendar

    overloaded_world()
    CapacityCalendar.objects.update(available_hours=5000)
    resolving = run_plan()
    CapacityCalendar.objects.update(available_hours=1000)  # the extra shifts fell through
    reopening = run_plan()
    alert = CapacityAlert.objects.get(type="capacity_overload", period_start=HORIZON[1])
    assert alert.status == "open"
    comment = Comment.objects.get(object_id=str(alert.pk))
    assert comment.text == (  # the English, as before
        f"Reopened by plan run {reopening.pk} ({reopening.as_of:%Y-%m-%d}): the cause is back. "
        f"Plan run {resolving.pk} had found it gone."
    )
    ops = user_with_roles("ops", "ops_lead")
    html = client_in(ops, "de").get(f"/supply/alerts/{alert.pk}/").content.decode()
    assert f"Wieder geöffnet durch Planungslauf {reopening.pk} (10. Januar 2027): Die Ursache ist zurück." in html
    assert "Reopened by" not in html


def test_people_read_the_family_and_territory_by_name_the_api_keeps_the_codes():
    from inventory.models import ProductFamily
    from sop.alert_messages import alert_text
    from territories.models import Territory

    family = ProductFamily.objects.create(code="VLV", name="Ventile")
    Territory.objects.create(code="WE-T3", name="Westen 3", path="/WE-T3/")
    params = {
        "target": {"key": "target.family_territory", "params": {"family": family.code, "territory": "WE-T3"}},
        "month": "2027-07-01",
        "quota_units": 302,
        "above_pct": 12,
        "forecast_units": 270,
    }
    assert alert_text("target_at_risk", params, "de") == (
        "Familie Ventile, Gebiet Westen 3 im Juli 2027: Die Quote von 302 Stück liegt 12 % über der Prognose von "
        "270 Stück."
    )
    assert alert_text("target_at_risk", params).startswith("Family VLV, territory WE-T3 in 2027-07:")
    gone = {**params, "target": {"key": "target.family", "params": {"family": "OLD"}}}
    assert alert_text("target_at_risk", gone, "de").startswith("Familie OLD im Juli 2027")  # no name: the code
