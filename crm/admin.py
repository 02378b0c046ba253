from django.contrib import admin

from crm.models import (
    CertificationRule,
    FeedbackNote,
    Opportunity,
    TrainingCompletion,
    TrainingModule,
)


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "account",
        "product",
        "family",
        "quantity",
        "stage",
        "probability",
        "status",
        "owner",
    )
    list_filter = ("status", "stage")
    search_fields = ("external_id", "account__name")
    raw_id_fields = ("account", "product", "family", "owner", "territory")


@admin.register(FeedbackNote)
class FeedbackNoteAdmin(admin.ModelAdmin):
    list_display = ("external_id", "account", "product", "category", "sentiment", "noted_on", "author")
    list_filter = ("category", "sentiment")
    raw_id_fields = ("account", "product", "author")


@admin.register(TrainingModule)
class TrainingModuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "required_for_roles", "valid_months")


@admin.register(TrainingCompletion)
class TrainingCompletionAdmin(admin.ModelAdmin):
    list_display = ("user", "module", "completed_on", "expires_on")
    raw_id_fields = ("user",)


@admin.register(CertificationRule)
class CertificationRuleAdmin(admin.ModelAdmin):
    list_display = ("applies_to", "module", "active")
