from django.conf import settings

from core import roles
from core.middleware import SESSION_LANGUAGE
from core.navigation import menu_for


def navigation(request) -> dict:
    session = getattr(request, "session", None)
    chosen = (session.get(SESSION_LANGUAGE) if session is not None else None) or request.COOKIES.get(
        settings.LANGUAGE_COOKIE_NAME, ""
    )
    context = {"chosen_language": chosen if chosen in dict(settings.LANGUAGES) else ""}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    codes = roles.user_roles(user)
    return context | {
        "nav_items": menu_for(user, request.path),
        "user_role_labels": [roles.ROLES[c] for c in roles.ROLES if c in codes],
    }
