from django.apps import AppConfig


class SopConfig(AppConfig):
    name = "sop"

    def ready(self):
        # The planning chain: a forecast run started by sop calls back when it ends.
        # Territory performance reads alerts and family plans through territories.sources.
        # Imports here: models are not loaded before ready.
        from forecasting import follow_ups
        from sop import selectors
        from sop.services import PLAN_RUN_FOLLOW_UP, plan_run_after_forecast
        from territories import sources

        follow_ups.register(PLAN_RUN_FOLLOW_UP, plan_run_after_forecast)
        sources.provide(
            target_not_buildable_alerts=selectors.target_not_buildable_alerts,
            family_plan_feasible=selectors.family_plan_feasible,
        )
