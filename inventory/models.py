"""Products, product families and stock locations (master data pushed by the ERP)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from core.scoping import ScopedQuerySet


class MasterDataQuerySet(ScopedQuerySet):
    visible_to_all = True  # reference data: every signed-in role reads it


class ProductFamily(BaseModel):
    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    # The demand planner answerable for the family's forecast (forecast value added by planner).
    planner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="planned_families",
        verbose_name=_("demand planner"),
    )

    objects = MasterDataQuerySet.as_manager()

    class Meta:
        verbose_name = _("product family")
        verbose_name_plural = _("product families")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Product(BaseModel):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACTIVE = "active", _("Active")
        PHASE_OUT = "phase_out", _("Phase-out")
        DISCONTINUED = "discontinued", _("Discontinued")

    sku = models.CharField(max_length=64, unique=True, verbose_name=_("SKU"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    family = models.ForeignKey(
        ProductFamily, on_delete=models.PROTECT, related_name="products", verbose_name=_("family")
    )
    unit = models.CharField(
        max_length=16, default="EA", help_text="Unit of measure, e.g. EA, KG", verbose_name=_("unit")
    )
    unit_price = models.DecimalField(max_digits=14, decimal_places=4, verbose_name=_("unit price"))
    unit_cost = models.DecimalField(max_digits=14, decimal_places=4, verbose_name=_("unit cost"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status"))

    objects = MasterDataQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(condition=models.Q(unit_cost__gte=0), name="product_cost_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Location(BaseModel):
    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", _("Warehouse")
        PLANT = "plant", _("Plant")
        STORE = "store", _("Store")

    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WAREHOUSE, verbose_name=_("kind"))

    objects = MasterDataQuerySet.as_manager()

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StockQuerySet(ScopedQuerySet):
    """Stock and policies: operations, planning, admins and executives see them all."""

    all_rows_roles = frozenset({"admin", "ops_lead", "planner", "executive", "erp"})


class InventorySnapshotQuerySet(StockQuerySet):
    def latest(self) -> InventorySnapshotQuerySet:
        """The most recent snapshot of each product × location."""
        newer = InventorySnapshot.objects.filter(
            product=models.OuterRef("product"), location=models.OuterRef("location"), as_of__gt=models.OuterRef("as_of")
        )
        return self.filter(~models.Exists(newer))


class InventorySnapshot(BaseModel):
    """Stock of a product at a location on a date, as counted by the ERP."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="snapshots", verbose_name=_("product"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="snapshots", verbose_name=_("location")
    )
    as_of = models.DateField(verbose_name=_("as of"))
    on_hand = models.DecimalField(max_digits=16, decimal_places=3, verbose_name=_("on hand"))
    on_order = models.DecimalField(max_digits=16, decimal_places=3, default=0, verbose_name=_("on order"))
    allocated = models.DecimalField(max_digits=16, decimal_places=3, default=0, verbose_name=_("allocated"))

    objects = InventorySnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("inventory snapshot")
        verbose_name_plural = _("inventory snapshots")
        ordering = ["product_id", "location_id", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["product", "location", "as_of"], name="inventory_snapshot_key"),
            models.CheckConstraint(
                condition=models.Q(on_order__gte=0) & models.Q(allocated__gte=0), name="inventory_snapshot_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id} {self.as_of}: {self.on_hand}"


class InventoryLot(BaseModel):
    """A receipt-dated quantity of stock, for aging."""

    external_id = models.CharField(max_length=64, unique=True, verbose_name=_("external ID"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots", verbose_name=_("product"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="lots", verbose_name=_("location"))
    received_on = models.DateField(verbose_name=_("received on"))
    quantity = models.DecimalField(max_digits=16, decimal_places=3, verbose_name=_("quantity"))

    objects = StockQuerySet.as_manager()

    class Meta:
        verbose_name = _("inventory lot")
        verbose_name_plural = _("inventory lots")
        ordering = ["product_id", "received_on"]
        indexes = [models.Index(fields=["product", "location", "received_on"])]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=0), name="inventory_lot_qty")]

    def __str__(self) -> str:
        return self.external_id


class InventoryPolicy(BaseModel):
    """How much buffer a product keeps at a location and how far ahead it may be built.

    Safety stock is the fixed ``safety_stock`` when given, else ``z(service_level) × σ ×
    √lead time`` with σ from the latest forecast run's backtest error.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="policies", verbose_name=_("product"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="policies", verbose_name=_("location")
    )
    lead_time_days = models.PositiveIntegerField(default=0, verbose_name=_("lead time (days)"))
    service_level = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="cycle service level, e.g. 0.9500",
        verbose_name=_("service level"),
    )
    safety_stock = models.DecimalField(
        max_digits=16,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="fixed safety stock (units); wins over the service level",
        verbose_name=_("safety stock"),
    )
    min_qty = models.DecimalField(
        max_digits=16, decimal_places=3, null=True, blank=True, verbose_name=_("minimum quantity")
    )
    max_qty = models.DecimalField(
        max_digits=16, decimal_places=3, null=True, blank=True, verbose_name=_("maximum quantity")
    )
    max_build_ahead_periods = models.PositiveSmallIntegerField(default=0, verbose_name=_("maximum build-ahead periods"))

    objects = StockQuerySet.as_manager()

    class Meta:
        verbose_name = _("inventory policy")
        verbose_name_plural = _("inventory policies")
        ordering = ["product_id", "location_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="inventory_policy_key"),
            models.CheckConstraint(
                condition=models.Q(service_level__isnull=True)
                | (models.Q(service_level__gt=0) & models.Q(service_level__lt=1)),
                name="inventory_policy_service_level_range",
            ),
            models.CheckConstraint(
                condition=models.Q(safety_stock__isnull=True) | models.Q(safety_stock__gte=0),
                name="inventory_policy_safety_stock_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"policy {self.product_id}@{self.location_id}"
