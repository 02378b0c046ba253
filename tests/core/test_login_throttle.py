"""Sign-in throttling: failed attempts lock a username and an address for a while, even for
the right password; case games and forged proxy headers do not get around it."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

LOGIN = "/accounts/login/"
LOCKED = "Too many failed sign-in attempts for this account or from this network. Sign-in is locked for 15 minutes"


@pytest.fixture
def people(db):
    User = get_user_model()
    return {name: User.objects.create_user(name, password="right-horse-battery") for name in ("rep1", "rep2")}


def attempt(client, username, password="wrong", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/"


def test_the_right_password_is_refused_once_the_account_is_locked(people):
    client = Client()
    for _ in range(4):
        response = attempt(client, "rep1")
        assert response.status_code == 200 and "didn't match" in response.content.decode()
    locked = attempt(client, "rep1")  # the fifth failure locks
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    again = attempt(Client(REMOTE_ADDR="10.0.0.9"), "rep1", "right-horse-battery")  # from elsewhere too
    assert again.status_code == 429 and LOCKED in again.content.decode()
    assert "_auth_user_id" not in Client().session


def test_varying_the_case_of_the_username_does_not_reset_the_count(people):
    client = Client()
    for name in ("rep1", "REP1", "Rep1", "rEp1", "ＲＥＰ１"):  # the last one in full-width letters
        attempt(client, name)
    assert attempt(Client(REMOTE_ADDR="10.0.0.7"), "rep1", "right-horse-battery").status_code == 429


def test_one_address_trying_many_usernames_is_locked(people, settings):
    client = Client(REMOTE_ADDR="10.0.0.5")
    for i in range(5):
        attempt(client, f"guess{i}")
    assert attempt(client, "rep2", "right-horse-battery").status_code == 429
    # The account itself is not locked: its owner signs in from another address.
    assert signed_in(attempt(Client(REMOTE_ADDR="10.0.0.6"), "rep2", "right-horse-battery"))


def test_forged_forwarded_for_headers_count_only_behind_a_trusted_proxy(people, settings):
    client = Client(REMOTE_ADDR="10.0.0.5")
    for i in range(5):
        attempt(client, f"guess{i}", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert attempt(client, "rep2", "right-horse-battery", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429

    settings.TRUST_PROXY = True  # now the proxy at 10.0.0.5 speaks for many clients
    for i in range(5):
        attempt(client, f"other{i}", HTTP_X_FORWARDED_FOR=f"spoofed, 198.51.100.{i}")
    assert signed_in(attempt(client, "rep2", "right-horse-battery", HTTP_X_FORWARDED_FOR="198.51.100.200"))


def test_a_success_resets_the_count_and_the_lock_ends_after_the_cool_off(people):
    from axes.models import AccessAttempt

    client = Client()
    for _ in range(4):
        attempt(client, "rep1")
    assert signed_in(attempt(client, "rep1", "right-horse-battery"))
    for _ in range(4):
        attempt(Client(), "rep1")
    assert signed_in(attempt(Client(), "rep1", "right-horse-battery"))  # 4 + 4 failures, never 5 in a row

    for _ in range(5):
        attempt(Client(), "rep1")
    assert attempt(Client(), "rep1", "right-horse-battery").status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert signed_in(attempt(Client(), "rep1", "right-horse-battery"))


def test_the_admin_login_is_throttled_too(people):
    User = get_user_model()
    User.objects.create_superuser("root", "root@example.com", "right-horse-battery")
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "root", "password": "right-horse-battery"})
    assert response.status_code == 429 and LOCKED in response.content.decode()
