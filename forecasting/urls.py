from django.urls import path

from forecasting import views

app_name = "forecasting"
urlpatterns = [
    path("", views.runs, name="runs"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/series/<int:series_id>/", views.series_detail, name="series"),
]
