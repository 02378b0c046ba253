"""Sales history: one row per customer order line, the fact table every other area reads.

The table was created by the ``sop`` app (its migrations 0001–0005 shaped it); it moved here,
with its name and data, in ``sales.0001`` / ``sop.0010`` (state only).
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from core.db import ByteOrderCharField, DateRangeIndex
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
        BOOKED = "booked", _("Booked")
        SHIPPED = "shipped", _("Shipped")
        INVOICED = "invoiced", _("Invoiced")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Cancelled")

    # Every index costs each ingested line (bench/README.md, "Ingestion"): a B-tree on a column
    # that does not follow arrival order costs about as much as the row itself. So the table
    # keeps the primary key, the unique natural key and, on PostgreSQL, two BRIN indexes
    # (order_date for date ranges, updated_at for incremental sync: near free to maintain).
    # Reads by product, account or territory aggregate over date ranges or scan (0.1 s for
    # one product × territory series at 1M lines). The references are checked by the
    # ingestion (validated, then locked and re-verified in the write transaction) and guarded
    # against deletion by database triggers instead of per-row foreign-key triggers, which
    # cost more than the insert itself (migration sop.0004, sales/db_guards.py).
    external_id = ByteOrderCharField(max_length=64, verbose_name=_("external ID"))
    order_date = models.DateField(verbose_name=_("order date"))
    ship_date = models.DateField(null=True, blank=True, verbose_name=_("ship date"))
    account = models.ForeignKey(
        "territories.Account",
        on_delete=models.PROTECT,
        related_name="sales_lines",
        db_index=False,
        db_constraint=False,
        verbose_name=_("account"),
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        related_name="sales_lines",
        db_index=False,
        db_constraint=False,
        verbose_name=_("product"),
    )
    quantity = models.DecimalField(max_digits=16, decimal_places=3, verbose_name=_("quantity"))
    net_amount = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("net amount"))
    status = models.CharField(max_length=10, choices=Status.choices, verbose_name=_("status"))
    # The territory that owned the account on the order date: credit never moves with a
    # later realignment. Maintained by the ingestion and realignment services.
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales_lines",
        db_index=False,
        db_constraint=False,
        verbose_name=_("territory"),
    )
    # The CRM deal the line fulfils (``crm.Opportunity.external_id``), when the ERP knows it:
    # a won deal stops counting as pipeline once its lines arrive. Plain text, no index (the
    # CRM reads lines by account and order date).
    opportunity_external_id = models.CharField(
        max_length=64, blank=True, default="", db_default="", verbose_name=_("opportunity external ID")
    )
    # The database fills both timestamps when a bulk COPY leaves them out; no B-tree on
    # updated_at (a BRIN index on PostgreSQL, a plain one on SQLite: migration sop.0004).
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    objects = SalesOrderLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales order line")
        verbose_name_plural = _("sales order lines")
        db_table = "sop_salesorderline"  # created by the sop app, moved here with its data kept
        ordering = ["order_date", "external_id"]
        indexes = [
            DateRangeIndex(fields=["order_date"], name="sales_line_order_date_range"),
            DateRangeIndex(fields=["updated_at"], name="sales_line_updated_range"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="sales_line_external_id_unique"),
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
