"""The comparison's shapes for people: export rows (CSV/XLSX), the table with the differences
flagged, and the chart's series (pure: plain dicts and lists, no Django).

``result`` is ``scenarios.services.comparison``'s answer: ``base`` (KPIs),
``base_family_months`` and ``scenarios`` (each ``id, name, kpis, delta, family_months``).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scenarios.kpis import KPI_KEYS

#: KPIs where more is better (the others: less is better); the table colours a difference
HIGHER_IS_BETTER = frozenset({"service_level_units", "service_level_value", "revenue", "margin"})
FAMILY_MEASURES = ("demand_qty", "feasible_qty", "shortfall_qty", "shortfall_value", "revenue", "not_buildable_qty")
#: a difference smaller than this is no difference (float noise in units and hours)
TOLERANCE = Decimal("0.0005")


def _scenario_label(scenario: dict) -> str:
    return f"{scenario['name']} (#{scenario['id']})"


def kpi_rows(result: dict) -> Iterator[list]:
    for key in KPI_KEYS:
        row = [key, result["base"].get(key)]
        for scenario in result["scenarios"]:
            row += [scenario["kpis"].get(key), scenario["delta"].get(key)]
        yield row


def family_rows(result: dict, family_code: str | None) -> Iterator[list]:
    def index(months: list[dict]) -> dict:
        return {
            (r["family_code"], r["period_start"]): r
            for r in months
            if family_code is None or r["family_code"] == family_code
        }

    base = index(result["base_family_months"])
    others = [index(s["family_months"]) for s in result["scenarios"]]
    keys = sorted(set(base).union(*[set(o) for o in others]))
    for key in keys:
        for measure in FAMILY_MEASURES:
            yield [
                key[0],
                key[1],
                measure,
                (base.get(key) or {}).get(measure, 0),
                *[(o.get(key) or {}).get(measure, 0) for o in others],
            ]


def comparison_rows(result: dict, *, family_code: str | None = None) -> tuple[list[str], Iterator[list]]:
    """(header, rows) of the export: one row per KPI (base, then each scenario's value and Δ),
    or with ``family_code`` ("" = every family) one row per family × month × measure."""
    if family_code is not None:
        header = ["family_code", "period_start", "measure", "base", *[_scenario_label(s) for s in result["scenarios"]]]
        return header, family_rows(result, family_code or None)
    header = ["kpi", "base"]
    for scenario in result["scenarios"]:
        header += [_scenario_label(scenario), f"{_scenario_label(scenario)} − base"]
    return header, kpi_rows(result)


def judgement(key: str, delta) -> str:
    """``better``, ``worse`` or ``same`` for a KPI's scenario − base."""
    value = Decimal(str(delta))
    if abs(value) <= TOLERANCE:
        return "same"
    return "better" if (value > 0) == (key in HIGHER_IS_BETTER) else "worse"


def table(result: dict, labels: dict[str, str]) -> list[dict]:
    """One row per KPI for the page: its label, the base and each scenario's value, Δ and judgement."""
    rows = []
    for key in KPI_KEYS:
        cells = [
            {
                "value": s["kpis"].get(key),
                "delta": s["delta"].get(key),
                "judgement": judgement(key, s["delta"].get(key, 0)),
            }
            for s in result["scenarios"]
        ]
        rows.append({"key": key, "label": labels.get(key, key), "base": result["base"].get(key), "cells": cells})
    return rows


def chart(result: dict, labels: dict[str, str], keys: tuple[str, ...]) -> dict:
    """Chart.js data: the chosen KPIs as groups, one bar series for the base and each scenario."""

    def number(value) -> float:
        return float(value) if value is not None else 0.0

    series = [{"label": labels.get("base", "base"), "data": [number(result["base"].get(k)) for k in keys]}]
    series += [
        {"label": _scenario_label(s), "data": [number(s["kpis"].get(k)) for k in keys]} for s in result["scenarios"]
    ]
    return {"labels": [labels.get(k, k) for k in keys], "datasets": series}
