"""The rows of the demand review's pipeline table written in one pass.

Up to 300 rows × nine cells; written by the template language (a link, a default, a date, four
number filters and a ratio per row) they took a third of the demand review's time.
"""

from __future__ import annotations

import math

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from core.l10n import grouped

register = template.Library()

_MARK = "SKU-MARK-0"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@register.simple_tag
def pipeline_rows(panel: dict):
    """``<tr>`` per pipeline row of ``panel`` (``crm.views.demand_review_panel``): the product
    (linked to its page) or family, territory, month, deals, pipeline and weighted units, the
    statistical forecast, the sales input and the share of the forecast the deals explain."""
    by_product = panel["level"] == "product"
    product_url = reverse("sop:product", args=[_MARK]) if by_product else ""
    no_territory = _("No territory")
    rows = []
    for row in panel["rows"]:
        key = row["key"]
        label = format_html('<a href="{}">{}</a>', product_url.replace(_MARK, str(key)), key) if by_product else key
        share = row.get("share_explained")
        rows.append(
            (
                label,
                row["territory_code"] or no_territory,
                row["period_start"].strftime("%Y-%m"),
                row["deals"],
                grouped(row["pipeline_units"]),
                grouped(row["weighted_units"], 1),
                grouped(row["statistical"]),
                "—" if _missing(row.get("sales_override")) else grouped(row["sales_override"]),
                "—" if _missing(share) else f"{grouped(share * 100)}\u00a0%",
            )
        )
    return format_html_join(
        "\n",
        '<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td>'
        '<td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
        rows,
    )
