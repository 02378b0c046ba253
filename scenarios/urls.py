from django.urls import path

from scenarios import views

app_name = "scenarios"

urlpatterns = [
    path("", views.scenario_list, name="list"),
    path("compare/", views.scenario_compare, name="compare"),
    path("accuracy/", views.forecast_accuracy, name="accuracy"),
    path("<int:pk>/", views.scenario_detail, name="detail"),
    path("<int:pk>/run/", views.scenario_run, name="run"),
    path("<int:pk>/promote/", views.scenario_promote, name="promote"),
]
