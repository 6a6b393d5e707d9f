"""Real `manage.py qcluster` workers against the Paddle stand-in, through the benchmark's
harness (bench/deliver.py): its own scratch database, which the workers and this test both see
(SQLite file, or a PostgreSQL database next to the suite's when the suite runs on PostgreSQL)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run_bench(tmp_path, *options, timeout=120) -> dict:
    env = dict(os.environ)
    suite_database = urlsplit(env.get("DATABASE_URL", ""))
    if suite_database.scheme.startswith("postgres"):
        env["BENCH_DATABASE_URL"] = suite_database._replace(path="/m3terpaddle_test_bench").geturl()
    out = tmp_path / "bench.json"
    completed = subprocess.run(
        [sys.executable, "bench/deliver.py", "--skip-sequential", "--skip-overhead",
         "--json", str(out), *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
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
