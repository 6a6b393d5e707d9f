"""A bill of 100,000 line items: its page in the browser (time and size of the HTML) and its
REST API read (time, size and traced peak memory), in a scratch SQLite database.

Rerun: .venv/bin/python bench/bill_page.py [--lines 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(folder: Path) -> None:
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "m3terpaddle.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def big_bill(lines: int):
    from m3terdata.models import Account, Bill, LineItem

    account = Account.objects.create(m3ter_id=str(uuid.uuid4()), code="big", name="Big Customer")
    bill = Bill.objects.create(
        m3ter_id=str(uuid.uuid4()),
        account=account,
        currency="USD",
        bill_date=datetime.date(2026, 11, 1),
        content_hash=uuid.uuid4().hex,
        total=Decimal("1.25") * lines,
    )
    batch = 10_000
    for start in range(0, lines, batch):
        LineItem.objects.bulk_create(
            LineItem(
                bill=bill,
                sequence=n + 1,
                line_item_type="USAGE",
                description=f"API calls, meter {n + 1}",
                product_name="Platform",
                quantity=Decimal("1000"),
                subtotal=Decimal("1.25"),
            )
            for n in range(start, min(start + batch, lines))
        )
    return bill


def timed(get, repeat: int) -> tuple[float, int, int]:
    """(median ms, bytes, status) of `repeat` calls after one warm-up."""

    def whole():
        response = get()
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response, body

    whole()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response, body = whole()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(body), response.status_code


def traced_peak_kb(get) -> float:
    tracemalloc.start()
    response = get()
    if response.streaming:
        b"".join(response.streaming_content)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="m3terpaddle-bill-page-") as folder:
        setup(Path(folder))
        from django.conf import settings
        from django.contrib.auth.models import User
        from django.test import Client

        bill = big_bill(args.lines)
        client = Client()
        client.force_login(User.objects.create_superuser("bench", password="x"))
        page = lambda: client.get(f"/data/bills/{bill.m3ter_id}/")  # noqa: E731
        api = lambda: client.get(  # noqa: E731
            f"/organizations/{settings.M3TER_ORG_ID}/bills/{bill.m3ter_id}"
        )
        results = {"lines": args.lines}
        for name, get in (("page", page), ("api", api)):
            ms, size, status = timed(get, args.repeat)
            results[name] = {
                "status": status,
                "median_ms": round(ms, 1),
                "kb": round(size / 1024, 1),
                "traced_peak_kb": round(traced_peak_kb(get), 1),
            }
    for name, label in (("page", "bill page"), ("api", "API GET bill")):
        r = results[name]
        print(
            f"{label}, {args.lines:,} lines: HTTP {r['status']}, {r['median_ms']} ms (median of "
            f"{args.repeat}), {r['kb']} KB, traced peak {r['traced_peak_kb']} KB"
        )
    return results


if __name__ == "__main__":
    main()
