"""Template filters of alerts: their message and suggestion in the viewer's language."""

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _

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


_MARK = 987654321


@register.simple_tag(takes_context=True)
def alert_actions(context, alert):
    """The Acknowledge and Resolve forms of an inbox row (the ones its status allows), back to
    the same page. The token, the links and the words are made once per page, not per row (a
    hundred rows × two forms of tags cost a fifth of the inbox's time)."""
    shared = context.render_context.get("alert_actions")
    if shared is None:
        request = context["request"]
        shared = {
            "token": get_token(request),
            "next": request.get_full_path(),
            "acknowledge": reverse("sop:alert-action", args=[_MARK, "acknowledge"]),
            "resolve": reverse("sop:alert-action", args=[_MARK, "resolve"]),
            "words": {"acknowledge": _("Acknowledge"), "resolve": _("Resolve")},
        }
        context.render_context["alert_actions"] = shared
    actions = [
        a
        for a, allowed in (("acknowledge", alert.status == "open"), ("resolve", alert.status != "resolved"))
        if allowed
    ]
    return format_html_join(
        "\n",
        '<form method="post" action="{}" style="display:inline"><input type="hidden" name="csrfmiddlewaretoken" '
        'value="{}"><input type="hidden" name="next" value="{}"><button type="submit">{}</button></form>',
        (
            (shared[a].replace(str(_MARK), str(alert.pk)), shared["token"], shared["next"], shared["words"][a])
            for a in actions
        ),
    )


@register.filter
def alert_amount(alert, decimals=0) -> str:
    """``{{ alert|alert_amount }}``: the amount and its unit in the active language (``1.500 h``)."""
    return _amount(alert, int(decimals))
