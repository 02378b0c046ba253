"""Due dates of the S&OP cycle's stages (working days, worked by hand)."""

import datetime as dt

import pytest

from sop.cycle_calendar import (
    STAGE_CODES,
    next_stage,
    nth_working_day,
    previous_stage,
    run_month,
    stage_due_dates,
    validate_calendar,
)


def test_stages_in_order():
    assert STAGE_CODES == ("data", "demand_review", "supply_review", "executive_review", "published")
    assert next_stage("data") == "demand_review"
    assert next_stage("published") is None
    assert previous_stage("supply_review") == "demand_review"
    assert previous_stage("data") is None


def test_the_march_cycle_is_worked_in_february_and_january_cycles_in_december():
    assert run_month(dt.date(2027, 3, 1)) == dt.date(2027, 2, 1)
    assert run_month(dt.date(2027, 1, 1)) == dt.date(2026, 12, 1)


def test_working_days_skip_weekends_and_holidays():
    # February 2027 starts on a Monday: working day 1 = Mon 1st, 5 = Fri 5th, 6 = Mon 8th.
    feb = dt.date(2027, 2, 1)
    assert nth_working_day(feb, 1) == dt.date(2027, 2, 1)
    assert nth_working_day(feb, 5) == dt.date(2027, 2, 5)
    assert nth_working_day(feb, 6) == dt.date(2027, 2, 8)
    # A holiday on Wednesday 3rd pushes working day 3 to Thursday 4th.
    assert nth_working_day(feb, 3, holidays=[dt.date(2027, 2, 3)]) == dt.date(2027, 2, 4)
    # May 2027 starts on a Saturday: working day 1 is Monday 3rd.
    assert nth_working_day(dt.date(2027, 5, 1), 1) == dt.date(2027, 5, 3)


def test_default_due_dates_of_the_march_2027_cycle():
    due = stage_due_dates(dt.date(2027, 3, 1))
    assert due == {
        "data": dt.date(2027, 2, 3),  # WD 3
        "demand_review": dt.date(2027, 2, 10),  # WD 8
        "supply_review": dt.date(2027, 2, 16),  # WD 12
        "executive_review": dt.date(2027, 2, 19),  # WD 15
        "published": dt.date(2027, 2, 22),  # WD 16
    }


def test_an_edited_calendar_moves_the_due_dates():
    due = stage_due_dates(dt.date(2027, 3, 1), {"demand_review": 5, "supply_review": 9})
    assert due["demand_review"] == dt.date(2027, 2, 5)
    assert due["supply_review"] == dt.date(2027, 2, 11)


@pytest.mark.parametrize(
    "calendar, message",
    [
        ({"nope": 3}, "unknown stage 'nope'"),
        ({"data": 0}, "stage 'data': the working day"),
        ({"data": 2.5}, "stage 'data': the working day"),
        ({"data": 9}, "stage 'demand_review' is due before"),
    ],
)
def test_bad_calendars_are_refused_naming_the_stage(calendar, message):
    with pytest.raises(ValueError, match=message):
        validate_calendar(calendar)
