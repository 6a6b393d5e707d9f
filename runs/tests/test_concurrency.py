"""Real `manage.py qcluster` workers against the Paddle stand-in, through the benchmark's
harness (bench/deliver.py): its own scratch database, which the workers and this test both see
(SQLite file, or a PostgreSQL database of its own next to the suite's when the suite runs on
PostgreSQL)."""

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def bench_database(*, postgres: bool = False):
    """The scratch database's URL for the harness: None (its own SQLite file), or, when the suite
    runs on PostgreSQL or `postgres` asks for it, a PostgreSQL database of this test process's
    own (tests in parallel must not share one), dropped afterwards."""
    suite = urlsplit(os.environ.get("DATABASE_URL", ""))
    if not suite.scheme.startswith("postgres"):
        if not postgres:
            yield None
            return
        suite = urlsplit("postgres://postgres@127.0.0.1:5432/")
    name = f"m3terpaddle_test_bench_{os.getpid()}"
    try:
        yield suite._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(suite._replace(path="/postgres").geturl(), autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_bench(tmp_path, *options, timeout=120, postgres=False) -> dict:
    out = tmp_path / "bench.json"
    with bench_database(postgres=postgres) as url:
        database = ["--database-url", url] if url else []
        bench = subprocess.Popen(
            [sys.executable, "bench/deliver.py", "--skip-sequential", "--skip-overhead",
             "--json", str(out), *database, *options],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            output, _ = bench.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGTERM lets the harness stop the qclusters it started (their own sessions, which
            # a SIGKILL of the harness would leave running to steal the next run's tasks).
            bench.terminate()
            output, _ = bench.communicate(timeout=60)
            pytest.fail(f"bench/deliver.py took over {timeout} s:\n{output[-4000:]}")
    assert bench.returncode == 0, output
    return json.loads(out.read_text())["engine"]


def test_two_workers_together_stay_under_paddles_limit(tmp_path):
    # Paddle's limit is counted over 5-second windows (12 per window, 144/min), which two
    # workers at full speed would pass within a second; the engine is set to 120/min.
    engine = run_bench(
        tmp_path,
        "--bills", "20", "--accounts", "2", "--workers", "2", "--latency", "0",
        "--rate-limit", "120", "--paddle-limit", "144", "--window", "5", "--block-seconds", "5",
    )  # fmt: skip

    assert engine["statuses"] == {"COMPLETE": 20}
    assert engine["rate_limited_429"] == 0
    assert (engine["transactions"], engine["duplicates"]) == (20, 0)
    # The shared limiter, not the workers, set the pace: close to 120/min and under it.
    assert 100 <= engine["requests_per_minute_active"] <= 120


def test_two_workers_delivering_the_same_bill_make_one_transaction(tmp_path):
    engine = run_bench(
        tmp_path,
        "--bills", "10", "--accounts", "2", "--workers", "2", "--latency", "0.1",
        "--rate-limit", "100000", "--race",
    )  # fmt: skip

    assert engine["statuses"] == {"COMPLETE": 20}
    assert (engine["transactions"], engine["duplicates"]) == (10, 0)
    # One create per bill. The send-again run then updates it, unless it came first: then the
    # backfill run finds the bill unchanged and sends nothing.
    assert engine["posts"] == 10
    assert engine["patches"] <= 10
    assert engine["runs_that_waited_for_another"] >= 1  # the two runs of a bill did meet
