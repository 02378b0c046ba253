from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScenariosConfig(AppConfig):
    name = "scenarios"
    verbose_name = _("What-if scenarios")

    def ready(self):
        # The executive review (sop, below this app) shows forecast value added through the
        # callback list it offers, never by importing upwards. Imported here: views load
        # models, which exist only once the registry is ready.
        from scenarios.views import executive_accuracy_panel
        from sop import cycle_views

        if executive_accuracy_panel not in cycle_views.EXECUTIVE_PANELS:
            cycle_views.EXECUTIVE_PANELS.append(executive_accuracy_panel)
