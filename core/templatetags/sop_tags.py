"""Template tags of the app: export links, page links and money with the organisation's currency."""

from __future__ import annotations

import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import formats, translation
from django.utils.http import urlencode

from core.l10n import grouped
from core.services import organisation_settings_get

register = template.Library()


def _query(request, drop: tuple[str, ...]) -> str:
    pairs = [(k, v) for k, values in request.GET.lists() if k not in drop for v in values]
    return urlencode(pairs) + "&" if pairs else ""


@register.inclusion_tag("core/_exports.html", takes_context=True)
def export_links(context, table: str = "", label: str = ""):
    """CSV (the viewer's locale dialect) and XLSX of the page's list, with its filters;
    ``table`` names one of several tables of a page (``?table=…``), ``label`` says which."""
    query = _query(context["request"], ("export", "page", "table"))
    return {"export_query": query + (urlencode({"table": table}) + "&" if table else ""), "label": label}


@register.simple_tag(takes_context=True)
def page_query(context, number):
    """The current query string with ``page`` set (filters kept)."""
    return "?" + _query(context["request"], ("export", "page")) + f"page={number}"


CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_currency_memo: dict[str, object] = {}


def organisation_currency() -> str:
    """The organisation's currency code (memoised for 60 s per process; cleared when saved)."""
    now = time.monotonic()
    if _currency_memo.get("at", -1e9) < now - 60:
        _currency_memo.update(code=organisation_settings_get().currency or "EUR", at=now)
    return str(_currency_memo["code"])


def format_money(value, decimals: int = 2, currency: str | None = None, language: str | None = None) -> str:
    """``1.234,56 €`` (German), ``1.234,56 €`` (Italian), ``€1,234.56`` (English); a code
    without a symbol stands as the code (``1.234,56 CHF``, ``CHF 1,234.56``)."""
    if value is None or value == "":
        return "—"

    code = currency or organisation_currency()
    try:  # round half up first: number_format cuts the digits off
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    lang = (language or translation.get_language() or "en")[:2]
    with translation.override(lang):
        number = formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(code, code)
    if lang == "en":
        sign = ""
        if number.startswith("-"):
            sign, number = "-", number[1:]
        return f"{sign}{symbol}{number}" if symbol != code else f"{sign}{code} {number}"
    return f"{number}\u00a0{symbol}"


@register.filter
def num(value, decimals=0):
    """``floatformat:N|intcomma`` in one step (``core.l10n.grouped``): ``1.234,5`` in German."""
    try:
        decimals = int(decimals)
    except (TypeError, ValueError):
        decimals = 0
    return grouped(value, decimals)


@register.filter
def money(value, decimals=2):
    """An amount in the organisation's currency, formatted for the active language."""
    try:
        decimals = int(decimals)
    except (TypeError, ValueError):
        decimals = 2
    return format_money(value, decimals)
