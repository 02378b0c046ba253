"""Figures kept per process (``core.memo``) are never older than the data they were read from:
a new batch of sales lines or an account moved to another territory shows on the next view."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model

from inventory.models import Product
from territories.models import Account, Territory
from tests.conftest import AS_OF


def _revenue(client, external_id):
    rows = client.get("/home/accounts/", secure=True).context["accounts"]
    return next((row["revenue_l12m"] for row in rows if row["external_id"] == external_id), None)


def test_a_reps_accounts_show_a_new_batch_and_a_move_on_the_next_view(demo, login, erp, monkeypatch):
    from territories.services import account_assign

    monkeypatch.setattr("dashboards.views.today", lambda: AS_OF)
    rep = get_user_model().objects.get(username="rep1")
    account = Account.objects.for_user(rep).order_by("external_id").first()
    client = login("rep1")
    before = _revenue(client, account.external_id)
    assert before is not None
    sku = Product.objects.order_by("sku").first().sku
    day = AS_OF - dt.timedelta(days=3)
    body = (
        "external_id,order_date,ship_date,account_external_id,product_sku,quantity,net_amount,status\n"
        f"FRESH-1,{day},,{account.external_id},{sku},2,1234.50,invoiced\n"
    )
    response = erp().post("/api/v1/sales-lines/bulk", data=body, content_type="text/csv")
    assert response.status_code == 200, response.json()
    assert _revenue(client, account.external_id) == before + Decimal("1234.50")

    # Moved to a territory rep1 does not hold, from before the new line: gone from the list.
    elsewhere = Territory.objects.exclude(id__in=Territory.objects.for_user(rep)).filter(children__isnull=True).first()
    account_assign(account=account, territory=elsewhere, effective_from=day - dt.timedelta(days=1))
    assert _revenue(client, account.external_id) in (None, before)
