"""Products, product families and stock locations (master data pushed by the ERP)."""

from __future__ import annotations

from django.db import models

from core.models import BaseModel
from core.scoping import ScopedQuerySet


class MasterDataQuerySet(ScopedQuerySet):
    visible_to_all = True  # reference data: every signed-in role reads it


class ProductFamily(BaseModel):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)

    objects = MasterDataQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "product families"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Product(BaseModel):
    class Status(models.TextChoices):
        NEW = "new", "New"
        ACTIVE = "active", "Active"
        PHASE_OUT = "phase_out", "Phase-out"
        DISCONTINUED = "discontinued", "Discontinued"

    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    family = models.ForeignKey(ProductFamily, on_delete=models.PROTECT, related_name="products")
    unit = models.CharField(max_length=16, default="EA", help_text="Unit of measure, e.g. EA, KG")
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    unit_cost = models.DecimalField(max_digits=14, decimal_places=4)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    objects = MasterDataQuerySet.as_manager()

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(condition=models.Q(unit_cost__gte=0), name="product_cost_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Location(BaseModel):
    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", "Warehouse"
        PLANT = "plant", "Plant"
        STORE = "store", "Store"

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WAREHOUSE)

    objects = MasterDataQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
