from django.contrib import admin
from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", core_views.SopLoginView.as_view(), name="login"),
    path("accounts/logout/", core_views.SopLogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "S&OP planner administration"
admin.site.site_title = "S&OP planner"
_ = include  # apps add their url modules here as their issues land
