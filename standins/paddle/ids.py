"""Paddle-shaped ids: a prefix and a lowercase ULID (`txn_01hv8xxw3etar07vaxsqbyqasy`).

Paddle's ids are ULIDs, so they sort by creation time; its list endpoints order and paginate by
id. The generator is monotonic (ids made in the same millisecond still sort in creation order),
which keeps `order_by=id[...]` and the `after` cursor exact under concurrent requests.
"""

from __future__ import annotations

import re
import secrets
import threading
import time

# Crockford's base32, lowercased: the alphabet Paddle's ids are written in ([a-z\d]).
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


class IdGenerator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def ulid(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                # Same (or an earlier, after a clock step) millisecond: bump the random part.
                ms = self._last_ms
                self._last_random += 1
            else:
                self._last_random = secrets.randbits(79)  # headroom so +1 never overflows 80 bits
            self._last_ms = ms
            return _encode(ms, 10) + _encode(self._last_random, 16)

    def new(self, prefix: str) -> str:
        return f"{prefix}_{self.ulid()}"


_generator = IdGenerator()


def new_id(prefix: str) -> str:
    """`new_id("ctm")` -> `ctm_` + 26 characters of [0-9a-z]."""
    return _generator.new(prefix)


def make_api_key(mode: str = "sandbox") -> str:
    """A well-formed Paddle API key for tests (pattern from the spec's api_key schema)."""
    marker = {"sandbox": "sdbx", "production": "live"}[mode]
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    tail = "".join(secrets.choice(alnum) for _ in range(22))
    check = "".join(secrets.choice(alnum) for _ in range(3))
    return f"pdl_{marker}_apikey_{_generator.ulid()}_{tail}_{check}"


# The shapes of Paddle's API keys: the OpenAPI spec's api_key pattern (since May 2025), and the
# 50 letters and digits of older keys, which have no environment marker.
_API_KEY = re.compile(r"pdl_(live|sdbx)_apikey_[a-z\d]{26}_[a-zA-Z\d]{22}_[a-zA-Z\d]{3}")
_LEGACY_API_KEY = re.compile(r"[a-zA-Z\d]{50}")


def is_api_key_shaped(token: str) -> bool:
    """Whether `token` has the shape of a Paddle API key (make_api_key makes such keys)."""
    return bool(_API_KEY.fullmatch(token) or _LEGACY_API_KEY.fullmatch(token))
