"""Template tags of the app: export links, page links and money with the organisation's currency."""

from __future__ import annotations

from django import template
from django.utils.http import urlencode

register = template.Library()


def _query(request, drop: tuple[str, ...]) -> str:
    pairs = [(k, v) for k, values in request.GET.lists() if k not in drop for v in values]
    return urlencode(pairs) + "&" if pairs else ""


@register.inclusion_tag("core/_exports.html", takes_context=True)
def export_links(context):
    """CSV (the viewer's locale dialect) and XLSX of the page's list, with its filters."""
    return {"export_query": _query(context["request"], ("export", "page"))}


@register.simple_tag(takes_context=True)
def page_query(context, number):
    """The current query string with ``page`` set (filters kept)."""
    return "?" + _query(context["request"], ("export", "page")) + f"page={number}"
