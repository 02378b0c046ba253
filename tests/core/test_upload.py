"""The CSV upload page: same ingestion as the API, row errors shown by spreadsheet line."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import IngestBatch
from home.bulk import BULK_RESOURCES
from inventory.models import Product

HEADER = "sku,name,family_code,unit,unit_price,unit_cost,status\n"


def upload(client, resource, text, name="products.csv"):
    return client.post(
        reverse("core:upload"),
        {"resource": resource, "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
    )


def family_code():
    from inventory.models import ProductFamily

    return ProductFamily.objects.order_by("code").first().code


def test_page_lists_every_registered_resource_and_recent_batches(demo, login, django_assert_max_num_queries):
    client = login("admin")
    upload(client, "products", HEADER + f"UP-1,Upload one,{family_code()},EA,1.00,0.50,active\n")
    with django_assert_max_num_queries(12):
        page = client.get(reverse("core:upload"))
    assert page.status_code == 200
    html = page.content.decode()
    for name in BULK_RESOURCES:
        assert f'<option value="{name}"' in html
    assert "Recent batches" in html and "upload" in html


def test_a_valid_file_is_applied_and_its_counts_shown(demo, login):
    family = family_code()
    existing = Product.objects.order_by("sku").first()
    text = HEADER + (
        f"UP-1,Upload one,{family},EA,1.00,0.50,active\n"
        f"UP-2,Upload two,{family},EA,2.00,1.00,new\n"
        f"{existing.sku},{existing.name},{existing.family.code},{existing.unit},"
        f"{existing.unit_price},{existing.unit_cost},{existing.status}\n"
    )
    response = upload(login("admin"), "products", text)
    assert response.status_code == 200
    result = response.context["result"]
    assert (result["created"], result["updated"], result["unchanged"]) == (2, 0, 1)
    assert "Created" in response.content.decode()
    assert Product.objects.filter(sku__in=["UP-1", "UP-2"]).count() == 2
    batch = IngestBatch.objects.get(pk=result["batch_id"])
    assert (batch.source, batch.status, batch.user.username) == ("upload", "applied", "admin")


def test_row_errors_are_shown_by_line_and_nothing_is_written(demo, login):
    family = family_code()
    before = Product.objects.count()
    text = HEADER + (
        f"UP-1,Fine,{family},EA,1.00,0.50,active\n"
        f"UP-2,Bad price,{family},EA,12;5,0.50,active\n"
        f"UP-3,Bad family,NOPE,EA,1.00,0.50,active\n"
    )
    response = upload(login("planner"), "products", text)
    assert response.status_code == 400
    errors = response.context["problem"]["errors"]
    # Data row 1 (the second data row) is line 3 of the file: the header is line 1.
    assert [(e["line"], e["field"], e["code"]) for e in errors] == [
        (3, "unit_price", "invalid_number"),
        (4, "family_code", "unknown_reference"),
    ]
    html = response.content.decode()
    assert "the header row is line 1" in html and "no product family with family_code &#x27;NOPE&#x27;" in html
    assert Product.objects.count() == before
    assert IngestBatch.objects.get(source="upload").status == "rejected"


def test_duplicate_rows_point_at_the_first_line(demo, login):
    row = f"UP-1,Twice,{family_code()},EA,1.00,0.50,active\n"
    errors = upload(login("planner"), "products", HEADER + row + row).context["problem"]["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [(2, "duplicate_key"), (3, "duplicate_key")]
    assert "first at line 2" in errors[1]["message"]


def test_wrong_columns_are_named(demo, login):
    response = upload(login("planner"), "products", "sku,colour\nA,red\n")
    assert response.status_code == 400
    assert "Unknown columns" in response.content.decode() and "colour" in response.content.decode()


def test_a_rep_gets_403_and_anonymous_users_go_to_login(demo, login, client):
    assert login("rep1").get(reverse("core:upload")).status_code == 403
    assert upload(login("rep1"), "products", HEADER).status_code == 403
    response = client.get(reverse("core:upload"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_menu_links_the_page_for_planners_only(demo, login):
    url = reverse("core:upload")
    assert f'href="{url}"' in login("planner").get("/").content.decode()
    assert f'href="{url}"' not in login("rep1").get("/").content.decode()


def test_upload_rights_follow_the_write_scopes(demo, login):
    """Issue 16: ops got a bare 403 while the planner could upload capacity and commission quotas."""
    ops = login("ops")
    page = ops.get(reverse("core:upload"))
    assert page.status_code == 200
    offered = {r["name"] for r in page.context["resources"]}
    assert {"capacity", "work-centers", "routings", "inventory-snapshots"} <= offered
    assert "products" not in offered and "comp-assignments" not in offered
    planner = {r["name"] for r in login("planner").get(reverse("core:upload")).context["resources"]}
    assert {"products", "sales-lines"} <= planner
    assert not planner & {"capacity", "comp-assignments", "inventory-snapshots"}
    refused = upload(login("planner"), "capacity", "work_center_code,period_start,available_hours\n")
    assert refused.status_code == 403 and "does not upload Capacity calendar" in refused.content.decode()
    url = reverse("core:upload")
    assert f'href="{url}"' in login("ops").get("/").content.decode()


def test_api_docs_are_out_of_business_users_menu(demo, login):
    from django.urls import reverse as url_of

    docs = url_of("api-docs")
    for name in ("planner", "ops", "manager", "rep1", "exec"):
        assert f'href="{docs}"' not in login(name).get("/").content.decode(), name
    assert f'href="{docs}"' in login("admin").get("/").content.decode()
