"""The retry policy as a table: each kind of failure, at given counters, and what follows.
Pure: no database, no HTTP; jitter is pinned to its lowest and highest draw."""

import datetime

import pytest

from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from runs.models import AttemptOutcome, LogLevel, RunStatus
from runs.services.policy import RetryLimits, attempt_verdict

LIMITS = RetryLimits(max_attempts=5, max_rate_limit_retries=20, base_seconds=30, max_seconds=3600)
NOW = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.UTC)
LOWEST, HIGHEST = (lambda low, high: low), (lambda low, high: high)


def verdict(
    kind, *, retries=0, rate_limit_retries=0, retry_after=None, jitter=LOWEST, limits=LIMITS
):
    problem = PaddleProblem(kind, "Paddle said no.", hint="Do this.", retry_after=retry_after)
    return attempt_verdict(
        problem=problem,
        retries_so_far=retries,
        rate_limit_retries_so_far=rate_limit_retries,
        now=NOW,
        limits=limits,
        jitter=jitter,
    )


K = PaddleProblemKind
# kind, counters (retries, rate-limit retries), Retry-After
#   -> status, outcome, level, delay range (None: no automatic retry), log line contains, counters
TABLE = [
    pytest.param(
        K.TRANSIENT, (0, 0), None,
        RunStatus.AWAITING_RETRY, AttemptOutcome.TRANSIENT, LogLevel.WARNING, (15, 30),
        "Attempt failed (Paddle said no.); retry 1 of 4 at", {"retry_count": 1},
        id="transient, first failure: backoff of half a base step plus jitter",
    ),
    pytest.param(
        K.TRANSIENT, (3, 7), None,
        RunStatus.AWAITING_RETRY, AttemptOutcome.TRANSIENT, LogLevel.WARNING, (120, 240),
        "retry 4 of 4 at", {"retry_count": 4},
        id="transient, fourth failure: the step doubles each retry",
    ),
    pytest.param(
        K.TRANSIENT, (4, 0), None,
        RunStatus.ERROR, AttemptOutcome.TRANSIENT, LogLevel.ERROR, None,
        "Gave up after 5 attempts: Paddle said no.", {},
        id="transient, max attempts reached",
    ),
    pytest.param(
        K.RATE_LIMITED, (2, 0), 12,
        RunStatus.RATE_LIMIT_RETRY, AttemptOutcome.RATE_LIMITED, LogLevel.WARNING, (12, 13.2),
        "after its Retry-After (12 s), at", {"rate_limit_retry_count": 1},
        id="rate limited with Retry-After: waits that long, plus up to a tenth",
    ),
    pytest.param(
        K.RATE_LIMITED, (0, 5), None,
        RunStatus.RATE_LIMIT_RETRY, AttemptOutcome.RATE_LIMITED, LogLevel.WARNING, (60, 66),
        "after its Retry-After (60 s), at", {"rate_limit_retry_count": 6},
        id="rate limited without Retry-After: Paddle's 60 s block",
    ),
    pytest.param(
        K.RATE_LIMITED, (0, 19), 12,
        RunStatus.TIMEOUT_LIMIT_EXCEEDED, AttemptOutcome.RATE_LIMITED, LogLevel.WARNING, None,
        "Paddle refused 20 times for its rate limit; given up.", {},
        id="rate-limit retries exhausted",
    ),
    pytest.param(
        K.UNAVAILABLE, (4, 19), 8,
        RunStatus.AWAITING_RETRY, AttemptOutcome.TRANSIENT, LogLevel.INFO, (8, 8),
        "Waiting for Paddle, without using an attempt: Paddle said no.", {},
        id="Paddle's circuit open: waits for the next probe, counters untouched, however many",
    ),
    pytest.param(
        K.AUTHENTICATION, (0, 0), None,
        RunStatus.AUTH_FAILED, AttemptOutcome.AUTH_FAILED, LogLevel.WARNING, None,
        "Paddle said no.", {},
        id="authentication failure: no retry",
    ),
    pytest.param(
        K.IMMUTABLE, (0, 0), None,
        RunStatus.INVOICE_ALREADY_PAID, AttemptOutcome.IMMUTABLE, LogLevel.WARNING, None,
        "Left untouched in Paddle: Paddle said no.", {},
        id="transaction no longer editable",
    ),
    pytest.param(
        K.INVALID_REQUEST, (0, 0), None,
        RunStatus.ERROR, AttemptOutcome.INVALID, LogLevel.ERROR, None, "Paddle said no.", {},
        id="permanent refusal: invalid request",
    ),
    pytest.param(
        K.MISSING_MAPPING, (1, 0), None,
        RunStatus.ERROR, AttemptOutcome.INVALID, LogLevel.ERROR, None, "Paddle said no.", {},
        id="permanent refusal: missing mapping",
    ),
    pytest.param(
        K.NOT_FOUND, (0, 0), None,
        RunStatus.ERROR, AttemptOutcome.NOT_FOUND, LogLevel.ERROR, None, "Paddle said no.", {},
        id="permanent refusal: not found",
    ),
    pytest.param(
        K.UNSUPPORTED_BILL, (0, 0), None,
        RunStatus.ERROR, AttemptOutcome.UNSUPPORTED, LogLevel.ERROR, None, "Paddle said no.", {},
        id="permanent refusal: unsupported bill",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    "kind, counters, retry_after, status, outcome, level, delay, message, new_counters", TABLE
)
def test_a_failure_leads_to_its_verdict(
    kind, counters, retry_after, status, outcome, level, delay, message, new_counters
):
    retries, rate_limit_retries = counters
    lowest, highest = (
        verdict(
            kind,
            retries=retries,
            rate_limit_retries=rate_limit_retries,
            retry_after=retry_after,
            jitter=jitter,
        )
        for jitter in (LOWEST, HIGHEST)
    )

    assert (lowest.status, lowest.outcome, lowest.level) == (status, outcome, level)
    assert message in lowest.message
    assert lowest.counters == new_counters
    if delay is None:
        assert (lowest.delay_seconds, lowest.next_attempt_at) == (None, None)
    else:
        assert (lowest.delay_seconds, highest.delay_seconds) == pytest.approx(delay)
        assert lowest.next_attempt_at == NOW + datetime.timedelta(seconds=lowest.delay_seconds)


def test_the_table_covers_every_kind_of_failure():
    assert {row.values[0] for row in TABLE} == set(PaddleProblemKind)


def test_the_log_line_says_when_the_retry_comes():
    assert verdict(K.TRANSIENT, jitter=HIGHEST).message.endswith("at 12:00:30 UTC.")
    assert verdict(K.RATE_LIMITED, retry_after=10).message.endswith("at 12:00:10 UTC.")


def test_the_backoff_stops_growing_at_its_maximum():
    limits = RetryLimits(
        max_attempts=50, max_rate_limit_retries=20, base_seconds=30, max_seconds=600
    )
    late = verdict(K.TRANSIENT, retries=20, limits=limits, jitter=HIGHEST)
    assert late.delay_seconds == 600


def test_errors_say_what_happened_and_what_to_do():
    gave_up = verdict(K.TRANSIENT, retries=4)
    assert gave_up.error == "Paddle said no. Gave up after 5 attempts."
    # Not the problem's "it is retried automatically": that is over, a person retries now.
    assert gave_up.error_hint.startswith("The hub has stopped retrying this run by itself.")
    assert "Retry the run" in gave_up.error_hint
    rate_limited = verdict(K.RATE_LIMITED, rate_limit_retries=19)
    assert (
        rate_limited.error == "Paddle said no. Paddle kept refusing for its rate limit (20 times)."
    )
    assert "PADDLE_RATE_LIMIT_PER_MINUTE" in rate_limited.error_hint
    assert "this hub's address kept passing the limit" in rate_limited.error_hint
    assert "this Paddle key" not in rate_limited.error_hint
    assert verdict(K.NOT_FOUND).error_hint == "Do this."
