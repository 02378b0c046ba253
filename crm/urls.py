from django.urls import path

from crm import views

app_name = "crm"

urlpatterns = [
    path("opportunities/", views.opportunities, name="opportunities"),
    path("opportunities/<str:external_id>/", views.opportunity, name="opportunity"),
    path("feedback/", views.feedback, name="feedback"),
    path("training/", views.training, name="training"),
    path("training/record", views.training_record, name="training-record"),
]
