"""Production topology: two `qcluster` hosts sharing PostgreSQL and the Redis broker; one dies
(SIGKILL of its whole process group) in the middle of a batch, and every bill still ends as
exactly one Paddle draft.

Always PostgreSQL, whatever database the suite runs on: the suite's own server when it runs on
PostgreSQL, else the one CI starts on 127.0.0.1:5432. A scratch database of this test's own,
dropped afterwards, and a queue of its own in Redis database 5."""

import pytest

from runs.tests.test_concurrency import run_bench

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/5"


def test_two_qcluster_hosts_on_redis_survive_one_being_killed_mid_batch(tmp_path):
    engine = run_bench(
        tmp_path,
        "--broker-url", REDIS_URL,
        "--bills", "60", "--accounts", "6", "--clusters", "2", "--workers", "2",
        "--latency", "0.05", "--rate-limit", "100000", "--kill-one-after", "15",
        # A killed worker's runs come back once their lease lapses: short, to keep this quick.
        "--env", "Q_TIMEOUT=10", "--env", "RUN_LEASE_SECONDS=15",
        timeout=300, postgres=True,
    )  # fmt: skip

    assert engine["killed_at_posts"] >= 15
    assert engine["statuses"] == {"COMPLETE": 60}
    assert (engine["transactions"], engine["duplicates"]) == (60, 0)
