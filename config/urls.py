from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)

from core import views as core_views
from dashboards import views as dashboard_views

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("home/", include("dashboards.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("language/", core_views.language, name="language"),
    path("accounts/login/", core_views.SopLoginView.as_view(), name="login"),
    path("accounts/logout/", core_views.SopLogoutView.as_view(), name="logout"),
    path("forecasts/", include("forecasting.urls")),
    path("supply/", include("sop.urls")),
    path("inventory/", include("inventory.urls")),
    path("compensation/", include("compensation.urls")),
    path("data/", include(("home.urls", "core"))),
    path("territories/", include("territories.urls")),
    path("scenarios/", include("scenarios.urls")),
    path("crm/", include("crm.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script): no inline script.
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
]

handler500 = "core.views.server_error"

from django.utils.translation import gettext_lazy as _  # noqa: E402

admin.site.site_header = _("S&OP planner administration")
admin.site.site_title = "S&OP planner"
