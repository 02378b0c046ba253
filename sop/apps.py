from django.apps import AppConfig


class SopConfig(AppConfig):
    name = "sop"

    def ready(self):
        # The planning chain: a forecast run started by sop calls back when it ends.
        from forecasting import follow_ups
        from sop.services import PLAN_RUN_FOLLOW_UP, plan_run_after_forecast

        follow_ups.register(PLAN_RUN_FOLLOW_UP, plan_run_after_forecast)
