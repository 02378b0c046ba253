from django.urls import path

from sop import cycle_views, views

app_name = "sop"

urlpatterns = [
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("alerts/<int:pk>/<str:action>/", views.alert_action, name="alert-action"),
    path("capacity/", views.capacity, name="capacity"),
    path("capacity/<str:code>/<str:period>/", views.capacity_cell, name="capacity-cell"),
    path("products/<str:sku>/", views.product, name="product"),
    path("runs/start/", views.run_start, name="run-start"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("cycle/", cycle_views.cycle, name="cycle"),
    path("cycle/new/", cycle_views.cycle_create, name="cycle-create"),
    path("cycle/versions/", cycle_views.versions, name="cycle-versions"),
    path("cycle/<str:month>/demand/", cycle_views.demand_review, name="cycle-demand"),
    path("cycle/<str:month>/supply/", cycle_views.supply_review, name="cycle-supply"),
    path("cycle/<str:month>/executive/", cycle_views.executive_review, name="cycle-executive"),
    path("cycle/<str:month>/decisions/", cycle_views.decisions, name="cycle-decisions"),
    path("cycle/<str:month>/<str:action>/", cycle_views.cycle_action, name="cycle-action"),
]
