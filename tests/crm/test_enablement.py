"""Rep enablement: status of required modules (pure, hand-worked), the manager's due list, the
rep's home reminder, and the SPIFF certification rule at the pay period."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from crm.enablement import missing_certifications, training_status

D = dt.date
TODAY = D(2026, 6, 15)


def test_status_of_each_required_module():
    required = pd.DataFrame(
        [
            ("ann", "CRM", "CRM basics"),
            ("ann", "PL", "Pumps"),
            ("bob", "CRM", "CRM basics"),
            ("cid", "CRM", "CRM basics"),
        ],
        columns=["username", "module_code", "module_name"],
    )
    completions = pd.DataFrame(
        [
            ("ann", "CRM", D(2025, 1, 10), D(2026, 1, 10)),  # older, superseded
            ("ann", "CRM", D(2025, 7, 1), D(2026, 7, 1)),  # expires in 16 days: due
            ("ann", "PL", D(2024, 1, 1), D(2026, 6, 14)),  # expired yesterday: overdue
            ("bob", "CRM", D(2026, 1, 1), None),  # never expires: current
        ],
        columns=["username", "module_code", "completed_on", "expires_on"],
    )
    out = training_status(required, completions, today=TODAY)
    assert list(zip(out["username"], out["module_code"], out["status"], strict=True)) == [
        ("ann", "PL", "overdue"),
        ("cid", "CRM", "missing"),
        ("ann", "CRM", "due"),
        ("bob", "CRM", "current"),
    ]


def test_a_certification_counts_from_completion_to_expiry_inclusive():
    completions = pd.DataFrame(
        [("CRM", D(2026, 1, 1), D(2026, 6, 30))], columns=["module_code", "completed_on", "expires_on"]
    )
    assert missing_certifications(["CRM", "PL"], completions, day=D(2026, 6, 30)) == ["PL"]
    assert missing_certifications(["CRM"], completions, day=D(2026, 7, 1)) == ["CRM"]
    assert missing_certifications(["CRM"], completions, day=D(2025, 12, 31)) == ["CRM"]


@pytest.mark.django_db
def test_the_spiff_rule_blocks_the_payout_and_names_the_missing_module(demo, login):
    from compensation.models import StatementLine
    from compensation.services import comp_period_compute
    from crm.models import TrainingCompletion, TrainingModule

    # Given rep1 earns SPIFF lines in the open period, then loses their CRM-101 certification
    period = dt.date(2026, 6, 1)
    comp_period_compute(period_start=period)
    paid = StatementLine.objects.filter(
        statement__rep__username="rep1", statement__period_start=period, component="spiff"
    )
    assert paid.exists(), "the demo pays rep1 a SPIFF in June"
    TrainingCompletion.objects.filter(user__username="rep1", module__code="CRM-101").delete()
    # When the period is computed again
    comp_period_compute(period_start=period)
    # Then no SPIFF is paid, and the statement says which module is missing
    from compensation.models import Statement

    statement = Statement.objects.get(rep__username="rep1", period_start=period)
    assert not statement.lines.filter(component="spiff").exists()
    assert any("CRM-101 (CRM basics)" in note and "not paid" in note for note in statement.notes)
    # and the manager's due list shows rep1 missing CRM-101, which blocks SPIFF payouts
    body = login("manager").get("/crm/training/").content.decode()
    assert "rep1" in body and "Never completed" in body and "SPIFF payout" in body
    # and rep1's home reminds them
    home = login("rep1").get("/").content.decode()
    assert TrainingModule.objects.get(code="CRM-101").name in home


@pytest.mark.django_db
def test_a_manager_records_completions_for_their_team_only(demo, login):
    from crm.models import TrainingCompletion

    manager = login("manager")
    manager.post("/crm/training/record", {"username": "rep1", "module": "PL-PUMPS", "completed_on": "2026-06-01"})
    done = TrainingCompletion.objects.get(user__username="rep1", module__code="PL-PUMPS", completed_on="2026-06-01")
    assert done.expires_on == D(2028, 6, 1)  # 24 months
    from django.contrib.auth import get_user_model

    outsider = (
        get_user_model()
        .objects.filter(profile__manager__username="manager2")
        .values_list("username", flat=True)
        .first()
    )
    response = manager.post(
        "/crm/training/record", {"username": outsider, "module": "PL-PUMPS", "completed_on": "2026-06-01"}, follow=True
    )
    assert "not on your team" in response.content.decode()
    assert not TrainingCompletion.objects.filter(user__username=outsider, completed_on="2026-06-01").exists()


@pytest.mark.django_db
def test_a_territory_rule_shows_assigned_reps_without_the_certification(demo, login):
    from crm.models import CertificationRule, TrainingCompletion, TrainingModule

    module = TrainingModule.objects.get(code="PL-PUMPS")
    CertificationRule.objects.create(applies_to="territory_assignment", module=module)
    TrainingCompletion.objects.filter(user__username="rep1", module=module).delete()
    body = login("manager").get("/crm/training/").content.decode()
    section = body[body.index('id="unmet-rules"') :]
    assert "rep1" in section and "Territory assignment" in section and "PL-PUMPS" in section
