"""CRM pages on the demo company: who sees what, the "can we deliver?" panel, the panels on
the plan's pages, query counts that stay flat."""

from __future__ import annotations

import pytest

from crm.models import FeedbackNote, Opportunity, TrainingCompletion

pytestmark = pytest.mark.django_db


def test_the_demo_company_has_a_pipeline(demo):
    assert Opportunity.objects.filter(status="open").count() >= 10
    assert Opportunity.objects.exclude(status="open").count() >= 30
    assert FeedbackNote.objects.filter(category="demand_signal").exists()
    assert TrainingCompletion.objects.filter(user__username="rep1").exists()


def test_a_rep_lists_only_their_own_deals(demo, login):
    response = login("rep1").get("/crm/opportunities/")
    assert response.status_code == 200
    mine = set(Opportunity.objects.filter(owner__username="rep1", status="open").values_list("external_id", flat=True))
    others = (
        Opportunity.objects.exclude(owner__username="rep1")
        .filter(status="open")
        .values_list("external_id", flat=True)
        .first()
    )
    body = response.content.decode()
    assert all(e in body for e in mine)
    assert others not in body
    assert login("rep1").get(f"/crm/opportunities/{others}/").status_code == 404


def test_opportunity_page_answers_can_we_deliver_without_a_plan(demo, login):
    deal = Opportunity.objects.filter(owner__username="rep1", product__isnull=False).first()
    response = login("rep1").get(f"/crm/opportunities/{deal.external_id}/")
    assert response.status_code == 200
    assert "No plan run has finished yet" in response.content.decode()


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_pages_keep_their_query_count_flat_as_data_grows(demo, login):
    pages = [
        ("planner", "/crm/opportunities/?status=lost"),
        ("planner", "/crm/feedback/"),
        ("manager", "/crm/training/"),
        ("rep1", "/crm/opportunities/"),
    ]
    before = [_queries(login(who), url) for who, url in pages]
    # twice the deals, notes and completions
    for model in (Opportunity, FeedbackNote):
        rows = list(model.objects.all())
        for row in rows:
            row.pk = None
            row.external_id = f"X-{row.external_id}"
        model.objects.bulk_create(rows)
    completions = list(TrainingCompletion.objects.all())
    for row in completions:
        row.pk, row.completed_on = None, row.completed_on.replace(year=row.completed_on.year - 3)
        row.expires_on = None
    TrainingCompletion.objects.bulk_create(completions)
    after = [_queries(login(who), url) for who, url in pages]
    assert after == before


def test_feedback_from_the_page_names_the_bad_field(demo, login):
    client = login("rep1")
    response = client.post("/crm/feedback/", {"account": "NO-SUCH", "category": "quality", "text": "x"}, follow=True)
    assert "No account" in response.content.decode()
    from territories.models import Account

    account = Account.objects.for_user(client.get("/").wsgi_request.user).first()
    before = FeedbackNote.objects.count()
    client.post(
        "/crm/feedback/",
        {
            "account": account.external_id,
            "category": "demand_signal",
            "sentiment": "positive",
            "text": "Doubling volumes next year.",
        },
    )
    assert FeedbackNote.objects.count() == before + 1
    assert login("ops").post("/crm/feedback/", {"account": account.external_id}).status_code == 404
