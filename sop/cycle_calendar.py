"""The monthly S&OP cycle's stages and their due dates.

Pure (standard library only; no Django). A cycle is named by the month its plan starts
(``2027-03-01`` plans March 2027 onwards) and is worked in the month before, so the plan is
published before its first month begins. Each stage is due on a working day of that month,
counted from its first working day (day 1): the *cycle calendar* holds one such offset per
stage and the organisation may edit it. Working days are Monday to Friday minus the given
holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class StageDefinition:
    code: str
    owner_role: str
    default_working_day: int


#: The stages in order. ``published`` is the end state: reaching it publishes the plan.
STAGES: tuple[StageDefinition, ...] = (
    StageDefinition("data", "planner", 3),
    StageDefinition("demand_review", "planner", 8),
    StageDefinition("supply_review", "ops_lead", 12),
    StageDefinition("executive_review", "executive", 15),
    StageDefinition("published", "executive", 16),
)
STAGE_CODES: tuple[str, ...] = tuple(stage.code for stage in STAGES)
BY_CODE: dict[str, StageDefinition] = {stage.code: stage for stage in STAGES}
DEFAULT_CALENDAR: dict[str, int] = {stage.code: stage.default_working_day for stage in STAGES}


class CalendarError(ValueError):
    """A cycle calendar that cannot be used. ``code`` and ``params`` let the service layer
    word it in the user's language; ``str()`` is the English wording."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


def next_stage(code: str) -> str | None:
    index = STAGE_CODES.index(code)
    return STAGE_CODES[index + 1] if index + 1 < len(STAGE_CODES) else None


def previous_stage(code: str) -> str | None:
    index = STAGE_CODES.index(code)
    return STAGE_CODES[index - 1] if index > 0 else None


def run_month(cycle_month: dt.date) -> dt.date:
    """First day of the month in which the cycle for ``cycle_month`` is worked."""
    if cycle_month.month == 1:
        return dt.date(cycle_month.year - 1, 12, 1)
    return dt.date(cycle_month.year, cycle_month.month - 1, 1)


def nth_working_day(month_start: dt.date, n: int, holidays: Iterable[dt.date] = ()) -> dt.date:
    """The ``n``-th working day (1 = the first) counted from ``month_start``; it may run into
    the next month when ``n`` exceeds the month's working days."""
    if n < 1:
        raise ValueError("working-day offsets start at 1")
    closed = set(holidays)
    day = month_start
    count = 0
    while True:
        if day.weekday() < 5 and day not in closed:
            count += 1
            if count == n:
                return day
        day += dt.timedelta(days=1)


def validate_calendar(calendar: Mapping[str, int]) -> dict[str, int]:
    """A complete calendar (missing stages take their defaults) whose offsets are whole
    working days ≥ 1 and do not decrease from one stage to the next. Raises
    :class:`CalendarError` (a ValueError) naming the stage."""
    result = dict(DEFAULT_CALENDAR)
    for code, value in calendar.items():
        if code not in BY_CODE:
            raise CalendarError("unknown_stage", f"unknown stage '{code}'", stage=code)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 40:
            raise CalendarError(
                "bad_working_day", f"stage '{code}': the working day must be a whole number from 1 to 40", stage=code
            )
        result[code] = value
    previous = None
    for code in STAGE_CODES:
        if previous is not None and result[code] < result[previous]:
            raise CalendarError(
                "out_of_order",
                f"stage '{code}' is due before the stage before it ('{previous}')",
                stage=code,
                previous=previous,
            )
        previous = code
    return result


def stage_due_dates(
    cycle_month: dt.date, calendar: Mapping[str, int] | None = None, holidays: Iterable[dt.date] = ()
) -> dict[str, dt.date]:
    """Due date of every stage of the cycle for ``cycle_month``."""
    offsets = validate_calendar(calendar or {})
    start = run_month(cycle_month)
    holidays = tuple(holidays)
    return {code: nth_working_day(start, offsets[code], holidays) for code in STAGE_CODES}
