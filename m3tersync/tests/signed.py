"""Signing a webhook body as m3ter does, for tests that post webhooks to the hub."""

import time

from m3tersync.signing import API_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, _digest


def sign(*, secret: str, url: str, api_key: str, body: bytes, timestamp: str | None = None):
    """The headers m3ter would send for this body."""
    timestamp = timestamp or str(int(time.time()))
    digest = _digest(secret=secret, url=url, api_key=api_key, timestamp=timestamp, body=body)
    return {
        API_KEY_HEADER: api_key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: digest.hex(),
    }
