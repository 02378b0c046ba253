from django.urls import path

from compensation import views

app_name = "compensation"

urlpatterns = [
    path("", views.statements, name="statements"),
    path("statements/<int:pk>/", views.statement, name="statement"),
    path("statements/<int:pk>.csv", views.statement_csv, name="statement_csv"),
    path("payroll.csv", views.payroll_csv, name="payroll_csv"),
    path("disputes/", views.disputes, name="disputes"),
    path("disputes/raise", views.dispute_raise, name="dispute_raise"),
    path("disputes/<int:pk>/answer", views.dispute_answer, name="dispute_answer"),
    path("disputes/<int:pk>/close", views.dispute_close, name="dispute_close"),
    path("plans/", views.plans, name="plans"),
    path("what-if/", views.what_if, name="what_if"),
    path("periods/", views.periods, name="periods"),
    path("spiffs/from-alert", views.spiff_from_alert, name="spiff_from_alert"),
]
