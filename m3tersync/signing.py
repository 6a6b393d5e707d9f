"""The M3TER_SIGNED_REQUEST scheme m3ter signs its outgoing webhooks with.

m3ter's documentation confirms that outgoing webhooks authenticate only with M3TER_SIGNED_REQUEST
credentials (an API key and an API secret the user enters on the Outgoing webhook), and that its
page "Webhook Authentication for M3TER_SIGNED_REQUEST" explains how to build and check the
signature. That page's text could not be read while this was written, so the details below are
the most faithful reading available, kept in this one module so they can be corrected in one
place (see docs/m3ter-inbound.md, "What was verified"):

    X-m3ter-apikey:    the API key of the webhook's credentials
    X-m3ter-timestamp: when the request was signed (Unix seconds; milliseconds accepted)
    X-m3ter-signature: HMAC-SHA256 keyed with the API secret over
                       "<url>|<api key>|<timestamp>|<raw body>", hex (base64 accepted)
"""

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass

API_KEY_HEADER = "X-m3ter-apikey"
TIMESTAMP_HEADER = "X-m3ter-timestamp"
SIGNATURE_HEADER = "X-m3ter-signature"
# Requests signed longer ago (or further ahead, for clock skew) than this are refused as stale.
TOLERANCE_SECONDS = 300


class SignatureRefused(Exception):
    """The request is not a genuine, fresh m3ter webhook; status is the HTTP answer."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


def _digest(*, secret: str, url: str, api_key: str, timestamp: str, body: bytes) -> bytes:
    message = "|".join((url, api_key, timestamp)).encode() + b"|" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _decode_signature(value: str) -> bytes | None:
    value = value.strip()
    if value.lower().startswith("sha256="):
        value = value[len("sha256=") :]
    try:
        return bytes.fromhex(value) if len(value) == 64 else base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        return None


def _timestamp_seconds(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    # Milliseconds since the epoch are 13 digits today; seconds are 10.
    return number / 1000 if number > 1e11 else number


@dataclass(frozen=True)
class VerifiedRequest:
    api_key: str
    signed_at: float


def verify(
    *,
    headers,
    body: bytes,
    url: str,
    api_key: str,
    secret: str,
    now: float | None = None,
) -> VerifiedRequest:
    """Check a webhook's signature headers; raises SignatureRefused saying what is wrong."""
    sent_key = headers.get(API_KEY_HEADER, "")
    sent_timestamp = headers.get(TIMESTAMP_HEADER, "")
    sent_signature = headers.get(SIGNATURE_HEADER, "")
    missing = [
        name
        for name, value in (
            (API_KEY_HEADER, sent_key),
            (TIMESTAMP_HEADER, sent_timestamp),
            (SIGNATURE_HEADER, sent_signature),
        )
        if not value
    ]
    if missing:
        raise SignatureRefused(
            401, f"Unsigned request: the {', '.join(missing)} header(s) are missing."
        )
    if not hmac.compare_digest(sent_key.encode(), api_key.encode()):
        raise SignatureRefused(
            403, f"The {API_KEY_HEADER} header does not match this connection's webhook API key."
        )
    signed_at = _timestamp_seconds(sent_timestamp)
    if signed_at is None:
        raise SignatureRefused(
            401, f"The {TIMESTAMP_HEADER} header is not a Unix time: {sent_timestamp[:40]!r}."
        )
    now = time.time() if now is None else now
    if abs(now - signed_at) > TOLERANCE_SECONDS:
        when = (
            f"{int(now - signed_at)} seconds ago"
            if now > signed_at
            else f"{int(signed_at - now)} seconds in the future"
        )
        raise SignatureRefused(
            403,
            f"Stale request: signed {when}; at most {TOLERANCE_SECONDS} seconds either way "
            "are accepted. Check the clocks, or whether this is a replay.",
        )
    expected = _digest(
        secret=secret, url=url, api_key=sent_key, timestamp=sent_timestamp, body=body
    )
    received = _decode_signature(sent_signature)
    if received is None or not hmac.compare_digest(received, expected):
        raise SignatureRefused(
            403,
            "The signature does not match the request: it was altered or signed with "
            "another secret (or for another URL).",
        )
    return VerifiedRequest(api_key=sent_key, signed_at=signed_at)
