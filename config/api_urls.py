"""The URL space of the REST API (``/api/v1/``). Each app contributes its resources here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from core.api.resources import bulk_view
from core.api.views import IngestBatchViewSet
from core.bulk.resources import BULK_RESOURCES
from inventory.api import LocationViewSet, ProductFamilyViewSet, ProductViewSet
from sop.api import SalesLineViewSet
from territories.api import AccountViewSet

router = DefaultRouter()
router.register("product-families", ProductFamilyViewSet, basename="product-families")
router.register("products", ProductViewSet, basename="products")
router.register("locations", LocationViewSet, basename="locations")
router.register("accounts", AccountViewSet, basename="accounts")
router.register("sales-lines", SalesLineViewSet, basename="sales-lines")
router.register("ingest-batches", IngestBatchViewSet, basename="ingest-batches")

urlpatterns = [
    path(f"{name}/bulk", bulk_view(spec).as_view(), name=f"{name}-bulk") for name, spec in BULK_RESOURCES.items()
] + router.urls
