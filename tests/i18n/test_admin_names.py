"""The Django admin in the user's language (issue 16): model names and the column labels of
the app's models are translated, not only Django's own words."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.functional import Promise

pytestmark = pytest.mark.django_db

APPS = (
    "core",
    "inventory",
    "territories",
    "sales",
    "forecasting",
    "sop",
    "compensation",
    "webhooks",
    "scenarios",
    "crm",
)


def admin_in(language: str) -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    client.post("/language/", {"language": language, "next": "/"})
    return client


def test_the_admin_index_in_german_names_the_models_in_german():
    html = admin_in("de").get("/admin/").content.decode()
    for german in ("Kapazitätsmeldungen", "Produktfamilien", "Verkaufschancen", "Arbeitsplätze", "Vergütungspläne"):
        assert german in html
    for english in ("Capacity alerts", "Product families", "Opportunitys", "Work centers", "Comp plans"):
        assert english not in html


def test_the_admin_index_in_italian_and_a_list_with_translated_columns():
    from inventory.models import Product, ProductFamily

    Product.objects.create(
        sku="P1", name="Pompa", family=ProductFamily.objects.create(code="F", name="F"), unit_price=1, unit_cost=1
    )
    client = admin_in("it")
    assert "Avvisi di capacità" in client.get("/admin/").content.decode()
    columns = client.get("/admin/inventory/product/").content.decode()
    assert "Prezzo unitario" in columns and "Unit price" not in columns


def test_every_model_of_the_app_names_itself_for_translation():
    for model in apps.get_models():
        if model._meta.app_label in APPS:
            assert isinstance(model._meta.verbose_name, Promise), model
            assert isinstance(model._meta.verbose_name_plural, Promise), model


def test_an_alerts_change_form_in_german_labels_its_fields_in_german():
    from sop.models import CapacityAlert

    alert = CapacityAlert.objects.create(
        fingerprint="x", type="capacity_overload", severity="warning", amount=1, unit="hours", message="m"
    )
    html = admin_in("de").get(f"/admin/sop/capacityalert/{alert.pk}/change/").content.decode()
    for german in ("Fingerabdruck", "Schweregrad", "Erledigt von", "Vorschlag"):
        assert german in html
    for english in ("Fingerprint", "Severity", "Resolved by", "Suggestion"):
        assert english not in html
