"""The words of the alerts, in the viewer's language.

The alert rules (``sop.alert_rules``, pure) and the alert sources of the apps above sop (the
CRM's ``deal_at_risk``) do not write text: they name a message by key and hand its parameters
(JSON: names and codes as text, numbers as int or decimal text, months and dates ISO). This
catalogue maps each key to its gettext template and formats the parameters for a language.

- ``alert_text(key, params)``: the English text stored in ``CapacityAlert.message`` /
  ``suggestion`` (the API's and the webhooks' words, unchanged: ``1,234 h``, ``2027-03``).
- ``alert_text(key, params, language="de")``: the text a person reads on pages, dashboards
  and human exports: translated, numbers, months, dates and amounts in the locale's format.

Parameter kinds, by name: ``*_h`` hours, ``*_units`` units, ``*_pct`` a percentage (a whole
number: 150 is 150 %), ``*_money`` an amount (decimal text) in ``params["currency"]``,
``month``/``*_month`` the ISO date of a month's first day, ``date``/``*_date`` an ISO date, other
numbers a plain number, text as it is. A value ``{"key": ..., "params": ...}`` is a message of
its own (a phrase) and a list of them is sentences joined by spaces (the ``sentences`` key
holds such a list). An alert stored before keys existed has none: its stored text is shown.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from core.templatetags.sop_tags import format_money
from inventory.models import ProductFamily
from territories.models import Territory

_SHORTFALL = _("%(shortfall_h)s cannot be built in time.")
_SPIFF = _("SPIFF: pay %(per_unit_money)s per unit sold on %(what)s (%(qty_units)s; %(total_money)s if all sell).")
_MARKDOWN = _(
    "Markdown: %(markdown_pct)s off the %(price_money)s unit price on %(what)s "
    "(%(qty_units)s; %(given_up_money)s of revenue given up)."
)

MESSAGES: dict[str, object] = {
    # sentences of several messages (a rule that says more than one thing)
    "sentences": "%(sentences)s",
    # capacity_overload
    "capacity_overload.critical": _(
        "%(work_center)s is loaded at %(utilisation_pct)s in %(month)s: %(over_h)s over the %(available_h)s available."
    ),
    "capacity_overload.no_hours": _("%(work_center)s has no hours available in %(month)s but needs %(load_h)s."),
    "capacity_overload.prebuilt": _("%(prebuilt_h)s can be built ahead in earlier periods."),
    "capacity_overload.shortfall": _SHORTFALL,
    "capacity_overload.suggestion": _(
        "Add %(shortfall_h)s of capacity in or before %(month)s (overtime, an extra shift, another work center) "
        "or lower the demand."
    ),
    "capacity_overload.warning": _(
        "%(work_center)s is loaded at %(utilisation_pct)s in %(month)s: %(load_h)s of the %(available_h)s "
        "available, %(headroom_h)s headroom."
    ),
    # capacity_underload
    "capacity_underload": _(
        "%(work_center)s is loaded at only %(utilisation_pct)s in %(month)s: %(unused_h)s of the %(available_h)s "
        "available are unused."
    ),
    "capacity_underload.suggestion": _(
        "Pull work forward from overloaded periods, move products here from overloaded work centers, or plan "
        "maintenance and training."
    ),
    # stockout_risk
    "stockout_risk.critical": _(
        "%(product)s runs out of stock: %(unserved_units)s of demand cannot be served in %(month)s."
    ),
    "stockout_risk.critical_span": _(
        "%(product)s runs out of stock: %(unserved_units)s of demand cannot be served between %(first_month)s "
        "and %(last_month)s."
    ),
    "stockout_risk.warning": _(
        "%(product)s: projected inventory drops below the safety stock from %(month)s; lowest %(lowest_units)s "
        "in %(lowest_month)s, %(below_units)s below the %(safety_stock_units)s safety stock."
    ),
    "stockout_risk.critical.suggestion": _(
        "Pre-build in earlier periods with free capacity, expedite supply, or agree an allocation of the "
        "available stock with sales."
    ),
    "stockout_risk.warning.suggestion": _("Check the safety stock and bring replenishment forward."),
    # target_not_buildable and target_at_risk
    "target.family": _("Family %(family)s"),
    "target.family_territory": _("Family %(family)s, territory %(territory)s"),
    "target_not_buildable": _(
        "%(target)s in %(month)s: the quota of %(quota_units)s cannot be supplied in full; %(short_units)s "
        "cannot be built (%(feasible_units)s feasible)."
    ),
    "target_not_buildable.territory": _(
        "%(target)s in %(month)s: the quota of %(quota_units)s cannot be supplied in full; %(short_units)s "
        "cannot be built (its share of the family's %(family_short_units)s short of %(family_quota_units)s; "
        "%(feasible_units)s feasible)."
    ),
    "target_not_buildable.suggestion": _(
        "Agree in the supply review whether to add capacity or pre-build, or lower the quota to the feasible quantity."
    ),
    "target_at_risk": _(
        "%(target)s in %(month)s: the quota of %(quota_units)s is %(above_pct)s above the forecast of "
        "%(forecast_units)s."
    ),
    "target_at_risk.no_forecast": _("%(target)s in %(month)s: a quota of %(quota_units)s and no forecast."),
    "target_at_risk.suggestion": _("Review the quota against the demand plan before the period starts."),
    # excess_stock and aged_stock
    "excess_stock": _(
        "%(product)s: %(available_units)s available cover %(cover_days)s days; %(excess_units)s are beyond "
        "%(cover_months)s months of forecast demand (%(cost_money)s at cost)."
    ),
    "excess_stock.no_demand": _(
        "%(product)s: %(available_units)s available and no forecast demand; all %(excess_units)s are excess "
        "(%(cost_money)s at cost)."
    ),
    "aged_stock": _("%(product)s: %(aged_units)s in stock are older than %(after_days)s days, %(cost_money)s at cost."),
    "aged_stock.some_over_a_year": _(
        "%(product)s: %(aged_units)s in stock are older than %(after_days)s days (%(old_units)s older than a "
        "year), %(cost_money)s at cost."
    ),
    "spiff": _SPIFF,
    "markdown": _MARKDOWN,
    "stock.excess": _("the excess"),
    "stock.over_a_year": _("the units older than a year"),
    "stock.aged_days": _("the units aged %(from_days)s–365 days"),
    # comments a plan run writes on an alert
    "alert.reopened": _("Reopened by plan run %(run_id)s (%(run_date)s): the cause is back."),
    "alert.reopened_resolved": _(
        "Reopened by plan run %(run_id)s (%(run_date)s): the cause is back. It had been resolved: %(resolution)s"
    ),
    "alert.reopened_after_run": _(
        "Reopened by plan run %(run_id)s (%(run_date)s): the cause is back. Plan run %(resolved_run_id)s had "
        "found it gone."
    ),
    # deal_at_risk (raised by the CRM, crm.services.deal_at_risk_candidates)
    "deal_at_risk": _(
        "Deal %(deal)s (%(account)s, %(probability_pct)s): %(qty_units)s of %(sku)s requested by %(date)s; "
        "%(available_units)s can be delivered by then (%(limit)s); all of them %(earliest)s."
    ),
    "deal_at_risk.work_center_full": _("work center %(work_center)s is full"),
    "deal_at_risk.no_stock": _("not enough stock and no routing to make more"),
    "deal_at_risk.earliest": _("by %(earliest_date)s"),
    "deal_at_risk.beyond_horizon": _("not within the plan's horizon"),
    "deal_at_risk.suggestion": _(
        "Agree a later delivery or a split delivery with the customer, or free capacity before the date."
    ),
}


def alert_text(key: str | None, params: Mapping | None, language: str | None = None, *, fallback: str = "") -> str:
    """The text of a message: English with the API's formats when ``language`` is None, else
    in that language and its formats. An unknown or missing key gives ``fallback``."""
    if not key or key not in MESSAGES:
        return fallback
    with translation.override(language or "en"):
        return _render(key, params or {}, language)


def alert_message(alert, language: str | None = None) -> str:
    """The message of an alert (a model or a ``.values()`` row) in ``language`` (default: active)."""
    return _of(alert, "message", language)


def alert_suggestion(alert, language: str | None = None) -> str:
    return _of(alert, "suggestion", language)


#: the unit of an alert's amount, as a word for people (the stored code is the API's)
UNITS = {"hours": _("hours"), "units": _("units")}


def alert_amount(alert, decimals: int = 0, language: str | None = None) -> str:
    """An alert's amount with its unit in the viewer's language: ``1.500 h``, ``33 Stück``."""
    get = alert.get if isinstance(alert, Mapping) else lambda name, default=None: getattr(alert, name, default)
    amount, unit = get("amount"), get("unit")
    if amount is None:
        return "—"
    with translation.override(language or translation.get_language() or "en"):
        number = formats.number_format(amount, decimal_pos=decimals, use_l10n=True, force_grouping=True)
        if unit == "hours":
            return f"{number} h"
        if unit == "units":
            return str(_("%(number)s units") % {"number": number})
        return f"{number} {unit}"


def comment_text(comment, language: str | None = None) -> str:
    """A comment on an alert in ``language`` (default: active): a job's comment names a key of
    this catalogue (``Comment.text_key``); a person's is shown as they wrote it."""
    language = language or translation.get_language() or "en"
    return alert_text(comment.text_key, comment.text_params, language, fallback=comment.text)


def _of(alert, field: str, language: str | None) -> str:
    get = alert.get if isinstance(alert, Mapping) else lambda name, default=None: getattr(alert, name, default)
    language = language or translation.get_language() or "en"
    return alert_text(get(f"{field}_key"), get(f"{field}_params"), language, fallback=get(field) or "")


def _render(key: str, params: Mapping, language: str | None) -> str:
    values = {name: _value(name, value, params, language) for name, value in params.items()}
    return str(MESSAGES[key]) % values


#: how long a process keeps the family and territory names it words alerts with
NAMES_TTL_SECONDS = 60
_names: dict = {}
_names_lock = threading.Lock()


def _name_of(kind: str, code: str) -> str:
    """The name people know a family or territory by (the code when it has none or is gone),
    for the texts people read; kept per process for a minute, as the currency is."""
    key = (connection.alias, connection.settings_dict.get("NAME"))
    now = time.monotonic()
    with _names_lock:
        held = _names.get(key)
    if held is None or held[0] < now - NAMES_TTL_SECONDS:
        held = (
            now,
            {
                "family": dict(ProductFamily.objects.values_list("code", "name")),
                "territory": dict(Territory.objects.values_list("code", "name")),
            },
        )
        with _names_lock:
            _names[key] = held
    return held[1][kind].get(code) or code


def _value(name: str, value, params: Mapping, language: str | None) -> str:
    if language is not None and name in ("family", "territory") and isinstance(value, str):
        return _name_of(name, value)  # the API's English keeps the code
    if isinstance(value, Mapping) and "key" in value:
        return alert_text(value["key"], value.get("params"), language)
    if isinstance(value, list):
        return " ".join(alert_text(v["key"], v.get("params"), language) for v in value)
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)  # None: a number that was not finite
    if name.endswith("_money"):
        return _money(value, params.get("currency") or "", language)
    if name == "month" or name.endswith("_month"):
        return _month(value, language)
    if name == "date" or name.endswith("_date"):
        day = dt.date.fromisoformat(value)
        return day.isoformat() if language is None else formats.date_format(day, "DATE_FORMAT")
    if isinstance(value, int | float | Decimal):
        number = _number(value, language)
        if name.endswith("_h"):
            return f"{number} h"
        if name.endswith("_units"):
            return _("%(number)s units") % {"number": number}
        if name.endswith("_pct"):
            return f"{number} %"
        return number
    return str(value)


def _number(value, language: str | None) -> str:
    if language is None:
        return f"{value:,.0f}"
    return formats.number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


def _money(value, currency: str, language: str | None) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if language is None:
        return f"{amount:,.2f} {currency}".strip()
    return format_money(amount, 2, currency=currency or None, language=language)


def _month(value: str, language: str | None) -> str:
    day = dt.date.fromisoformat(value)
    if language is None:
        return f"{day.year:04d}-{day.month:02d}"
    return formats.date_format(day, "YEAR_MONTH_FORMAT")
