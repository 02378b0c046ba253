import pyarrow as pa
from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate, post_save


def _return_arrow_memory() -> None:
    """Arrow buffers (the columnar ingest path) from the C allocator, which hands large blocks
    back to the system when a batch is done; Arrow's default (mimalloc) keeps them cached per
    process, ~25 MB more per web worker between batches."""
    pa.set_memory_pool(pa.system_memory_pool())


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Imports here and in the handlers below: these modules load models, which cannot be
        # imported before the app registry is ready (this module is imported first).
        import core.api.schema  # noqa: F401  (registers the OpenAPI auth extension)
        from core.roles import sync_role_groups

        _return_arrow_memory()

        # Groups need the permission rows that Django creates after migrate.
        post_migrate.connect(sync_role_groups, sender=self)

        user_logged_in.connect(_language_from_profile, dispatch_uid="core.language_from_profile")

        from core.models import OrganisationSettings

        post_save.connect(_forget_currency, sender=OrganisationSettings, dispatch_uid="core.forget_currency")


def _forget_currency(**kwargs) -> None:
    # Here, not at the top: the template tags import core.services (models).
    from core.templatetags.sop_tags import _currency_memo

    _currency_memo.clear()


def _language_from_profile(sender, request, user, **kwargs) -> None:
    """At sign-in the profile's language (if chosen) goes into the session for every request."""
    # Here, not at the top: models cannot be imported before the app registry is ready.
    from core.middleware import SESSION_LANGUAGE
    from core.models import Profile

    language = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    if request is not None and hasattr(request, "session"):
        if language:
            request.session[SESSION_LANGUAGE] = language
        else:
            request.session.pop(SESSION_LANGUAGE, None)
