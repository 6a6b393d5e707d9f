"""Production topology: two `qcluster` hosts sharing PostgreSQL and the Redis broker; one dies
(SIGKILL of its whole process group) in the middle of a batch, and every bill still ends as
exactly one Paddle draft.

Always PostgreSQL, whatever database the suite runs on: the suite's own server when it runs on
PostgreSQL, else the one CI starts on 127.0.0.1:5432. A scratch database of this test's own,
dropped afterwards, and Redis database 5 (only that one is emptied)."""

import os
from urllib.parse import urlsplit

import psycopg
import pytest

from runs.tests.test_concurrency import run_bench

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def postgres_url():
    suite = urlsplit(os.environ.get("DATABASE_URL", ""))
    server = (
        suite
        if suite.scheme.startswith("postgres")
        else urlsplit("postgres://postgres@127.0.0.1:5432/")
    )
    name = f"m3terpaddle_test_bench_redis_{os.getpid()}"
    yield server._replace(path=f"/{name}").geturl()
    with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_qcluster_hosts_on_redis_survive_one_being_killed_mid_batch(tmp_path, postgres_url):
    engine = run_bench(
        tmp_path,
        "--database-url", postgres_url, "--broker-url", REDIS_URL,
        "--bills", "60", "--accounts", "6", "--clusters", "2", "--workers", "2",
        "--latency", "0.05", "--rate-limit", "100000", "--kill-one-after", "15",
        # A killed worker's runs come back once their lease lapses: short, to keep this quick.
        "--env", "Q_TIMEOUT=10", "--env", "RUN_LEASE_SECONDS=15",
        timeout=300,
    )  # fmt: skip

    assert engine["killed_at_posts"] >= 15
    assert engine["statuses"] == {"COMPLETE": 60}
    assert (engine["transactions"], engine["duplicates"]) == (60, 0)
