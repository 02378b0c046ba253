"""compensation models (filled in by its issue)."""
