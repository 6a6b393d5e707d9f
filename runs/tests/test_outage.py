"""A Paddle outage longer than the whole retry schedule, ridden out by a real qcluster: the
host's circuit opens, runs wait without spending attempts, a probe finds Paddle back, and every
bill is delivered soon after, none in ERROR.

Scaled down in time through settings: retries every 0.5–2 s with 3 attempts (about 3 s in all,
as 8 minutes are to the 30-minute outage), a 20 s outage, a probe every second."""

import pytest

from runs.tests.test_concurrency import run_bench

pytestmark = pytest.mark.slow


def test_an_outage_longer_than_the_retry_schedule_ends_with_every_bill_delivered(tmp_path):
    engine = run_bench(
        tmp_path,
        "--bills", "60", "--accounts", "6", "--workers", "2", "--latency", "0.05",
        "--rate-limit", "100000", "--outage", "20", "--outage-after", "10",
        "--env", "RUN_RETRY_BASE_SECONDS=1", "--env", "RUN_MAX_ATTEMPTS=3",
        "--env", "PADDLE_CIRCUIT_FAILURES=5", "--env", "PADDLE_CIRCUIT_PROBE_SECONDS=1",
    )  # fmt: skip

    assert engine["outage_seconds"] >= 20
    assert engine["statuses"] == {"COMPLETE": 60}
    assert engine["errors"] == {}
    assert (engine["transactions"], engine["duplicates"]) == (60, 0)
    # Two minutes after 30 minutes, scaled: every bill out within a few probes of recovery.
    assert engine["drain_seconds_after_recovery"] < 30
