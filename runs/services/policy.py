"""The retry policy: what a failed attempt leads to, decided from the failure and the run's
counters alone — no database, no clock, no randomness of its own — so it can be read, and
tested, as a table. `finish.run_failed` applies the verdict."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from m3terpaddle.text import sentences
from paddle_destination.errors import DEFAULT_RETRY_AFTER, PaddleProblem, PaddleProblemKind
from runs.models import AttemptOutcome, LogLevel, RunStatus

OUTCOMES = {
    PaddleProblemKind.TRANSIENT: AttemptOutcome.TRANSIENT,
    PaddleProblemKind.RATE_LIMITED: AttemptOutcome.RATE_LIMITED,
    PaddleProblemKind.AUTHENTICATION: AttemptOutcome.AUTH_FAILED,
    PaddleProblemKind.INVALID_REQUEST: AttemptOutcome.INVALID,
    PaddleProblemKind.MISSING_MAPPING: AttemptOutcome.INVALID,
    PaddleProblemKind.UNSUPPORTED_BILL: AttemptOutcome.UNSUPPORTED,
    PaddleProblemKind.NOT_FOUND: AttemptOutcome.NOT_FOUND,
    PaddleProblemKind.IMMUTABLE: AttemptOutcome.IMMUTABLE,
    PaddleProblemKind.UNAVAILABLE: AttemptOutcome.TRANSIENT,
}


@dataclass(frozen=True)
class RetryLimits:
    max_attempts: int
    max_rate_limit_retries: int
    base_seconds: float
    max_seconds: float

    @classmethod
    def from_settings(cls) -> RetryLimits:
        return cls(
            max_attempts=settings.RUN_MAX_ATTEMPTS,
            max_rate_limit_retries=settings.RUN_MAX_RATE_LIMIT_RETRIES,
            base_seconds=settings.RUN_RETRY_BASE_SECONDS,
            max_seconds=settings.RUN_RETRY_MAX_SECONDS,
        )


@dataclass(frozen=True)
class Verdict:
    """What a failed attempt leads to."""

    status: str
    outcome: str
    level: str
    message: str  # the attempt's log line
    error: str
    error_hint: str
    delay_seconds: float | None = None  # None: no automatic retry
    next_attempt_at: datetime.datetime | None = None
    counters: dict = field(default_factory=dict)  # the run's retry counters after this attempt


def retry_delay(
    *, retries_so_far: int, limits: RetryLimits, jitter: Callable[[float, float], float]
) -> float:
    """Exponential backoff with jitter: half the step is fixed, half random, so runs that failed
    together do not all come back together."""
    step = min(limits.max_seconds, limits.base_seconds * 2**retries_so_far)
    return step / 2 + jitter(0, step / 2)


def attempt_verdict(
    *,
    problem: PaddleProblem,
    retries_so_far: int,
    rate_limit_retries_so_far: int,
    now: datetime.datetime,
    limits: RetryLimits,
    jitter: Callable[[float, float], float] = random.uniform,
) -> Verdict:
    """The verdict on an attempt that failed with `problem`, for a run that has been retried
    `retries_so_far` times (and `rate_limit_retries_so_far` for Paddle's rate limit)."""
    kind = problem.kind
    plain = {
        "outcome": OUTCOMES.get(kind, AttemptOutcome.ERROR),
        "level": LogLevel.WARNING,
        "error": problem.message,
        "error_hint": problem.hint,
    }
    attempts = retries_so_far + 1
    if kind == PaddleProblemKind.UNAVAILABLE:
        # Paddle's circuit is open: the run waits for the next probe, and keeps its attempts,
        # however long the outage lasts.
        delay = problem.retry_after or 0.0
        at = now + datetime.timedelta(seconds=delay)
        return Verdict(
            status=RunStatus.AWAITING_RETRY,
            message=f"Waiting for Paddle, without using an attempt: {problem.message}",
            delay_seconds=delay,
            next_attempt_at=at,
            **{**plain, "level": LogLevel.INFO},
        )
    if kind == PaddleProblemKind.TRANSIENT and attempts < limits.max_attempts:
        delay = retry_delay(retries_so_far=retries_so_far, limits=limits, jitter=jitter)
        at = now + datetime.timedelta(seconds=delay)
        return Verdict(
            status=RunStatus.AWAITING_RETRY,
            message=f"Attempt failed ({problem.message}); retry {attempts} of "
            f"{limits.max_attempts - 1} at {at:%H:%M:%S} UTC.",
            delay_seconds=delay,
            next_attempt_at=at,
            counters={"retry_count": attempts},
            **plain,
        )
    if kind == PaddleProblemKind.TRANSIENT:
        return Verdict(
            status=RunStatus.ERROR,
            message=f"Gave up after {attempts} attempts: {problem.message}",
            **{
                **plain,
                "level": LogLevel.ERROR,
                "error": sentences(problem.message, f"Gave up after {attempts} attempts"),
                # The problem's own hint promises an automatic retry, which is now over.
                "error_hint": "The hub has stopped retrying this run by itself. Once Paddle "
                "answers again (its status page: status.paddle.com) and this server can reach "
                "it, Retry the run; an attempt that may have reached Paddle is checked for "
                "before anything is sent again.",
            },
        )
    if kind == PaddleProblemKind.RATE_LIMITED:
        return _rate_limited(
            problem, rate_limit_retries_so_far + 1, now=now, limits=limits, jitter=jitter, **plain
        )
    if kind == PaddleProblemKind.AUTHENTICATION:
        return Verdict(status=RunStatus.AUTH_FAILED, message=problem.message, **plain)
    if kind == PaddleProblemKind.IMMUTABLE:
        return Verdict(
            status=RunStatus.INVOICE_ALREADY_PAID,
            message=f"Left untouched in Paddle: {problem.message}",
            **plain,
        )
    return Verdict(
        status=RunStatus.ERROR, message=problem.message, **{**plain, "level": LogLevel.ERROR}
    )


def _rate_limited(problem, retries: int, *, now, limits, jitter, **plain) -> Verdict:
    if retries >= limits.max_rate_limit_retries:
        return Verdict(
            status=RunStatus.TIMEOUT_LIMIT_EXCEEDED,
            message=f"Paddle refused {retries} times for its rate limit; given up.",
            **{
                **plain,
                "error": sentences(
                    problem.message, f"Paddle kept refusing for its rate limit ({retries} times)"
                ),
                "error_hint": "Paddle limits requests per IP address, and this hub's address "
                "kept passing the limit: something else calls Paddle from the same address, or "
                "PADDLE_RATE_LIMIT_PER_MINUTE (shared by every credential and worker of the hub) "
                "is set above Paddle's limit. Retry the run later.",
            },
        )
    wait = problem.retry_after or DEFAULT_RETRY_AFTER
    delay = wait * jitter(1.0, 1.1)
    at = now + datetime.timedelta(seconds=delay)
    return Verdict(
        status=RunStatus.RATE_LIMIT_RETRY,
        message=f"Paddle's rate limit was reached; trying again after its Retry-After "
        f"({wait:g} s), at {at:%H:%M:%S} UTC.",
        delay_seconds=delay,
        next_attempt_at=at,
        counters={"rate_limit_retry_count": retries},
        **plain,
    )
