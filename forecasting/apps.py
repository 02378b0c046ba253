from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "forecasting"

    def ready(self):
        # Territory performance reads forecasts through territories.sources (no upward import);
        # models are not loaded before ready.
        from forecasting import selectors
        from territories import sources

        sources.provide(territory_forecast_n12m=selectors.territory_forecast_n12m)
