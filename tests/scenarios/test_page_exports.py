"""Scenario pages export their tables as XLSX and the viewer's CSV dialect (issue 16, item 1)."""

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.scenarios.test_api import CUT, create, finish, world  # noqa: F401 (the fixture)


def signed_in(user, language="en") -> Client:
    client = Client()
    client.force_login(user)
    client.post("/language/", {"language": language, "next": "/"})
    return client


def _xlsx(response):
    assert response.status_code == 200, response.content[:300]
    return [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]


@pytest.mark.django_db
def test_scenario_list_and_comparison_export_as_on_the_page(world):  # noqa: F811
    planner = world["users"]["planner"]
    pk = create(planner, [CUT]).json()["id"]
    finish(pk)
    client = signed_in(planner, "de")
    page = client.get("/scenarios/")
    assert "export=xlsx" in page.content.decode()
    listed = _xlsx(client.get("/scenarios/?export=xlsx"))
    assert [r[0] for r in listed[1:]] == [s.pk for s in page.context["scenarios"]]
    compare = client.get(f"/scenarios/compare/?ids={pk}")
    rows = _xlsx(client.get(f"/scenarios/compare/?ids={pk}&export=xlsx"))
    assert len(rows[0]) == 2 + 2 and len(rows) == 1 + len(compare.context["rows"])
    assert [r[0] for r in rows[1:]] == [str(r["label"]) for r in compare.context["rows"]]
    text = client.get(f"/scenarios/compare/?ids={pk}&export=csv").content.decode("utf-8-sig")
    semicolon = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(semicolon) == len(rows) and any("," in v for r in semicolon[1:] for v in r[1:])
    family = compare.context["families"][0]
    drill = client.get(f"/scenarios/compare/?ids={pk}&family={family}")
    exported = _xlsx(client.get(f"/scenarios/compare/?ids={pk}&family={family}&table=family&export=xlsx"))
    assert len(exported) == 1 + len(drill.context["drill"])
    assert signed_in(world["users"]["rep"]).get("/scenarios/?export=csv").status_code == 403
