"""Rep enablement: which required training modules each person holds, is due to renew, or lacks.

Pure calculation (pandas; no Django).

Inputs
------
``required``: one row per person × required module — ``username, module_code, module_name``
(modules required for any of the person's roles).
``completions``: ``username, module_code, completed_on, expires_on`` (None: never expires).
``today``; ``due_within_days`` (a completion expiring within this many days is *due*).

Rules
-----
A person's latest completion of a module (by ``completed_on``) decides: none → ``missing``;
``expires_on`` before ``today`` → ``overdue``; ``expires_on`` within ``due_within_days`` of
``today`` (inclusive) → ``due``; otherwise ``current``. A certification is *current* on a day
when some completion of the module has ``completed_on ≤ day ≤ expires_on`` (or no expiry).

Outputs
-------
:func:`training_status` → ``required`` plus ``completed_on, expires_on, status``, sorted by
status (overdue, missing, due, current), username, module.
:func:`missing_certifications` → the module codes of ``modules`` without a current completion on
``day`` among ``completions`` (one person's).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

STATUS_ORDER = {"overdue": 0, "missing": 1, "due": 2, "current": 3}
DUE_WITHIN_DAYS = 30


def training_status(
    required: pd.DataFrame, completions: pd.DataFrame, *, today: dt.date, due_within_days: int = DUE_WITHIN_DAYS
) -> pd.DataFrame:
    columns = [*required.columns, "completed_on", "expires_on", "status"]
    if required.empty:
        return pd.DataFrame(columns=columns)
    latest = completions.sort_values(["username", "module_code", "completed_on"]).drop_duplicates(
        ["username", "module_code"], keep="last"
    )[["username", "module_code", "completed_on", "expires_on"]]
    out = required.merge(latest, on=["username", "module_code"], how="left")
    horizon = today + dt.timedelta(days=due_within_days)
    status = []
    for done, expires in zip(out["completed_on"], out["expires_on"], strict=True):
        if done is None or pd.isna(done):
            status.append("missing")
        elif expires is None or pd.isna(expires):
            status.append("current")
        elif expires < today:
            status.append("overdue")
        elif expires <= horizon:
            status.append("due")
        else:
            status.append("current")
    out["status"] = status
    out["completed_on"] = out["completed_on"].astype(object).where(out["completed_on"].notna(), None)
    out["expires_on"] = out["expires_on"].astype(object).where(out["expires_on"].notna(), None)
    out["_rank"] = out["status"].map(STATUS_ORDER)
    return out.sort_values(["_rank", "username", "module_code"]).drop(columns="_rank").reset_index(drop=True)[columns]


def missing_certifications(modules: list[str], completions: pd.DataFrame, *, day: dt.date) -> list[str]:
    held = set()
    for code, done, expires in zip(
        completions["module_code"], completions["completed_on"], completions["expires_on"], strict=True
    ):
        if done <= day and (expires is None or pd.isna(expires) or day <= expires):
            held.add(code)
    return [m for m in modules if m not in held]
