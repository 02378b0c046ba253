"""Sales history and (later) the plans built on it."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Exists, OuterRef, Q

from core.models import BaseModel
from core.roles import SALES_MANAGER, SALES_REP
from core.scoping import ScopedQuerySet
from territories.models import ALL_SALES_ROWS, TerritoryAssignment, managed_subtree_q


class SalesOrderLineQuerySet(ScopedQuerySet):
    all_rows_roles = ALL_SALES_ROWS

    def scoped_to(self, user, roles):
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= managed_subtree_q(user, "territory__")
        if SALES_REP in roles:
            # A rep sees the lines of territories they were assigned to on the order date.
            on_order_date = TerritoryAssignment.objects.filter(
                rep=user, territory=OuterRef("territory"), valid_from__lte=OuterRef("order_date")
            ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("order_date")))
            q |= Q(Exists(on_order_date))
        return self.filter(q)

    def counting(self) -> SalesOrderLineQuerySet:
        """Lines that count as demand and sales credit (cancelled ones do not)."""
        return self.exclude(status=SalesOrderLine.Status.CANCELLED)

    def between(self, start: dt.date, end: dt.date) -> SalesOrderLineQuerySet:
        return self.filter(order_date__gte=start, order_date__lte=end)


class SalesOrderLine(BaseModel):
    """One line of a customer order. Returns carry a negative quantity and amount."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        SHIPPED = "shipped", "Shipped"
        INVOICED = "invoiced", "Invoiced"
        RETURNED = "returned", "Returned"
        CANCELLED = "cancelled", "Cancelled"

    external_id = models.CharField(max_length=64, unique=True)
    order_date = models.DateField()
    ship_date = models.DateField(null=True, blank=True)
    account = models.ForeignKey("territories.Account", on_delete=models.PROTECT, related_name="sales_lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="sales_lines")
    quantity = models.DecimalField(max_digits=16, decimal_places=3)
    net_amount = models.DecimalField(max_digits=16, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices)
    # The territory that owned the account on the order date: credit never moves with a
    # later realignment. Maintained by the ingestion and realignment services.
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="sales_lines"
    )

    objects = SalesOrderLineQuerySet.as_manager()

    class Meta:
        ordering = ["order_date", "external_id"]
        indexes = [
            models.Index(fields=["product", "order_date"]),
            models.Index(fields=["territory", "order_date"]),
            models.Index(fields=["account", "order_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="returned") & Q(quantity__lt=0) & Q(net_amount__lte=0))
                | (~Q(status="returned") & Q(quantity__gt=0) & Q(net_amount__gte=0)),
                name="sales_line_sign_by_status",
                violation_error_message="Returned lines carry a negative quantity and amount; "
                "other lines a positive quantity and a non-negative amount.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["booked", "shipped", "invoiced", "returned", "cancelled"]),
                name="sales_line_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(ship_date__isnull=True) | Q(ship_date__gte=models.F("order_date")),
                name="sales_line_ships_after_order",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id
