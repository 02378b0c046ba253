"""What every long run shares so that none can hang: the queue check before a start, sending
work to the workers without ever failing the caller, the heartbeat of work in progress and
the clock that says when silent work is stalled.

The database is the record of what is to be done (a run's status, its chunks' states); a
message on the queue is only a nudge. A message lost with its worker or with Redis is sent
again by the reaper (``sop.services.runs_reap``, started by Celery beat every
``RUN_REAPER_SECONDS``), so sending may fail quietly here: the work stays recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as QueueOperationalError

from config.celery import app
from core.errors import ApplicationError, ServiceUnavailable

log = logging.getLogger(__name__)

#: Failures of a dependency rather than of the work: worth another attempt later.
DATABASE_ERRORS = (OperationalError, InterfaceError)
TRANSIENT_ERRORS = (*DATABASE_ERRORS, QueueOperationalError, ConnectionError, TimeoutError)

#: A publish gives up quickly: the run is recorded and the reaper sends it again.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def new_claim(task_id: str | None) -> str:
    """A claim token: the Celery task id (a retry of the same message keeps it) and a nonce."""
    return f"{task_id or 'local'}:{uuid.uuid4().hex[:12]}"


def same_message(claimed_by: str, task_id: str | None) -> bool:
    """True when ``claimed_by`` was taken by an earlier delivery of this very message (a
    retry or a redelivery): that attempt is over, so this one may take the work back."""
    return bool(task_id) and claimed_by.split(":", 1)[0] == task_id


def stale_before(now: dt.datetime | None = None) -> dt.datetime:
    """Work whose last sign of life is older than this is stalled."""
    return (now or timezone.now()) - dt.timedelta(seconds=settings.RUN_STALE_SECONDS)


def max_attempts() -> int:
    return max(int(settings.RUN_MAX_ATTEMPTS), 1)


def queue_available(*, timeout: float = 2.0) -> bool:
    """Can a message be handed to the broker now? (Embedded: a folder, always.)"""
    if str(app.conf.broker_url).startswith("filesystem"):
        return True  # embedded: the queue is a folder on this machine
    try:
        # Short socket timeouts for this check alone: a hung Redis is told within ``timeout``.
        options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
        with app.connection_for_write(transport_options=options) as conn:
            conn.ensure_connection(max_retries=0, interval_start=0, interval_step=0, timeout=timeout)
            if conn.transport.driver_type == "redis":
                conn.default_channel.client.ping()
        return True
    except Exception as exc:  # any broker or socket failure means "not now"
        log.warning("task queue unreachable: %s: %s", type(exc).__name__, exc)
        return False


def require_queue() -> None:
    """Refuse to record a run that no worker could be told about (no phantom runs)."""
    if not queue_available():
        raise ServiceUnavailable(
            _(
                "The task queue is not reachable, so the run was not started. Try again in a minute; "
                "an administrator can check /healthz."
            ),
            dependency="queue",
        )


def send(task, *args, countdown: float | None = None) -> bool:
    """Queue ``task(*args)``; False (logged) when the broker refused. The caller's record of
    the work stands either way: the reaper sends what was not delivered."""
    try:
        task.apply_async(args=args, countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY)
        return True
    except Exception as exc:  # the broker is down or hung: the database still holds the work
        if getattr(task.app.conf, "task_always_eager", False) and not isinstance(exc, TRANSIENT_ERRORS):
            raise  # eager (tests): the task itself failed; let it show
        log.warning(
            "could not queue %s%s (%s: %s); the reaper will send it again", task.name, args, type(exc).__name__, exc
        )
        return False


def send_on_commit(task, *args) -> None:
    """Queue ``task(*args)`` once the surrounding transaction commits (see :func:`send`)."""
    transaction.on_commit(lambda: send(task, *args))


@contextmanager
def heartbeat(*targets: QuerySet, every: float | None = None) -> Iterator[None]:
    """While the block runs, a thread stamps ``heartbeat_at = now`` on the rows of ``targets``
    every ``every`` seconds (``RUN_HEARTBEAT_SECONDS``; 0 = off). A worker killed mid-work
    stops beating, and the reaper takes the work back once it is stale. Filter the targets on
    the claim token, so a worker that lost its claim no longer refreshes work now held by
    another."""
    every = settings.RUN_HEARTBEAT_SECONDS if every is None else every
    if not every or every <= 0:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    now = timezone.now()
                    for target in targets:
                        target.update(heartbeat_at=now)
                except Exception as exc:  # a missed beat is harmless: staleness needs several
                    log.warning("heartbeat missed: %s: %s", type(exc).__name__, exc)
                    connections["default"].close_if_unusable_or_obsolete()
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name="run-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 10)


def forget_broken_connection(exc: BaseException) -> None:
    """After a database error, drop the broken connection so the next query reconnects (a
    worker records the failure once the database is back instead of failing again)."""
    connection = connections["default"]
    if isinstance(exc, DATABASE_ERRORS) and not connection.in_atomic_block:  # never under a caller's transaction
        try:
            connection.close_if_unusable_or_obsolete()
        except Exception:  # closing a dead connection may fail as well; it is gone either way
            log.debug("closing a broken connection failed", exc_info=True)


def describe(exc: BaseException, limit: int = 2000) -> str:
    return f"{type(exc).__name__}: {exc}"[:limit]


#: Retries of a step that met a dependency outage (2, 4, 8 … 60 s apart: about 4 minutes).
OUTAGE_RETRIES = 7


def retry_later(task, exc: BaseException):
    """From a Celery task whose step met a dependency outage: try the same message again
    later, with backoff. Past the retries the message is dropped; the work stays recorded in
    the database and the reaper sends it again."""
    if task.request.is_eager:
        raise exc
    log.warning(
        "%s%s met an outage (%s); retry %s", task.name, task.request.args, describe(exc, 300), task.request.retries + 1
    )
    raise task.retry(exc=exc, countdown=min(2 ** (task.request.retries + 1), 60), max_retries=OUTAGE_RETRIES)


class Claim:
    """What a delivery found when it tried to take a step of a run."""

    CLAIMED = "claimed"  # it is this delivery's to do
    BUSY = "busy"  # another delivery holds it and is alive
    PAST = "past"  # the run is no longer at this step (done, failed, or moved on)
    EXHAUSTED = "exhausted"  # taken RUN_MAX_ATTEMPTS times already: the caller fails it


def claim_step(model, run_id: int, *, token: str, task_id: str | None, statuses: tuple[str, ...]) -> str:
    """Take the current step of run ``run_id`` (a :class:`core.models.RunRecord`) for this
    delivery when the run is in one of ``statuses`` and no live delivery holds it. Counts an
    attempt; the step's success or failure clears the claim."""
    now = timezone.now()
    with transaction.atomic():
        run = model.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in statuses:
            return Claim.PAST
        alive = run.heartbeat_at is not None and run.heartbeat_at >= stale_before(now)
        if run.claimed_by and alive and not same_message(run.claimed_by, task_id):
            return Claim.BUSY
        if run.attempts >= max_attempts():
            return Claim.EXHAUSTED
        model.objects.filter(pk=run_id).update(
            claimed_by=token, attempts=F("attempts") + 1, heartbeat_at=now, updated_at=now
        )
    return Claim.CLAIMED


def release_step(model, run_id: int, *, token: str) -> None:
    """Give the step back after a dependency outage, so the next delivery can take it."""
    model.objects.filter(pk=run_id, claimed_by=token).update(claimed_by="", updated_at=timezone.now())


def run_in_progress(run, *, kind: str, url: str, page_url: str):
    """The 409 for a second start while ``run`` is active (one active run of each kind)."""
    return ApplicationError(
        _("A %(kind)s is already in progress (#%(id)s, %(status)s): wait for it to finish, or follow it at %(url)s.")
        % {"kind": kind, "id": run.pk, "status": run.status, "url": page_url},
        code="run_in_progress",
        status=409,
        details={"id": run.pk, "status": run.status, "url": url, "page_url": page_url, "stalled": run.is_stalled},
    )
