from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The top of the stack: the home page, the demo company and the bulk registry, which
    gather every area (no other app imports ``home``)."""

    name = "home"
