from django.urls import path

from sop import views

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
]
