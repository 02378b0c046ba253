"""forecasting models (filled in by its issue)."""
