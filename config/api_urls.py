"""The URL space of the REST API (``/api/v1/``). Each app contributes its resources here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from compensation.api import api_urlpatterns as compensation_api_urls
from compensation.api import register_routes as register_compensation_routes
from core.api.resources import bulk_view
from core.api.views import IngestBatchViewSet
from crm.api import api_urlpatterns as crm_api_urls
from crm.api import register_routes as register_crm_routes
from forecasting.api import ForecastRunViewSet, ForecastViewSet
from home.bulk import BULK_RESOURCES
from inventory.api import (
    InventoryLotViewSet,
    InventoryPolicyViewSet,
    InventoryPositionViewSet,
    InventorySnapshotViewSet,
    LocationViewSet,
    ProductFamilyViewSet,
    ProductViewSet,
)
from sales.api import SalesLineViewSet
from scenarios.api import (
    ForecastAccuracyView,
    ScenarioCompareView,
    ScenarioPromoteView,
    ScenarioRunView,
    ScenarioViewSet,
)
from sop.api import (
    AlertAcknowledgeView,
    AlertResolveView,
    AlertViewSet,
    CapacityLoadViewSet,
    CapacityViewSet,
    PlanRunViewSet,
    PlantViewSet,
    RoutingViewSet,
    SupplyPlanViewSet,
    WorkCenterViewSet,
)
from sop.cycle_api import (
    CycleAdvanceView,
    CyclePlanRunView,
    CycleSendBackView,
    DecisionListView,
    DemandPlanEditView,
    DemandPlanView,
    PlanCycleViewSet,
    PublishedPlanView,
)
from territories.api import AccountViewSet
from territories.api import api_urlpatterns as territories_api_urls
from territories.api import register_routes as register_territories_routes
from webhooks.api import WebhookSubscriptionViewSet

router = DefaultRouter()
router.register("product-families", ProductFamilyViewSet, basename="product-families")
router.register("products", ProductViewSet, basename="products")
router.register("locations", LocationViewSet, basename="locations")
router.register("accounts", AccountViewSet, basename="accounts")
router.register("sales-lines", SalesLineViewSet, basename="sales-lines")
router.register("ingest-batches", IngestBatchViewSet, basename="ingest-batches")
router.register("plants", PlantViewSet, basename="plants")
router.register("work-centers", WorkCenterViewSet, basename="work-centers")
router.register("capacity", CapacityViewSet, basename="capacity")
router.register("routings", RoutingViewSet, basename="routings")
router.register("inventory-snapshots", InventorySnapshotViewSet, basename="inventory-snapshots")
router.register("inventory-lots", InventoryLotViewSet, basename="inventory-lots")
router.register("inventory-policies", InventoryPolicyViewSet, basename="inventory-policies")
router.register("inventory-positions", InventoryPositionViewSet, basename="inventory-positions")
router.register("plan-runs", PlanRunViewSet, basename="plan-runs")
router.register("capacity-load", CapacityLoadViewSet, basename="capacity-load")
router.register("supply-plan", SupplyPlanViewSet, basename="supply-plan")
router.register("alerts", AlertViewSet, basename="alerts")
router.register("forecast-runs", ForecastRunViewSet, basename="forecast-runs")
router.register("forecasts", ForecastViewSet, basename="forecasts")
router.register("plan-cycles", PlanCycleViewSet, basename="plan-cycles")
router.register("scenarios", ScenarioViewSet, basename="scenarios")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhooks")
register_compensation_routes(router)
register_territories_routes(router)
register_crm_routes(router)

urlpatterns = (
    [path(f"{name}/bulk", bulk_view(spec).as_view(), name=f"{name}-bulk") for name, spec in BULK_RESOURCES.items()]
    + [
        path("alerts/<int:pk>/acknowledge", AlertAcknowledgeView.as_view(), name="alerts-acknowledge"),
        path("alerts/<int:pk>/resolve", AlertResolveView.as_view(), name="alerts-resolve"),
        path("scenarios/compare", ScenarioCompareView.as_view(), name="scenarios-compare"),
        path("forecast-accuracy/", ForecastAccuracyView.as_view(), name="forecast-accuracy"),
        path("scenarios/<int:pk>/run", ScenarioRunView.as_view(), name="scenarios-run"),
        path("scenarios/<int:pk>/promote", ScenarioPromoteView.as_view(), name="scenarios-promote"),
        path("plan-cycles/<str:month>/advance", CycleAdvanceView.as_view(), name="plan-cycles-advance"),
        path("plan-cycles/<str:month>/send-back", CycleSendBackView.as_view(), name="plan-cycles-send-back"),
        path("plan-cycles/<str:month>/plan-run", CyclePlanRunView.as_view(), name="plan-cycles-plan-run"),
        path("plan-cycles/<str:month>/demand-plan/", DemandPlanView.as_view(), name="plan-cycles-demand-plan"),
        path(
            "plan-cycles/<str:month>/demand-plan/edits",
            DemandPlanEditView.as_view(),
            name="plan-cycles-demand-plan-edits",
        ),
        path("plan-cycles/<str:month>/decisions/", DecisionListView.as_view(), name="plan-cycles-decisions"),
        path("plan-cycles/<str:month>/plan/", PublishedPlanView.as_view(), name="plan-cycles-plan"),
    ]
    + compensation_api_urls
    + territories_api_urls
    + crm_api_urls
    + router.urls
)
