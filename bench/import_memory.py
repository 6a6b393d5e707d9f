"""Memory and time of big bills coming in: `manage.py import_m3ter` on one bill of 100,000 line
items (big) and on 2,000 bills of 25 lines over 200 accounts (many), and the REST API's
PUT /bills/{id} of one bill of 50,000 lines (api; about what REQUEST_MAX_BODY_BYTES lets in).
Each runs in its own process on a fresh scratch SQLite database; its wall time and peak
resident memory (the child's ru_maxrss) are reported, with the peak of a bare
`manage.py check` as the baseline Django itself costs.

Rerun: .venv/bin/python bench/import_memory.py [--lines 100000] [--bills 2000]
[--api-lines 50000] [--only big,many,api] [--json FILE] (`make bench` runs it after the others).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "00000000-0000-4000-8000-{:012d}"
BILL_ID = "10000000-0000-4000-8000-{:012d}"


def account(number: int) -> dict:
    return {
        "id": ACCOUNT_ID.format(number),
        "code": f"customer-{number}",
        "name": f"Customer {number}",
        "emailAddress": f"billing{number}@example.com",
        "currency": "USD",
        "address": {"addressLine1": f"{number} Market Street", "locality": "London"},
    }


def line_item(number: int) -> dict:
    """A usage line about the size of m3ter's (about 600 bytes of JSON)."""
    return {
        "id": f"20000000-0000-4000-8000-{number:012d}",
        "lineItemType": "USAGE",
        "description": f"API calls, meter {number}",
        "quantity": 1000 + number % 97,
        "units": 1000 + number % 97,
        "unit": "calls",
        "subtotal": round(1.25 + number % 13 * 0.5, 2),
        "currency": "USD",
        "conversionRate": 1,
        "productId": "30000000-0000-4000-8000-000000000001",
        "productName": "Platform",
        "productCode": "platform",
        "aggregationId": f"40000000-0000-4000-8000-{number % 50:012d}",
        "meterId": f"50000000-0000-4000-8000-{number % 50:012d}",
        "planId": "60000000-0000-4000-8000-000000000001",
        "pricingId": f"70000000-0000-4000-8000-{number % 50:012d}",
        "servicePeriodStartDate": "2026-10-01T00:00:00Z",
        "servicePeriodEndDate": "2026-11-01T00:00:00Z",
        "sequenceNumber": number,
    }


def bill_head(number: int, account_number: int) -> dict:
    return {
        "id": BILL_ID.format(number),
        "version": 1,
        "accountId": ACCOUNT_ID.format(account_number),
        "status": "APPROVED",
        "billDate": "2026-11-01",
        "dueDate": "2026-12-01",
        "startDate": "2026-10-01",
        "endDate": "2026-11-01",
        "currency": "USD",
        "billingFrequency": "MONTHLY",
    }


def write_bill(out, number: int, account_number: int, lines: range) -> None:
    """One bill in m3ter's shape, written a line at a time (the generator must not be what runs
    out of memory)."""
    head = json.dumps(bill_head(number, account_number))
    out.write(head[:-1] + ', "lineItems": [')
    for position, line in enumerate(lines):
        out.write(("," if position else "") + json.dumps(line_item(line)))
    out.write("]}")


def write_file(path: Path, *, accounts: int, bills: int, lines_per_bill: int) -> int:
    """The import's file; returns its size in bytes."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"accounts": ')
        out.write(json.dumps([account(n) for n in range(accounts)]))
        out.write(', "bills": [')
        for number in range(bills):
            out.write("," if number else "")
            start = number * lines_per_bill
            write_bill(out, number, number % accounts, range(start, start + lines_per_bill))
        out.write("]}")
    return path.stat().st_size


def environment(database: Path) -> dict:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "m3terpaddle.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "WARNING",
    }


def measured(command: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, output) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{output}")
    # ru_maxrss is in kilobytes on Linux.
    return seconds, usage.ru_maxrss / 1024, output


def manage(*arguments: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *arguments]


def api_put(body_path: str) -> None:
    """In the child: PUT the bill in body_path through the whole Django stack (the test client
    stands in for the WSGI server: it too holds the body in memory once)."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from m3terdata.models import Account

    Account.objects.create(**{"m3ter_id": ACCOUNT_ID.format(0), "code": "big", "name": "Big"})
    client = Client()
    client.force_login(User.objects.create_superuser("bench", password="x"))
    body = Path(body_path).read_bytes()
    response = client.put(
        f"/organizations/{settings.M3TER_ORG_ID}/bills/{BILL_ID.format(0)}",
        data=body,
        content_type="application/json",
    )
    answer = b"".join(response) if response.streaming else response.content
    print(f"HTTP {response.status_code}, {len(answer):,} bytes answered")
    if response.status_code != 200:
        raise SystemExit(answer[:2000].decode())


def run_case(folder: Path, name: str, **shape) -> dict:
    source = folder / f"{name}.json"
    database = folder / f"{name}.sqlite3"
    env = environment(database)
    subprocess.run(manage("migrate", "--verbosity", "0"), cwd=ROOT, env=env, check=True)
    _, baseline_mb, _ = measured(manage("check"), env)
    if name == "api":
        with source.open("w", encoding="utf-8") as out:
            write_bill(out, 0, 0, range(shape["lines_per_bill"]))
        size = source.stat().st_size
        command = [sys.executable, __file__, "--child-api", str(source)]
    else:
        size = write_file(source, **shape)
        command = manage("import_m3ter", str(source))
    seconds, peak_mb, output = measured(command, env)
    return {
        "file_mb": round(size / 2**20, 1),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "django_baseline_mb": round(baseline_mb, 1),
        "output": output.strip(),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000, help="Lines of the one big bill.")
    parser.add_argument("--bills", type=int, default=2_000, help="Bills of the many-bills file.")
    parser.add_argument("--lines-per-bill", type=int, default=25)
    parser.add_argument("--api-lines", type=int, default=50_000, help="Lines of the API's bill.")
    parser.add_argument("--only", default="big,many,api", help="Comma-separated cases.")
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--child-api", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_api:
        api_put(args.child_api)
        return {}
    cases = {
        "big": {"accounts": 1, "bills": 1, "lines_per_bill": args.lines},
        "many": {
            "accounts": max(1, args.bills // 10),
            "bills": args.bills,
            "lines_per_bill": args.lines_per_bill,
        },
        "api": {"accounts": 1, "bills": 1, "lines_per_bill": args.api_lines},
    }
    results = {}
    with tempfile.TemporaryDirectory(prefix="m3terpaddle-import-") as folder:
        for name in args.only.split(","):
            shape = cases[name]
            result = run_case(Path(folder), name, **shape)
            results[name] = result
            what = "API PUT /bills/{id}" if name == "api" else "import_m3ter"
            print(
                f"{what}, {shape['bills']:,} bill(s) of {shape['lines_per_bill']:,} lines "
                f"({result['file_mb']} MB): {result['seconds']} s, peak RSS "
                f"{result['peak_rss_mb']} MB (Django alone: {result['django_baseline_mb']} MB)"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
