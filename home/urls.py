"""``data/`` pages, served under the URL namespace ``core`` (``config/urls.py``) so their
names (``core:upload``) stay as they were."""

from django.urls import path

from home import views

urlpatterns = [
    path("upload/", views.upload, name="upload"),
]
