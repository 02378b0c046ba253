from django.urls import path

from territories import views

app_name = "territories"

urlpatterns = [
    path("", views.tree, name="tree"),
    path("rules/", views.rules, name="rules"),
    path("realignment/", views.realignment, name="realignment"),
    path("balancing/", views.balancing, name="balancing"),
    path("quotas/", views.quotas, name="quotas"),
    path("quotas/<str:code>/", views.quota_plan, name="quota_plan"),
    path("attainment/", views.attainment, name="attainment"),
    path("attainment/lines/", views.attainment_lines, name="attainment_lines"),
]
