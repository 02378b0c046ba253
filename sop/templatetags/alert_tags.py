"""Template filters of alerts: their message and suggestion in the viewer's language."""

from django import template

from sop.alert_messages import alert_amount as _amount
from sop.alert_messages import alert_message as _message
from sop.alert_messages import alert_suggestion as _suggestion

register = template.Library()


@register.filter
def alert_message(alert) -> str:
    """``{{ alert|alert_message }}``: an alert (model or ``.values()`` row with ``message_key``,
    ``message_params``, ``message``) worded in the active language."""
    return _message(alert)


@register.filter
def alert_suggestion(alert) -> str:
    return _suggestion(alert)


@register.filter
def alert_amount(alert, decimals=0) -> str:
    """``{{ alert|alert_amount }}``: the amount and its unit in the active language (``1.500 h``)."""
    return _amount(alert, int(decimals))
