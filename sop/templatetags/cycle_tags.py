"""Template helpers of the cycle pages: a value of a row dict by a key held in a variable, and
the month cells of one measure of a demand grid row written in one pass.

The demand review's grid is families × measures × months (a thousand cells); written by the
template language each cell's ``with``/``get_item``/``floatformat``/``intcomma`` cost ~100 µs
(a tenth of a second a page). ``measure_cells`` writes a row's cells with one ``format_html``
each, numbers in the reader's format (``1.234`` in German).
"""

from django import template
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.l10n import grouped

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.simple_tag
def measure_cells(row: dict, code: str, label, editable=(), level: str = "family"):
    """``<td>`` per month of ``row`` (``demand_grid``) for measure ``code`` and one for the
    row's total: an input (with the cell's keys and etag) where ``code`` is editable, else the
    value rounded to units; an empty cell where the row has no month, ``—`` where no value."""
    months: dict = {}
    out = []
    for cell in row["cells"]:
        if not cell:
            out.append(mark_safe('<td class="num"></td>'))
            continue
        value = cell.get(code)
        if code in editable:
            period = cell["period_start"]
            if period not in months:
                months[period] = (period.isoformat(), formats.date_format(period, "M Y"))
            iso, shown = months[period]
            out.append(
                format_html(
                    '<td class="num"><input class="cell" type="number" min="0" step="1" value="{}" '
                    'data-level="{}" data-family_code="{}" data-period="{}" data-measure="{}" data-etag="{}" '
                    'aria-label="{} {} {}"></td>',
                    "" if value is None else value,
                    level,
                    row["key"],
                    iso,
                    code,
                    cell["etag"],
                    label,
                    row["key"],
                    shown,
                )
            )
        else:
            out.append(format_html('<td class="num">{}</td>', "—" if value is None else grouped(value)))
    total = row["sum"].get(code)
    out.append(format_html('<td class="num">{}</td>', "—" if total is None else grouped(total)))
    return format_html_join("", "{}", ((cell,) for cell in out))
