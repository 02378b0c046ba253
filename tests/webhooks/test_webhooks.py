"""Webhooks to the ERP: subscriptions, signed deliveries to a receiver on loopback, retries
with backoff and a delivery log; a failing receiver never holds up a run."""

import datetime as dt
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from sop import cycle_services
from tests.sop.cycle_world import AS_OF, MONTH, cycle_world
from webhooks import services
from webhooks.models import WebhookDelivery
from webhooks.signing import MAX_ATTEMPTS, RETRY_DELAYS, SIGNATURE_HEADER, verify


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records what it receives and answers ``status``."""

    def __init__(self, status: int = 200):
        self.status, self.received = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": self.headers, "body": body})  # case-insensitive
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/sop"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nobody listens there now
    return f"http://127.0.0.1:{port}/down"


@pytest.fixture
def world(db):
    return cycle_world()


def subscribe(world, url, events):
    client = APIClient()
    client.force_authenticate(world["users"]["admin"])
    response = client.post("/api/v1/webhooks/", {"url": url, "events": events}, format="json")
    assert response.status_code == 201, response.content
    return client, response.json()


def test_a_loopback_receiver_verifies_the_signature_of_plan_published(world, django_capture_on_commit_callbacks):
    users = world["users"]
    with Receiver() as receiver:
        client, sub = subscribe(world, receiver.url, ["plan.published"])
        assert set(sub) == {"id", "url", "events", "secret"} and sub["secret"].startswith("whsec_")
        assert "secret" not in client.get(f"/api/v1/webhooks/{sub['id']}/").json()
        cycle = cycle_services.cycle_create(month=MONTH, user=users["planner"])
        for name in ("planner", "planner", "ops"):
            cycle = cycle_services.cycle_advance(cycle=cycle, user=users[name])
        with django_capture_on_commit_callbacks(execute=True):
            cycle_services.cycle_advance(cycle=cycle, user=users["exec"], comment="approved")
    assert len(receiver.received) == 1
    got = receiver.received[0]
    header = got["headers"][SIGNATURE_HEADER]
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert verify(sub["secret"], header, got["body"], now=timestamp)
    assert not verify("whsec_wrong", header, got["body"], now=timestamp)
    payload = json.loads(got["body"])
    assert set(payload) == {"id", "type", "created", "data"} and payload["type"] == "plan.published"
    assert payload["data"]["month"] == "2027-03-01" and payload["data"]["published_by"] == "exec"
    log = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries/").json()["results"]
    assert [(d["type"], d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("plan.published", "delivered", 1, 200)
    ]


def test_a_receiver_answering_500_is_retried_with_backoff_and_logged(world):
    with Receiver(status=500) as receiver:
        client, sub = subscribe(world, receiver.url, ["forecast_run.finished"])
        services.event_emit(type="forecast_run.finished", data={"id": 1, "status": "completed"})
        delivery = WebhookDelivery.objects.get()
        now = timezone.now()
        delays = []
        for _ in range(MAX_ATTEMPTS):
            delays.append(services.delivery_attempt(delivery_id=delivery.pk, now=now))
            delivery.refresh_from_db()
            if delivery.next_attempt_at:
                assert services.delivery_attempt(delivery_id=delivery.pk, now=now) is None  # not due yet
                now = delivery.next_attempt_at
    assert len(receiver.received) == MAX_ATTEMPTS >= 5
    assert delays == [*RETRY_DELAYS, None]  # 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, then stop
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", MAX_ATTEMPTS, 500)
    log = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries/").json()["results"][0]
    assert (log["status"], log["attempts"], log["last_status_code"], log["next_attempt_at"]) == (
        "failed",
        MAX_ATTEMPTS,
        500,
        None,
    )


def test_a_run_finishes_while_the_receiver_is_down(world, django_capture_on_commit_callbacks):
    from sop.services import plan_run_create, plan_run_execute

    client, sub = subscribe(world, closed_port_url(), ["plan_run.finished", "alert.created"])
    with django_capture_on_commit_callbacks(execute=True):
        run = plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    assert run.status == "completed"
    deliveries = WebhookDelivery.objects.select_related("event")
    assert {d.event.type for d in deliveries} == {"plan_run.finished"} | (
        {"alert.created"} if run.alerts_raised else set()
    )
    for d in deliveries:
        assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, None)
        assert "Connection refused" in d.last_error or "refused" in d.last_error.lower()
        assert d.next_attempt_at - d.last_attempt_at == dt.timedelta(seconds=RETRY_DELAYS[0])
    # The sweeper sends what is due once the receiver is back.
    with Receiver() as receiver:
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        receiver_url = receiver.url
        from webhooks.models import WebhookSubscription

        WebhookSubscription.objects.update(url=receiver_url)
        from webhooks.tasks import webhook_sweep_task

        webhook_sweep_task()
    assert len(receiver.received) == deliveries.count()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


@override_settings(WEBHOOK_ALLOW_PRIVATE_HOSTS=False)
def test_urls_must_be_public_https(world):
    client = APIClient()
    client.force_authenticate(world["users"]["admin"])
    for url, words in (
        ("http://erp.example/hook", "https"),
        ("https://127.0.0.1/hook", "private network"),
        ("https://10.1.2.3:8443/hook", "private network"),
    ):
        response = client.post("/api/v1/webhooks/", {"url": url, "events": ["plan.published"]}, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == "unsafe_url", url
        assert words in response.json()["error"]["message"]
    bad = client.post("/api/v1/webhooks/", {"url": "https://erp.example/h", "events": ["nope"]}, format="json")
    assert bad.status_code == 400
    planner = APIClient()
    planner.force_authenticate(world["users"]["planner"])
    assert (
        planner.post(
            "/api/v1/webhooks/", {"url": "https://erp.example/h", "events": ["plan.published"]}, format="json"
        ).status_code
        == 403
    )
