"""The database-shared rate limiter: evenly spaced slots, shared across limiter instances (i.e.
workers), Retry-After respected, and a concurrent batch that keeps to Paddle's limit."""

import threading
import time

import pytest
from django.db import OperationalError, connection

from paddle_destination.client import paddle_client_build, paddle_connection_check
from paddle_destination.errors import paddle_errors
from paddle_destination.models import RateLimitSlot
from paddle_destination.ratelimit import SAFETY, RateLimiter
from standins.paddle import make_api_key


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class BusyWaitingLimiter(RateLimiter):
    """The test database on SQLite is in memory with a shared cache, which answers a concurrent
    writer "database table is locked" at once instead of waiting as a file database does (the
    settings give it a 20 s busy timeout). Wait here the way that timeout would."""

    def reserve(self):
        while True:
            try:
                return super().reserve()
            except OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                time.sleep(0.001)


def limiter(clock, key="credential:a", limit=240):
    return RateLimiter(key, limit=limit, clock=clock, sleep=clock.sleep)


@pytest.mark.django_db
def test_slots_are_evenly_spaced_just_under_the_limit():
    clock = FakeClock()
    interval = 60 / (240 * SAFETY)

    slots = [limiter(clock).reserve() for _ in range(4)]

    assert slots == pytest.approx([clock.now + i * interval for i in range(4)])
    assert 60 / interval >= 0.95 * 240


@pytest.mark.django_db
def test_acquire_sleeps_until_its_slot_and_an_idle_limiter_does_not_make_up_for_lost_time():
    clock = FakeClock()
    first, second = limiter(clock), limiter(clock)  # two workers, one credential

    assert first.acquire() == 0.0
    assert second.acquire() == pytest.approx(first.interval)
    clock.now += 3600  # an idle hour gives no burst
    assert first.acquire() == 0.0
    assert first.acquire() == pytest.approx(first.interval)


@pytest.mark.django_db
def test_credentials_are_limited_independently():
    clock = FakeClock()
    limiter(clock, "credential:a").acquire()
    assert limiter(clock, "credential:b").acquire() == 0.0


@pytest.mark.django_db
def test_retry_after_holds_every_worker_off():
    clock = FakeClock()
    limiter(clock).hold_off(42)
    assert limiter(clock).acquire() == pytest.approx(42)
    # A shorter hold never pulls the next slot back.
    limiter(clock).hold_off(1)
    assert RateLimitSlot.objects.get().next_slot_at >= clock.now + limiter(clock).interval - 1e-6


def test_the_limit_comes_from_settings(settings):
    settings.PADDLE_RATE_LIMIT_PER_MINUTE = 120
    assert RateLimiter("k").interval == pytest.approx(60 / (120 * SAFETY))
    with pytest.raises(ValueError):
        RateLimiter("k", limit=0)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_batch_keeps_to_the_limit_without_a_single_429(paddle):
    """Four workers share one credential against a stand-in enforcing the same limit on a short
    window (40 requests per 2 s, Paddle's fixed-window counting): none is refused, and the batch
    takes at least as long as the limit demands."""
    limit, window, workers, per_worker = 40, 2.0, 4, 25
    paddle.configure(rate_limit_per_minute=limit, rate_window_seconds=window, block_seconds=5)
    key = make_api_key("sandbox")
    limiter_class = BusyWaitingLimiter if connection.vendor == "sqlite" else RateLimiter
    failures = []

    def worker():
        try:
            client = paddle_client_build(
                api_key=key,
                destination="PADDLE_SANDBOX",
                limiter=limiter_class("credential:batch", limit=limit, period=window),
            )
            for _ in range(per_worker):
                with paddle_errors("sending the batch"):
                    paddle_connection_check(client)
        except Exception as exc:  # a thread's exception would otherwise only be printed
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    assert failures == []
    assert paddle.stats()["rate_limited"] == 0
    sent = workers * per_worker
    assert paddle.request_count("GET", "/transactions") == sent
    # The limiter, not luck, kept the pace: `sent` requests need at least this many full
    # windows. How close to the limit it runs is a figure of bench/deliver.py (load on a shared
    # machine only slows a batch, so this bound cannot flicker).
    assert elapsed >= (sent // limit - 1) * window
