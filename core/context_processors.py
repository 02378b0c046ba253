from core import roles
from core.navigation import menu_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    codes = roles.user_roles(user)
    return {
        "nav_items": menu_for(user, request.path),
        "user_role_labels": [roles.ROLES[c] for c in roles.ROLES if c in codes],
    }
