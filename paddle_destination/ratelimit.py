"""A rate limiter shared by every worker through the database.

Evenly spaced slots (GCRA without a burst allowance): each request atomically reserves the next
free slot, `max(now, next_slot_at)`, moves `next_slot_at` one interval on, and sleeps until its
slot. Requests therefore leave at most one per interval, whichever process sends them, so a
large batch spread over several workers never passes Paddle's limit, and keeps to it: the only
loss is the safety margin below.

The reservation is one short transaction on one row (`select_for_update`: a row lock on
PostgreSQL; on SQLite the IMMEDIATE transaction mode set in settings takes the write lock at
BEGIN, which serialises it the same way). Call it outside any surrounding transaction, or the
row lock is held until that one ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from paddle_destination.models import RateLimitSlot

# Slots are spaced for 98% of the limit: requests reach Paddle with some jitter, and Paddle
# counts them in its own window; the margin keeps a jittered request from being the one too many.
SAFETY = 0.98


class RateLimiter:
    def __init__(
        self,
        key: str,
        *,
        limit: int | None = None,
        period: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        limit = settings.PADDLE_RATE_LIMIT_PER_MINUTE if limit is None else limit
        if limit < 1:
            raise ValueError("the rate limit must allow at least one request per period")
        self.key = key
        self.interval = period / (limit * SAFETY)
        self._clock = clock
        self._sleep = sleep

    def reserve(self) -> float:
        """Reserve the next slot; returns its time (seconds since the epoch)."""
        with transaction.atomic():
            row, _ = RateLimitSlot.objects.select_for_update().get_or_create(key=self.key)
            slot = max(self._clock(), row.next_slot_at)
            row.next_slot_at = slot + self.interval
            row.save(update_fields=["next_slot_at", "updated_at"])
        return slot

    def acquire(self) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        wait = self.reserve() - self._clock()
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def hold_off(self, seconds: float) -> None:
        """Paddle said to wait (429 Retry-After): no slot for anyone before then."""
        with transaction.atomic():
            row, _ = RateLimitSlot.objects.select_for_update().get_or_create(key=self.key)
            row.next_slot_at = max(row.next_slot_at, self._clock() + seconds)
            row.save(update_fields=["next_slot_at", "updated_at"])
