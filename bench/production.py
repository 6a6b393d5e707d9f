"""Production scenarios through bench/deliver.py's harness (real qcluster workers, the Paddle
stand-in in its own process, a scratch database), each in a fresh process:

1. faults: the same batch twice in this one run, clean and then with 10% of requests answered
   5xx and 5% of writes dropped after Paddle applied them; reports the time ratio (target
   at most 1.5: retries go out on time, and a dropped write is reconciled, not duplicated).
2. month-end: 10,000 bills over 2,000 accounts with the rate limit scaled up so it runs in
   minutes; total time against the rate-limit bound, requests per bill.
3. outage: Paddle answers 503 to everything for --outage-seconds (180 by default; the issue's
   30 minutes: --outage-seconds 1800) in the middle of a batch, longer than the whole retry
   schedule; time to drain after recovery, runs in ERROR (must be 0).

Rerun: .venv/bin/python bench/production.py [--only faults,month-end,outage] [--scale N]
[--database-url postgres://…/m3terpaddle_bench --broker-url redis://127.0.0.1:6379/6]
[--outage-seconds N] (`make bench` runs it after bench/deliver.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMON = ["--skip-sequential", "--skip-overhead"]


def scenarios(scale: int, *, outage_seconds: int) -> dict[str, list[list[str]]]:
    faults_batch = [
        "--bills", str(200 // scale), "--accounts", str(20 // scale), "--workers", "8",
        "--latency", "0.2", "--rate-limit", "240",
    ]  # fmt: skip
    return {
        "faults": [
            faults_batch,
            [*faults_batch, "--faults", "http_500=0.1,drop_after_write=0.05"],
        ],
        "month-end": [
            [
                "--bills",
                str(10_000 // scale),
                "--accounts",
                str(2_000 // scale),
                "--workers",
                "8",
                "--latency",
                "0.05",
                "--rate-limit",
                "6000",
                "--timeout",
                "3600",
            ],
        ],  # fmt: skip
        "outage": [
            [
                "--bills",
                str(600 // scale),
                "--accounts",
                str(60 // scale),
                "--workers",
                "8",
                "--latency",
                "0.1",
                "--rate-limit",
                "600",
                # Down from the 100th bill on, for longer than the default retry schedule
                # (8 attempts, from 0.5-1 s doubling), which is spent in one to two minutes.
                "--outage",
                str(outage_seconds),
                "--outage-after",
                str(100 // scale),
                # The batch's own half hour on top of the outage.
                "--timeout",
                str(outage_seconds + 1800),
            ],
        ],  # fmt: skip
    }


def deliver(options: list[str], tmp: Path, name: str) -> dict:
    out = tmp / f"{name}.json"
    completed = subprocess.run(
        [sys.executable, "bench/deliver.py", *COMMON, *options, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{name} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return json.loads(out.read_text())["engine"]


def report(name: str, results: list[dict]) -> list[str]:
    first = results[0]
    if name == "faults":
        clean, faulted = results
        return [
            f"faults: {clean['bills']} bills, clean {clean['seconds']} s; with 10% 5xx and 5% "
            f"dropped writes {faulted['seconds']} s: {faulted['seconds'] / clean['seconds']:.2f}x "
            f"(target <= 1.5x)",
            f"   faulted: statuses {faulted['statuses']}, {faulted['requests_per_bill']} requests "
            f"per bill (clean {clean['requests_per_bill']}), duplicates {faulted['duplicates']}",
        ]
    if name == "month-end":
        bound = first["bills"] / first["bound_bills_per_minute"] * 60
        share = first["bills_per_minute"] / first["bound_bills_per_minute"]
        return [
            f"month-end: {first['bills']} bills in {first['seconds']} s against a rate-limit "
            f"bound of {bound:.0f} s ({share:.1%});"
            f" {first['requests_per_bill']} requests per bill; statuses {first['statuses']}; "
            f"429s {first['rate_limited_429']}; duplicates {first['duplicates']}; worker peak RSS "
            f"{first['worker_peak_rss_mb']} MB",
        ]
    errors = sum(first["errors"].values())
    drain = first["drain_seconds_after_recovery"]
    return [
        f"outage: {first['bills']} bills, Paddle answering 503 for {first['outage_seconds']} s "
        "mid-batch",
        "   time to drain after recovery: "
        + (f"{drain} s" if drain is not None else "none: the batch ended while Paddle was down"),
        f"   runs in ERROR: {errors} (must be 0)" + (f": {first['errors']}" if errors else ""),
        f"   total {first['seconds']} s; statuses {first['statuses']}; duplicates "
        f"{first['duplicates']}",
    ]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="faults,month-end,outage")
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="divide every scenario's bills and accounts by this (e.g. 10 for a smoke run, or "
        "a machine busy with other work)",
    )
    parser.add_argument(
        "--outage-seconds",
        type=int,
        default=180,
        help="how long Paddle is down in the outage scenario (the issue's: 1800)",
    )
    parser.add_argument(
        "--database-url",
        help="the production shape: a PostgreSQL URL whose database name says bench (dropped "
        "and made again for each scenario); default a scratch SQLite file",
    )
    parser.add_argument(
        "--broker-url", help="Redis for the workers' queue (e.g. redis://127.0.0.1:6379/6)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    topology = [
        *(["--database-url", args.database_url] if args.database_url else []),
        *(["--broker-url", args.broker_url] if args.broker_url else []),
    ]
    wanted = args.only.split(",")
    results = {}
    with tempfile.TemporaryDirectory(prefix="m3terpaddle-production-") as folder:
        for name, runs in scenarios(args.scale, outage_seconds=args.outage_seconds).items():
            if name not in wanted:
                continue
            results[name] = [
                deliver([*options, *topology], Path(folder), f"{name}-{n}")
                for n, options in enumerate(runs)
            ]
            print("\n".join(report(name, results[name])), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
