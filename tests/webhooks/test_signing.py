"""Webhook signatures, destination checks and retry schedule (no database)."""

import hashlib
import hmac

import pytest

from webhooks.signing import (
    MAX_ATTEMPTS,
    UnsafeDestination,
    check_destination,
    retry_delay,
    signature,
    verify,
)


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"evt_1","type":"plan.published"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_x", 1700000000, body) == f"t=1700000000,v1={expected}"


def test_receiver_verifies_and_rejects_tampering_wrong_secret_and_replays():
    body = b'{"a":1}'
    header = signature("s3cret", 1000, body)
    assert verify("s3cret", header, body, now=1010)
    assert not verify("s3cret", header, b'{"a":2}', now=1010)
    assert not verify("other", header, body, now=1010)
    assert not verify("s3cret", header, body, now=1000 + 301)
    assert not verify("s3cret", "garbage", body, now=1000)


def test_retry_schedule_backs_off_and_stops():
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert MAX_ATTEMPTS >= 5
    assert delays == sorted(delays) and len(set(delays)) == len(delays)
    assert retry_delay(MAX_ATTEMPTS) is None


def resolver(mapping):
    return lambda host, port: mapping[host]


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "127.0.0.1",
        "169.254.169.254",
        "192.168.1.1",
        "::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "172.16.3.4",
    ],
)
def test_private_loopback_and_link_local_destinations_are_refused(address):
    with pytest.raises(UnsafeDestination, match="private network"):
        check_destination(
            "https://erp.example.com/hook", resolve=resolver({"erp.example.com": [address]}), allow_private=False
        )


def test_public_https_destination_is_accepted_and_http_is_not():
    resolve = resolver({"erp.example.com": ["93.184.216.34"]})
    check_destination("https://erp.example.com/hook", resolve=resolve, allow_private=False)
    with pytest.raises(UnsafeDestination, match="https"):
        check_destination("http://erp.example.com/hook", resolve=resolve, allow_private=False)


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    resolve = resolver({"mixed.example.com": ["93.184.216.34", "10.1.2.3"]})
    with pytest.raises(UnsafeDestination):
        check_destination("https://mixed.example.com/", resolve=resolve, allow_private=False)


def test_allow_private_lets_loopback_http_through_for_tests_and_on_premise():
    check_destination("http://127.0.0.1:8080/hook", resolve=resolver({}), allow_private=True)


def test_credentials_in_url_and_unresolvable_hosts_are_refused():
    with pytest.raises(UnsafeDestination, match="password"):
        check_destination("https://u:p@erp.example.com/", resolve=resolver({}), allow_private=True)

    def fail(host, port):
        raise OSError("no such host")

    with pytest.raises(UnsafeDestination, match="cannot be resolved"):
        check_destination("https://nowhere.invalid/", resolve=fail, allow_private=False)
