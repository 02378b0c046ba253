"""Forecast runs through the services, the API and the pages, on the tiny demo company."""

import json
import uuid

import pytest

from forecasting import services
from forecasting.models import Forecast, ForecastChunk, ForecastRun, ForecastSeries
from tests.conftest import AS_OF
from tests.services import celery_worker, real_broker, requires_services, wait_for, worker_output


def run_now(**params):
    run = services.forecast_run_create(as_of=AS_OF, trigger="command", parameters=params)
    return services.forecast_run_execute(run)


def test_a_run_forecasts_every_series_and_the_levels_add_up(demo):
    run = run_now(chunk_size=7)
    assert run.status == ForecastRun.Status.COMPLETED, run.error
    assert run.series_total > 10 and run.series_done == run.series_total and run.percent == 100
    # Chunks of at least 7 series (the last may be smaller) that never split a product.
    chunks = list(ForecastChunk.objects.filter(run=run).order_by("index").values_list("series_keys", flat=True))
    assert 1 < run.chunks_total == len(chunks) <= -(-run.series_total // 7)
    assert all(len(keys) >= 7 for keys in chunks[:-1])
    products = [{p for p, _t in keys} for keys in chunks]
    assert sum(len(p) for p in products) == len(set().union(*products))
    leaf = Forecast.objects.filter(run=run, level="product_territory")
    assert leaf.count() == run.series_done * run.horizon
    assert leaf.values("period_start").distinct().count() == 18
    assert str(leaf.order_by("period_start").first().period_start) == "2026-06-01"
    for period in leaf.values_list("period_start", flat=True).distinct()[:3]:
        parts = sum(leaf.filter(period_start=period).values_list("point", flat=True))
        total = Forecast.objects.get(run=run, level="total", period_start=period)
        families = sum(
            Forecast.objects.filter(run=run, level="family", period_start=period).values_list("point", flat=True)
        )
        products = sum(
            Forecast.objects.filter(run=run, level="product", period_start=period).values_list("point", flat=True)
        )
        assert total.point == pytest.approx(parts, rel=1e-5) == pytest.approx(families, rel=1e-5)
        assert products == pytest.approx(parts, rel=1e-5)
        assert total.lo95 <= total.lo80 <= total.point <= total.hi80 <= total.hi95
    assert all(f.point >= 0 and f.lo95 >= 0 for f in leaf)


def test_levels_are_reconciled_and_add_up_at_product_territory_family_region_and_total(demo):
    import pandas as pd

    from forecasting.models import ForecastAccuracy

    run = run_now(chunk_size=9)
    frame = pd.DataFrame.from_records(
        Forecast.objects.filter(run=run).values(
            "level", "product_id", "family_id", "territory_id", "period_start", "point", "lo80", "hi80", "model"
        )
    )
    leaf = frame[frame["level"] == "product_territory"]
    from inventory.models import Product
    from territories.models import Territory

    family = dict(Product.objects.values_list("id", "family_id"))
    region = {t.pk: Territory.objects.get(code=t.path.split("/")[1]).pk for t in Territory.objects.all()}
    leaf = leaf.assign(family=leaf["product_id"].map(family), region=leaf["territory_id"].map(region))
    for level, key, col in [
        ("product", "product_id", "product_id"),
        ("territory", "territory_id", "territory_id"),
        ("family", "family", "family_id"),
        ("region", "region", "territory_id"),
    ]:
        sums = leaf.groupby([key, "period_start"])["point"].sum()
        got = frame[frame["level"] == level].set_index([col, "period_start"])["point"]
        assert len(got) == len(sums) > 0, level
        assert got.sort_index().to_numpy() == pytest.approx(sums.sort_index().to_numpy(), rel=1e-5, abs=1e-3)
    total = frame[frame["level"] == "total"].set_index("period_start")["point"].sort_index()
    assert total.to_numpy() == pytest.approx(
        leaf.groupby("period_start")["point"].sum().sort_index().to_numpy(), rel=1e-5
    )
    # reconciled, not bottom-up: the aggregates carry their own forecasts' information
    assert set(frame.loc[frame["level"] != "product_territory", "model"]) == {"reconciled (wls_var)"}
    assert (leaf["point"] >= 0).all() and (frame["lo80"] <= frame["point"] + 1e-9).all()
    # accuracy where people look: WAPE and bias of summed forecasts per level
    rows = {(a.level, a.series_key): a for a in ForecastAccuracy.objects.filter(run=run, source="backtest")}
    for level, key in [
        ("product", "all products"),
        ("family", "all families"),
        ("region", "all regions"),
        ("total", "total"),
    ]:
        assert rows[(level, key)].wape is not None and rows[(level, key)].bias is not None
    assert rows[("total", "total")].wape <= rows[("product", "all products")].wape
    assert any(k.startswith("f:") for _lvl, k in rows) and any(k.startswith("r:") for _lvl, k in rows)


def test_a_failing_chunk_is_tried_its_attempts_then_its_series_fail_and_the_run_says_why(demo, monkeypatch, erp):
    original = services.forecast_chunk_process
    calls = []

    def flaky(*, run_id, index, token):
        if index == 1:
            calls.append(token)
            raise RuntimeError("worker lost its marbles")
        return original(run_id=run_id, index=index, token=token)

    monkeypatch.setattr(services, "forecast_chunk_process", flaky)
    run = run_now(chunk_size=5)
    assert len(calls) == 3 == len(set(calls))  # RUN_MAX_ATTEMPTS claims, each its own token
    assert run.status == ForecastRun.Status.COMPLETED_WITH_ERRORS
    failed = ForecastSeries.objects.filter(run=run, status="failed")
    chunk = ForecastChunk.objects.get(run=run, index=1)
    assert chunk.status == "failed" and chunk.attempts == 3
    assert failed.count() == run.series_failed == len(chunk.series_keys) >= 5
    assert "worker lost its marbles" in failed.first().error
    assert ForecastSeries.objects.filter(run=run, status="ok").count() == run.series_total - len(chunk.series_keys)
    # The reason is on the run, for the page and the API alike.
    assert run.error.startswith(f"1 of {run.chunks_total} chunks failed after 3 attempts")
    assert "RuntimeError: worker lost its marbles" in run.error
    body = erp(scopes=["plans:read"]).get(f"/api/v1/forecast-runs/{run.pk}/").json()
    assert body["status"] == "completed_with_errors" and body["error"] == run.error and body["stalled"] is False


def test_a_redelivered_chunk_writes_nothing_twice(demo):
    run = services.forecast_run_create(as_of=AS_OF, trigger="command", parameters={"chunk_size": 6})
    services.forecast_run_plan(run_id=run.pk)
    assert services.forecast_chunk_attempt(run_id=run.pk, index=0, task_id="m1").last is False
    rows = Forecast.objects.filter(run=run).count()
    # The same message delivered again, and another message for the same chunk: nothing to do.
    assert services.forecast_chunk_claim(run_id=run.pk, index=0, task_id="m1") == (None, False)
    assert services.forecast_chunk_attempt(run_id=run.pk, index=0, task_id="m2") == services.ChunkOutcome()
    assert Forecast.objects.filter(run=run).count() == rows
    run.refresh_from_db()
    assert run.chunks_done == 1


def test_api_starts_a_run_with_202_and_it_can_be_polled(demo, erp, django_capture_on_commit_callbacks):
    api = erp(scopes=["forecasts:run", "plans:read"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/forecast-runs/",
            data=json.dumps({"as_of": "2026-06-15", "chunk_size": 20}),
            content_type="application/json",
        )
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status", "url"} and body["status"] == "queued"
    polled = api.get(body["url"]).json()
    assert polled["status"] == "completed" and polled["percent"] == 100
    forecasts = api.get("/api/v1/forecasts/?level=total&format=csv")
    lines = b"".join(forecasts.streaming_content).decode().splitlines()
    assert lines[0].startswith("run_id,level,series_key") and len(lines) == 19


def test_starting_a_run_needs_the_scope(demo, erp):
    api = erp(scopes=["plans:read"])
    assert api.post("/api/v1/forecast-runs/", data="{}", content_type="application/json").status_code == 403


def test_planner_starts_a_run_from_the_page_and_a_rep_cannot(demo, login, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login("planner").post("/forecasts/runs/start/")
    run = ForecastRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/forecasts/runs/{run.pk}/"
    assert login("rep1").get("/forecasts/").status_code == 403
    assert login("rep1").post("/forecasts/runs/start/").status_code == 403
    assert login("ops").post("/forecasts/runs/start/").status_code == 403


def test_run_and_series_pages_show_models_and_bands(demo, login, django_assert_max_num_queries):
    run = run_now(chunk_size=50)
    client = login("planner")
    with django_assert_max_num_queries(15):
        page = client.get(f"/forecasts/runs/{run.pk}/")
    assert "Backtest accuracy by level" in page.content.decode() and "all families" not in page.content.decode()
    assert page.status_code == 200
    series = ForecastSeries.objects.filter(run=run, status="ok").first()
    detail = client.get(f"/forecasts/runs/{run.pk}/series/{series.pk}/")
    assert detail.status_code == 200
    assert series.model in detail.content.decode()
    assert len(detail.context["chart"]["point"]) == len(detail.context["chart"]["labels"])


def test_forecast_run_command_prints_progress(demo, capsys):
    from django.core.management import call_command

    call_command("forecast_run", "--as-of", AS_OF.isoformat(), "--chunk-size", "40")
    out = capsys.readouterr().out
    assert "series in" in out and "completed" in out


@requires_services
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_real_workers_run_a_forecast_over_redis_and_postgresql():
    from home.demo import seed_demo

    seed_demo(scale="tiny", seed=11, as_of=AS_OF)
    queue = f"test-forecast-{uuid.uuid4().hex[:8]}"
    with celery_worker(queue, concurrency=2) as worker, real_broker(queue):
        from forecasting.tasks import forecast_run_start_task

        run = services.forecast_run_create(as_of=AS_OF, trigger="api", parameters={"chunk_size": 8})
        forecast_run_start_task.delay(run.pk)
        done = wait_for(
            lambda: ForecastRun.objects.get(pk=run.pk).status in ("completed", "completed_with_errors"), timeout=180
        )
        if not done:
            pytest.fail("run did not finish; worker output:\n" + worker_output(worker))
    run.refresh_from_db()
    assert run.chunks_done == run.chunks_total > 1
    assert Forecast.objects.filter(run=run, level="product_territory").count() == run.series_done * run.horizon


def test_a_failed_forecast_fails_its_plan_run_instead_of_leaving_it_queued(demo, monkeypatch):
    from sop.models import PlanRun
    from sop.services import PLAN_RUN_FOLLOW_UP, plan_run_create

    plan = plan_run_create(trigger="api")
    run = services.forecast_run_create(as_of=AS_OF, trigger="api", follow_up=(PLAN_RUN_FOLLOW_UP, plan.pk))
    monkeypatch.setattr(services, "write_coherent_levels", lambda run: 1 / 0)
    run = services.forecast_run_execute(run)
    assert run.status == "failed" and "ZeroDivisionError" in run.error
    plan.refresh_from_db()
    assert plan.status == PlanRun.Status.FAILED and f"forecast run {run.pk} failed" in plan.error
