import base64
import time

import pytest

from m3tersync import signing
from m3tersync.tests.signed import sign

URL = "https://hub.example.com/m3ter/webhooks/abc/"
KEY = "webhook-key"
SECRET = "webhook-secret"
BODY = b'{"eventName": "billing.bill.updated"}'


def signed(**overrides):
    return sign(secret=SECRET, url=URL, api_key=KEY, body=BODY, **overrides)


def check(headers, *, body=BODY, url=URL, now=None):
    return signing.verify(headers=headers, body=body, url=url, api_key=KEY, secret=SECRET, now=now)


def test_a_request_signed_with_the_secret_is_accepted():
    result = check(signed())
    assert result.api_key == KEY


def test_the_signed_string_is_url_key_timestamp_and_body_joined_by_pipes():
    import hashlib
    import hmac

    headers = signed(timestamp="1790000000")
    expected = hmac.new(
        SECRET.encode(), f"{URL}|{KEY}|1790000000|".encode() + BODY, hashlib.sha256
    ).hexdigest()
    assert headers[signing.SIGNATURE_HEADER] == expected


def test_a_base64_signature_and_a_millisecond_timestamp_are_accepted():
    milliseconds = str(int(time.time() * 1000))
    headers = signed(timestamp=milliseconds)
    digest = bytes.fromhex(headers[signing.SIGNATURE_HEADER])
    headers[signing.SIGNATURE_HEADER] = base64.b64encode(digest).decode()
    check(headers)


@pytest.mark.parametrize(
    "missing", [signing.API_KEY_HEADER, signing.TIMESTAMP_HEADER, signing.SIGNATURE_HEADER]
)
def test_an_unsigned_request_is_refused_with_401_naming_the_header(missing):
    headers = signed()
    del headers[missing]
    with pytest.raises(signing.SignatureRefused) as refused:
        check(headers)
    assert refused.value.status == 401
    assert missing in refused.value.message


def test_a_request_signed_more_than_five_minutes_ago_is_refused_as_stale():
    headers = signed(timestamp=str(int(time.time()) - 301))
    with pytest.raises(signing.SignatureRefused) as refused:
        check(headers)
    assert refused.value.status == 403
    assert "Stale" in refused.value.message


def test_a_request_dated_in_the_future_is_refused_as_stale():
    headers = signed(timestamp=str(int(time.time()) + 600))
    with pytest.raises(signing.SignatureRefused, match="in the future"):
        check(headers)


def test_a_tampered_body_is_refused():
    with pytest.raises(signing.SignatureRefused, match="does not match") as refused:
        check(signed(), body=BODY.replace(b"updated", b"created"))
    assert refused.value.status == 403


def test_a_signature_for_another_url_is_refused():
    with pytest.raises(signing.SignatureRefused, match="does not match"):
        check(signed(), url=URL.replace("abc", "xyz"))


def test_a_request_signed_with_another_secret_is_refused():
    headers = sign(secret="other", url=URL, api_key=KEY, body=BODY)
    with pytest.raises(signing.SignatureRefused, match="does not match"):
        check(headers)


def test_another_api_key_is_refused():
    headers = sign(secret=SECRET, url=URL, api_key="someone-else", body=BODY)
    with pytest.raises(signing.SignatureRefused, match="webhook API key") as refused:
        check(headers)
    assert refused.value.status == 403


def test_a_timestamp_that_is_not_a_number_is_refused():
    headers = signed(timestamp="yesterday")
    with pytest.raises(signing.SignatureRefused, match="not a Unix time"):
        check(headers)
