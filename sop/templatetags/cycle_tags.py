"""Template filter of the cycle pages: a value of a row dict by a key held in a variable."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
