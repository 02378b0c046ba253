from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("accounts/", views.accounts, name="accounts"),
    path("signed-in/", views.floor, name="floor"),
    path("<str:role>/<str:chart>.csv", views.export, name="export"),
    path("<str:role>/<str:chart>.xlsx", views.export, {"fmt": "xlsx"}, name="export-xlsx"),
]
