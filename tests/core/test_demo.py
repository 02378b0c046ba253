"""The demo company: deterministic, realistic, and careful with real data."""

import pytest
from django.core.management import CommandError, call_command

from home.demo import demo_fingerprint, seed_demo
from inventory.models import Product, ProductFamily
from sales.models import SalesOrderLine
from tests.conftest import AS_OF


def test_same_seed_gives_identical_data(db):
    seed_demo(scale="tiny", seed=3, as_of=AS_OF)
    first = demo_fingerprint()
    seed_demo(scale="tiny", seed=3, as_of=AS_OF)
    assert demo_fingerprint() == first
    seed_demo(scale="tiny", seed=4, as_of=AS_OF)
    assert demo_fingerprint() != first


def test_demo_has_history_returns_cancellations_and_a_new_product(demo):
    lines = SalesOrderLine.objects.all()
    assert lines.filter(status="returned", quantity__lt=0).exists()
    assert lines.filter(status="cancelled").exists()
    first, last = lines.order_by("order_date").values_list("order_date", flat=True)[:: lines.count() - 1]
    assert (last - first).days > 365 * 2.9
    new = Product.objects.get(status="new")
    assert lines.filter(product=new).order_by("order_date").first().order_date.year >= AS_OF.year - 1
    assert not lines.filter(territory__isnull=True).exists()


def test_refuses_to_overwrite_real_data_without_force(db):
    ProductFamily.objects.create(code="REAL", name="Customer data")
    with pytest.raises(CommandError, match="not the demo company"):
        call_command("seed_demo", "--scale", "tiny")
    call_command("seed_demo", "--scale", "tiny", "--force", "--as-of", AS_OF.isoformat())
    assert not ProductFamily.objects.filter(code="REAL").exists()


def test_if_empty_keeps_existing_demo(demo, capsys):
    before = demo_fingerprint()
    call_command("seed_demo", "--if-empty")
    assert "keeping it" in capsys.readouterr().out
    assert demo_fingerprint() == before
