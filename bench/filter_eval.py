"""How fast a compiled Account Filter evaluates accounts.

Rerun: .venv/bin/python bench/filter_eval.py
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m3terpaddle.settings")

from integrations.account_filter import compile_filter  # noqa: E402

FILTER = (
    "customFields != null AND customFields.country == UK AND currency IN (USD, EUR, GBP)"
    " AND customFields.n > 5"
)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    args = parser.parse_args()
    accounts = [
        {
            "id": str(i),
            "currency": "GBP",
            "address": {},
            "customFields": {"country": "UK", "n": str(i % 10)},
        }
        for i in range(args.accounts)
    ]
    started = time.perf_counter()
    compiled = compile_filter(FILTER)
    compiled_at = time.perf_counter()
    matched = sum(map(compiled.matches, accounts))
    finished = time.perf_counter()
    print(f"filter: {FILTER}")
    print(f"compile: {(compiled_at - started) * 1e3:.2f} ms")
    print(
        f"evaluate {args.accounts} accounts: {finished - compiled_at:.3f} s "
        f"({(finished - compiled_at) / args.accounts * 1e6:.2f} µs each), {matched} matched"
    )


if __name__ == "__main__":
    main()
