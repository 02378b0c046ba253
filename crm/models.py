"""The CRM side of the plan: opportunities, customer feedback, rep enablement.

Opportunities and feedback arrive from the CRM through the bulk API (``crm/bulk.py``); training
completions from an LMS or a manager. Visibility: reps see their own opportunities and
completions, managers their subtree, planners/ops/executives everything they plan with.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from core.roles import ADMIN, EXECUTIVE, OPS_LEAD, PLANNER, SALES_MANAGER, SALES_REP
from core.scoping import ScopedQuerySet
from territories.models import Account, managed_subtree_q, subtree_rep_ids_q

#: roles that see every opportunity and feedback note (they plan with the pipeline)
CRM_ALL_ROWS = frozenset({ADMIN, PLANNER, OPS_LEAD, EXECUTIVE, "erp"})
#: roles that see every training record (admins run the enablement programme)
TRAINING_ALL_ROWS = frozenset({ADMIN, EXECUTIVE, "erp"})


class OpportunityQuerySet(ScopedQuerySet):
    all_rows_roles = CRM_ALL_ROWS

    def scoped_to(self, user, roles):
        q = Q(pk__in=[])
        if SALES_MANAGER in roles:
            q |= managed_subtree_q(user, "territory__") | subtree_rep_ids_q(user, timezone.localdate(), "owner")
        if SALES_REP in roles:
            q |= Q(owner=user)
        return self.filter(q)

    def open(self) -> OpportunityQuerySet:
        return self.filter(status=Opportunity.Status.OPEN)


class Opportunity(BaseModel):
    """A deal the sales team works on: some units of a product (or a family) for an account."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    external_id = models.CharField(max_length=64, unique=True, verbose_name=_("external ID"))
    account = models.ForeignKey(
        "territories.Account", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("account")
    )
    product = models.ForeignKey(
        "inventory.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("product"),
    )
    family = models.ForeignKey(
        "inventory.ProductFamily",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
        help_text="only for a deal on a family, not a product",
        verbose_name=_("family"),
    )
    quantity = models.DecimalField(max_digits=16, decimal_places=3, verbose_name=_("quantity"))
    amount = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("amount"))
    expected_close_date = models.DateField(verbose_name=_("expected close date"))
    requested_delivery_date = models.DateField(verbose_name=_("requested delivery date"))
    stage = models.CharField(max_length=64, verbose_name=_("stage"))
    probability = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="the CRM's, in percent", verbose_name=_("probability")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("owner")
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="owner of the account on the expected close date",
        verbose_name=_("territory"),
    )

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close_date", "external_id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(product__isnull=True) & Q(family__isnull=False))
                | (Q(product__isnull=False) & Q(family__isnull=True)),
                name="crm_opportunity_product_xor_family",
            ),
            models.CheckConstraint(condition=Q(status__in=["open", "won", "lost"]), name="crm_opportunity_status"),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=100), name="crm_opportunity_probability_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.status})"


class FeedbackNoteQuerySet(ScopedQuerySet):
    all_rows_roles = CRM_ALL_ROWS

    def scoped_to(self, user, roles):
        # Notes on the accounts the user sees (a rep's own, a manager's subtree) and their own notes.
        return self.filter(Q(account__in=Account.objects.for_user(user)) | Q(author=user))


class FeedbackNote(BaseModel):
    """What a customer said about a product (or in general), noted by someone who heard it."""

    class Category(models.TextChoices):
        QUALITY = "quality", _("Quality")
        PRICE = "price", _("Price")
        DELIVERY = "delivery", _("Delivery")
        DEMAND_SIGNAL = "demand_signal", _("Demand signal")
        OTHER = "other", _("Other")

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")

    external_id = models.CharField(max_length=64, unique=True, verbose_name=_("external ID"))
    account = models.ForeignKey(
        "territories.Account", on_delete=models.PROTECT, related_name="feedback_notes", verbose_name=_("account")
    )
    product = models.ForeignKey(
        "inventory.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback_notes",
        verbose_name=_("product"),
    )
    category = models.CharField(max_length=16, choices=Category.choices, verbose_name=_("category"))
    sentiment = models.CharField(
        max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL, verbose_name=_("sentiment")
    )
    text = models.TextField(verbose_name=_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_notes", verbose_name=_("author")
    )
    noted_on = models.DateField(verbose_name=_("noted on"))

    objects = FeedbackNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("feedback note")
        verbose_name_plural = _("feedback notes")
        ordering = ["-noted_on", "-id"]
        indexes = [
            models.Index(fields=["product", "noted_on"]),
            models.Index(fields=["-noted_on", "-id"], name="feedback_newest_first"),  # the latest notes
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.category}"


class TrainingModuleQuerySet(ScopedQuerySet):
    visible_to_all = True


class TrainingModule(BaseModel):
    """A course reps take (CRM basics, a product line); ``valid_months`` 0 = never expires."""

    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    required_for_roles = models.TextField(
        blank=True, help_text="role codes separated by ';'", verbose_name=_("required for roles")
    )
    valid_months = models.PositiveSmallIntegerField(default=0, verbose_name=_("valid months"))

    objects = TrainingModuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("training module")
        verbose_name_plural = _("training modules")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def roles(self) -> list[str]:
        return [part.strip() for part in self.required_for_roles.split(";") if part.strip()]


class TrainingCompletionQuerySet(ScopedQuerySet):
    all_rows_roles = TRAINING_ALL_ROWS

    def scoped_to(self, user, roles):
        q = Q(user=user)
        if SALES_MANAGER in roles:
            q |= subtree_rep_ids_q(user, timezone.localdate(), "user")
        return self.filter(q)


class TrainingCompletion(BaseModel):
    """A rep completed a module on a day; it counts until ``expires_on`` (inclusive), if any."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_completions", verbose_name=_("user")
    )
    module = models.ForeignKey(
        TrainingModule, on_delete=models.CASCADE, related_name="completions", verbose_name=_("module")
    )
    completed_on = models.DateField(verbose_name=_("completed on"))
    expires_on = models.DateField(null=True, blank=True, verbose_name=_("expires on"))

    objects = TrainingCompletionQuerySet.as_manager()

    class Meta:
        verbose_name = _("training completion")
        verbose_name_plural = _("training completions")
        ordering = ["-completed_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "module", "completed_on"], name="crm_training_completion_key"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("completed_on")),
                name="crm_training_completion_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.module_id} {self.completed_on}"


class CertificationRule(BaseModel):
    """An optional rule: paying a SPIFF (or assigning a territory) needs a current completion
    of ``module``. An unmet rule is shown on the statement and in the manager's due list."""

    class AppliesTo(models.TextChoices):
        SPIFF_PAYOUT = "spiff_payout", _("SPIFF payout")
        TERRITORY_ASSIGNMENT = "territory_assignment", _("Territory assignment")

    applies_to = models.CharField(max_length=24, choices=AppliesTo.choices, verbose_name=_("applies to"))
    module = models.ForeignKey(TrainingModule, on_delete=models.CASCADE, related_name="rules", verbose_name=_("module"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    objects = TrainingModuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("certification rule")
        verbose_name_plural = _("certification rules")
        ordering = ["applies_to", "module_id"]
        constraints = [models.UniqueConstraint(fields=["applies_to", "module"], name="crm_certification_rule_once")]

    def __str__(self) -> str:
        return f"{self.applies_to} needs {self.module_id}"
