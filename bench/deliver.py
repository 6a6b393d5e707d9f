"""Deliver bills to the Paddle stand-in through the run engine and through a plain SDK loop.

Three phases, one scratch database (SQLite file in a temporary folder unless --database-url
names a PostgreSQL database whose name contains "bench": it is dropped and created again):

1. engine: N bills sent by backfills through the run engine — one per credential (C
   integrations, each with its own Paddle key, all to the one Paddle host, the bills split
   between them), executed by a real `manage.py qcluster` with W workers, all sharing the
   database rate limiter of the host, against a stand-in with the given latency and Paddle's
   per-IP rate limit. Reports bills and requests per minute against the rate-limit bound,
   429s, duplicate transactions in Paddle, the workers' peak RSS.
2. sequential: the same bills through a plain loop over the SDK (build the invoice, POST it;
   on a 429, wait Retry-After and post again), against the same stand-in settings.
3. overhead (in this process, stand-in latency 0, no rate limit): run_execute for M bills
   one after the other against the same loop over the SDK, giving the engine's overhead per
   bill and its queries per bill, and Paddle requests per bill for a new customer (the
   warm-up: one bill per account) and for a known one; then traced memory per delivery and
   across deliveries, and for one bill of --big-lines lines.

Rerun: .venv/bin/python bench/deliver.py [options]   (or: make bench BENCH_ARGS="...")
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from standins.paddle import make_api_key  # noqa: E402

JOB, WARMUP_JOB, OVERHEAD_JOB, BIG_JOB = "bench", "bench-warmup", "bench-overhead", "bench-big"
# The big bill's lines beyond the first 50 are of a type the overhead integration excludes, so
# it stays within Paddle's 100 items and is delivered whole.
FILLER_TYPE = "CREDIT_DEDUCTION"


class Standin:
    """The Paddle stand-in in a process of its own (so that neither its CPU nor its memory counts
    as the engine's), driven through its admin endpoints."""

    def __init__(self, **config):
        code = (
            "import json, sys\n"
            "from standins.paddle import PaddleStandin\n"
            "standin = PaddleStandin(**json.loads(sys.argv[1])).start()\n"
            "print(standin.url, flush=True)\n"
            "standin.wait()\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(config)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.url = self.process.stdout.readline().strip()
        if not self.url:
            raise SystemExit("the Paddle stand-in did not start")
        self.http = requests.Session()

    def _call(self, method, path, body=None):
        response = self.http.request(method, f"{self.url}/__standin/{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def dump(self) -> dict:
        return self._call("GET", "state")

    def stats(self) -> dict:
        return self.dump()["requests"]

    @property
    def requests(self) -> list:
        return self._call("GET", "requests")["requests"]

    def reset(self) -> None:
        self._call("POST", "reset")

    def configure(self, **changes) -> None:
        self._call("POST", "config", changes)

    def push_fault(self, **fault) -> None:
        self._call("POST", "faults", fault)

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bills", type=int, default=1000, help="bills in phases 1 and 2")
    parser.add_argument("--accounts", type=int, default=50, help="accounts the bills belong to")
    parser.add_argument("--lines", type=int, default=3, help="line items per bill")
    parser.add_argument("--workers", type=int, default=8, help="qcluster workers")
    parser.add_argument(
        "--credentials",
        type=int,
        default=2,
        help="integrations in phase 1, each with its own Paddle key, sharing one Paddle host "
        "(Paddle limits per IP address, so they share its limit)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=600,
        help="requests per minute: Paddle's limit in the stand-in and the engine's setting "
        "(PADDLE_RATE_LIMIT_PER_MINUTE); Paddle's real one is 240 (default 600: 1,000 bills "
        "in about two minutes)",
    )
    parser.add_argument(
        "--paddle-limit",
        type=int,
        help="the stand-in's limit per minute when it differs from --rate-limit",
    )
    parser.add_argument(
        "--window",
        type=float,
        default=60.0,
        help="the stand-in counts its limit over windows of this many seconds (scaled from "
        "per-minute); shorter is stricter",
    )
    parser.add_argument("--block-seconds", type=float, default=60.0, help="stand-in 429 block")
    parser.add_argument(
        "--latency", type=float, default=0.2, help="stand-in latency per request, seconds"
    )
    parser.add_argument("--overhead-bills", type=int, default=200, help="bills in phase 3")
    parser.add_argument("--big-lines", type=int, default=1000, help="lines of phase 3's big bill")
    parser.add_argument(
        "--race",
        action="store_true",
        help="phase 1 also sends every bill again with a second run queued right behind the "
        "first, so two workers deliver the same bill at once (timing excludes queueing)",
    )
    parser.add_argument(
        "--broker-url",
        help="REDIS_URL for the workers (e.g. redis://127.0.0.1:6379/5; the run's queue has a name "
        "of its own there); default the database (ORM) broker",
    )
    parser.add_argument("--clusters", type=int, default=1, help="qcluster processes in phase 1")
    parser.add_argument(
        "--kill-one-after",
        type=int,
        default=0,
        help="SIGKILL the first qcluster (its whole process group, like a host dying) once Paddle "
        "has received this many transaction POSTs",
    )
    parser.add_argument(
        "--faults",
        default="",
        help="background faults in phase 1, e.g. http_500=0.1,drop_after_write=0.05 (drops only "
        "hit writes)",
    )
    parser.add_argument(
        "--outage",
        type=float,
        default=0,
        help="Paddle answers every request with 503 for this many seconds, from --outage-after "
        "transaction POSTs on",
    )
    parser.add_argument("--outage-after", type=int, default=1)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for this process and the workers (e.g. RUN_LEASE_SECONDS=15)",
    )
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800, help="give up phase 1 after")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="scratch database (default: a SQLite file in a temporary folder)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


# --- set-up -------------------------------------------------------------------------------------


def configure(args, standin_url: str, tmp: Path) -> str:
    """Environment for this process and the qcluster it starts; returns the database URL."""
    from cryptography.fernet import Fernet

    database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if database_url.startswith("postgres"):
        recreate_postgres_database(database_url)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "m3terpaddle.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": database_url,
            "PADDLE_SANDBOX_API_URL": standin_url,
            "PADDLE_RATE_LIMIT_PER_MINUTE": str(args.rate_limit),
            "Q_WORKERS": str(args.workers),
            "Q_CLUSTER_SYNC": "false",
            "LOG_LEVEL": "WARNING",
            "Q_LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    if args.broker_url:
        # A queue of this run's own: another run's workers on the same Redis cannot take its tasks.
        os.environ["REDIS_URL"] = args.broker_url
        os.environ["Q_CLUSTER_NAME"] = f"m3terpaddle-bench-{os.getpid()}"
    os.environ.update(dict(pair.split("=", 1) for pair in args.env))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database_url


def recreate_postgres_database(url: str) -> None:
    import psycopg

    match = re.fullmatch(r"(postgres(?:ql)?://[^/]*)/([^?]+)(\?.*)?", url)
    name = match and match.group(2)
    if not name or "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: the scratch database's name must say bench.")
    with psycopg.connect(f"{match.group(1)}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def make_integration(*, name: str, api_key: str, excluded=()):
    from credentials.crypto import encrypt_secret, secret_hint
    from credentials.models import Destination, IntegrationCredential
    from integrations.models import IntegrationConfiguration

    credential = IntegrationCredential.objects.create(
        name=name,
        destination=Destination.PADDLE_SANDBOX,
        api_key_encrypted=encrypt_secret(api_key),
        api_key_hint=secret_hint(api_key),
    )
    return IntegrationConfiguration.objects.create(
        name=name,
        destination=Destination.PADDLE_SANDBOX,
        credential=credential,
        excluded_line_item_types=list(excluded),
    )


def make_accounts(count: int):
    from m3terdata.models import Account

    return Account.objects.bulk_create(
        Account(
            m3ter_id=str(uuid.uuid4()),
            code=f"bench-{n:05d}",
            name=f"Bench Customer {n}",
            email=f"billing+{n}@bench.example.com",
            currency="USD",
            address={
                "addressLine1": f"{n} Main Street",
                "locality": "Springfield",
                "region": "IL",
                "postCode": "62701",
                "country": "US",
            },
        )
        for n in range(count)
    )


def make_bills(*, accounts, count: int, lines: int, job: str, filler_lines: int = 0) -> list:
    """`count` bills spread over the accounts, `lines` usage lines each (plus filler lines)."""
    import datetime

    from m3terdata.models import Bill, LineItem

    bills = Bill.objects.bulk_create(
        Bill(
            m3ter_id=str(uuid.uuid4()),
            account=accounts[n % len(accounts)],
            currency="USD",
            bill_date=datetime.date(2026, 11, 1),
            due_date=datetime.date(2026, 12, 1),
            start_date=datetime.date(2026, 10, 1),
            end_date=datetime.date(2026, 11, 1),
            bill_job_id=job,
            content_hash=uuid.uuid4().hex,
            total=Decimal("12.50") * lines,
        )
        for n in range(count)
    )
    items = []
    for bill in bills:
        for sequence in range(1, lines + filler_lines + 1):
            items.append(
                LineItem(
                    bill=bill,
                    sequence=sequence,
                    line_item_type="USAGE" if sequence <= lines else FILLER_TYPE,
                    description=f"API calls, band {sequence}",
                    product_name="Platform",
                    quantity=Decimal("1000"),
                    subtotal=Decimal("12.50"),
                )
            )
            if len(items) >= 5000:
                LineItem.objects.bulk_create(items)
                items = []
    LineItem.objects.bulk_create(items)
    return bills


def duplicates(standin) -> int:
    """Transactions beyond the first for any bill (and integration): must be 0."""
    made = Counter(
        (t["custom_data"] or {}).get("m3ter_bill_id")
        for t in standin.dump()["transactions"]
        if t.get("custom_data")
    )
    return sum(count - 1 for count in made.values() if count > 1)


def request_rate(standin) -> float:
    """Requests per minute between the first and the last request the stand-in saw."""
    times = sorted(entry["at"] for entry in standin.requests)
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0]) * 60


# --- phase 1: the engine with real workers ------------------------------------------------------


def start_cluster(log_path: Path) -> subprocess.Popen:
    # django-q2 logs through "django-q", which follows the root level.
    env = {**os.environ, "LOG_LEVEL": "INFO", "Q_LOG_LEVEL": "INFO"}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while "running" not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_cluster(process)
            raise SystemExit(f"qcluster did not start:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.1)
    return process


def descendants(pid: int) -> list[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def peak_rss_mb(pids) -> float | None:
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peaks.append(int(match.group(1)) / 1024)
    return max(peaks) if peaks else None


def stop_cluster(process: subprocess.Popen) -> None:
    """Stop the cluster and its workers (its own process group, started by start_cluster)."""
    if process.poll() is None:
        # The cluster's own process stops its workers in order (a group-wide SIGTERM hangs it).
        os.kill(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def engine_jobs(args) -> list[str]:
    return [f"{JOB}-{n}" for n in range(1, args.credentials + 1)]


class Trouble:
    """What goes wrong in the middle of phase 1, once Paddle has seen some transaction POSTs:
    a qcluster killed (--kill-one-after), Paddle down for a while (--outage)."""

    def __init__(self, args, standin, clusters):
        self.args, self.standin, self.clusters = args, standin, clusters
        self.killed_at_posts = self.outage_seconds = None
        self.outage_started = self.recovered_at = None

    def tick(self) -> None:
        args, now = self.args, time.monotonic()
        posts = self.standin.stats()["by_route"].get("POST /transactions", 0)
        if args.kill_one_after and self.killed_at_posts is None and posts >= args.kill_one_after:
            os.killpg(self.clusters[0].pid, signal.SIGKILL)
            self.killed_at_posts = posts
        if args.outage and self.outage_started is None and posts >= args.outage_after:
            self.standin.clear_faults()
            self.standin.push_fault(kind="http_500", status=503, times=None)
            self.outage_started = now
        over = self.outage_started and now - self.outage_started >= args.outage
        if over and self.recovered_at is None:
            self.standin.clear_faults()
            push_faults(self.standin, args.faults)
            self.recovered_at = now
            self.outage_seconds = round(now - self.outage_started, 1)


def push_faults(standin, spec: str) -> None:
    """Faults that fire at random for the whole phase: `kind=probability,...`."""
    for item in filter(None, spec.split(",")):
        kind, probability = item.split("=")
        methods = ("POST", "PATCH") if kind == "drop_after_write" else (None,)
        for method in methods:
            standin.push_fault(kind=kind, method=method, times=None, probability=float(probability))


def engine_phase(args, standin, tmp: Path) -> dict:
    from django.db.models import Q
    from django_q.models import OrmQ

    from runs.models import FINAL_STATUSES, IntegrationRun, RunLogEntry
    from runs.services import runs_backfill, runs_enqueue

    jobs = engine_jobs(args)
    integrations = [
        make_integration(name=f"Bench engine {n}", api_key=make_api_key("sandbox"))
        for n in range(1, len(jobs) + 1)
    ]
    accounts = make_accounts(args.accounts)
    for n, job in enumerate(jobs):
        # Each credential its own accounts, as two Paddle accounts behind one hub would have.
        share = args.bills // len(jobs) + (n < args.bills % len(jobs))
        make_bills(accounts=accounts[n :: len(jobs)], count=share, lines=args.lines, job=job)
    racers, parents = [], []
    if args.race:
        # Every bill is also sent again by a second run queued right behind the backfill's:
        # two workers take the two runs of a bill at the same moment.
        pairs = []
        for integration, job in zip(integrations, jobs, strict=True):
            parent = runs_backfill(integration=integration, bill_job_id=job)
            children = list(parent.children.order_by("entity_id").values_list("pk", flat=True))
            own = [r.pk for r in runs_for(integration, bills_of(job).order_by("m3ter_id"))]
            parents.append(parent)
            racers += own
            pairs += [pk for pair in zip(children, own, strict=True) for pk in pair]
        OrmQ.objects.all().delete()
        runs_enqueue(run_ids=pairs)
    clusters = [start_cluster(tmp / f"qcluster-{n}.log") for n in range(args.clusters)]
    push_faults(standin, args.faults)
    trouble = Trouble(args, standin, clusters)
    try:
        started = time.monotonic()
        if not args.race:
            parents = [
                runs_backfill(integration=integration, bill_job_id=job)
                for integration, job in zip(integrations, jobs, strict=True)
            ]
        queued = time.monotonic() - started
        parent_ids = [parent.pk for parent in parents]
        pending = IntegrationRun.objects.filter(Q(pk__in=parent_ids) | Q(pk__in=racers)).exclude(
            status__in=FINAL_STATUSES
        )
        while pending.exists():
            if time.monotonic() - started > args.timeout:
                raise SystemExit(f"phase 1 did not finish in {args.timeout} s")
            trouble.tick()
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        finished_at = time.monotonic()
        worker_rss = peak_rss_mb(pid for c in clusters for pid in descendants(c.pid))
    finally:
        for cluster in clusters:
            stop_cluster(cluster)
        standin.clear_faults()
    stats = standin.stats()
    runs = IntegrationRun.objects.filter(Q(parent__in=parent_ids) | Q(pk__in=racers))
    return {
        "bills": args.bills,
        "workers": args.workers,
        "credentials": len(jobs),
        "seconds": round(elapsed, 2),
        "seconds_to_queue": round(queued, 2),
        "statuses": dict(Counter(runs.values_list("status", flat=True))),
        "requests": stats["total"],
        "posts": stats["by_route"].get("POST /transactions", 0),
        "patches": stats["by_route"].get("PATCH /transactions/{transaction_id}", 0),
        "requests_per_bill": round(stats["total"] / args.bills, 3),
        "requests_per_minute": round(stats["total"] / elapsed * 60, 1),
        "requests_per_minute_active": round(request_rate(standin), 1),
        "bills_per_minute": round(args.bills / elapsed * 60, 1),
        "bound_bills_per_minute": round(args.paddle_limit * args.bills / stats["total"], 1),
        "rate_limited_429": stats["rate_limited"],
        "transactions": len(standin.dump()["transactions"]),
        "duplicates": duplicates(standin),
        "runs_that_waited_for_another": RunLogEntry.objects.filter(
            run__in=runs, message__startswith="Waited"
        ).count(),
        "worker_peak_rss_mb": worker_rss and round(worker_rss, 1),
        "killed_at_posts": trouble.killed_at_posts,
        "outage_seconds": trouble.outage_seconds,
        "drain_seconds_after_recovery": trouble.recovered_at
        and round(finished_at - trouble.recovered_at, 2),
        "errors": dict(
            Counter(runs.filter(status="ERROR").values_list("error", flat=True).order_by())
        ),
    }


# --- phase 2: a plain loop over the SDK ---------------------------------------------------------


def with_429_wait(call, waits: Counter):
    """Call; on Paddle's 429 wait its Retry-After and call again (a careful plain loop)."""
    from paddle_billing.Exceptions.ApiError import ApiError

    while True:
        try:
            return call()
        except ApiError as error:
            if error.response is None or error.response.status_code != 429:
                raise
            waits["429"] += 1
            time.sleep(float(error.response.headers.get("Retry-After") or 60))


def sdk_customer(client, account, waits: Counter) -> tuple[str, str]:
    from paddle_billing.Entities.Shared import CountryCode
    from paddle_billing.Resources.Addresses.Operations import CreateAddress
    from paddle_billing.Resources.Customers.Operations import CreateCustomer

    customer = with_429_wait(
        lambda: client.customers.create(CreateCustomer(email=account.email, name=account.name)),
        waits,
    )
    address = account.address
    created = with_429_wait(
        lambda: client.addresses.create(
            customer.id,
            CreateAddress(
                country_code=CountryCode(address["country"]),
                first_line=address["addressLine1"],
                city=address["locality"],
                postal_code=address["postCode"],
                region=address["region"],
            ),
        ),
        waits,
    )
    return customer.id, created.id


def sdk_loop(client, integration, bills, customers: dict, waits: Counter) -> None:
    """The plain way: for each bill build the invoice and POST it, one after the other."""
    from paddle_destination.invoice import invoice_build

    for bill in bills:
        if bill.account_id not in customers:
            customers[bill.account_id] = sdk_customer(client, bill.account, waits)
        customer_id, address_id = customers[bill.account_id]
        invoice = invoice_build(
            bill=bill, line_items=bill.line_items.all(), integration=integration
        )
        operation = invoice.create_operation(customer_id=customer_id, address_id=address_id)
        with_429_wait(lambda op=operation: client.transactions.create(op), waits)


def bills_of(*jobs: str):
    from m3terdata.models import Bill

    return (
        Bill.objects.filter(bill_job_id__in=jobs)
        .select_related("account")
        .prefetch_related("line_items")
        .order_by("pk")
    )


def sequential_phase(args, standin) -> dict:
    from integrations.models import IntegrationConfiguration
    from standins.paddle.sdk import client_for  # needs Django, set up by configure()

    standin.reset()
    api_key = make_api_key("sandbox")
    client = client_for(standin.url, api_key)
    integration = IntegrationConfiguration.objects.get(name="Bench engine 1")
    waits = Counter()
    started = time.monotonic()
    bills = bills_of(*engine_jobs(args)).iterator(chunk_size=200)
    sdk_loop(client, integration, bills, {}, waits)
    elapsed = time.monotonic() - started
    stats = standin.stats()
    return {
        "bills": args.bills,
        "seconds": round(elapsed, 2),
        "requests": stats["total"],
        "requests_per_minute": round(stats["total"] / elapsed * 60, 1),
        "bills_per_minute": round(args.bills / elapsed * 60, 1),
        "rate_limited_429": stats["rate_limited"],
        "duplicates": duplicates(standin),
    }


# --- phase 3: engine overhead, queries and memory, in this process --------------------------------


def execute_all(runs, *, measure_memory=False):
    """run_execute each run. Per run: seconds and queries, or (measure_memory) seconds and the
    traced memory it needed above what was allocated before it (query capture is off then: it
    keeps state of its own)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from runs.models import IntegrationRun, RunStatus
    from runs.services import run_execute

    samples = []
    for run in runs:
        if measure_memory:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            started = time.perf_counter()
            run_execute(run_id=run.pk)
            seconds = time.perf_counter() - started
            samples.append((seconds, tracemalloc.get_traced_memory()[1] - before))
            continue
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            run_execute(run_id=run.pk)
            seconds = time.perf_counter() - started
        samples.append((seconds, len(queries)))
        reset_queries()  # the captured SQL would otherwise pile up in connection.queries_log
    failed = IntegrationRun.objects.filter(pk__in=[r.pk for r in runs]).exclude(
        status=RunStatus.COMPLETE
    )
    if failed.exists():
        problems = list(failed.values("status", "error"))
        raise SystemExit(f"phase 3: runs did not complete: {problems}")
    return samples


def traced_now() -> int:
    """Traced memory still in use, garbage collected first."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def runs_for(integration, bills) -> list:
    from runs.models import IntegrationRun
    from runs.services import run_new

    return IntegrationRun.objects.bulk_create(
        [run_new(integration=integration, bill=bill, trigger="SEND_AGAIN") for bill in bills]
    )


def overhead_phase(args, standin) -> dict:
    from django.conf import settings

    from m3terdata.models import Account, ExternalMapping
    from standins.paddle.sdk import client_for  # needs Django, set up by configure()

    standin.reset()
    standin.configure(latency=0.0, rate_limit_per_minute=None)
    settings.PADDLE_RATE_LIMIT_PER_MINUTE = 10**9
    integration = make_integration(
        name="Bench overhead", api_key=make_api_key("sandbox"), excluded=[FILLER_TYPE]
    )
    accounts = list(Account.objects.order_by("pk")[: args.accounts])
    # Warm up: every account's customer and address are made and remembered first.
    warmup = make_bills(accounts=accounts, count=len(accounts), lines=args.lines, job=WARMUP_JOB)
    execute_all(runs_for(integration, warmup))
    new_customers = standin.stats()
    make_bills(accounts=accounts, count=args.overhead_bills, lines=args.lines, job=OVERHEAD_JOB)
    engine = execute_all(runs_for(integration, bills_of(OVERHEAD_JOB)))
    known_customers = standin.stats()["total"] - new_customers["total"]

    mapped = {
        (m.m3ter_id, m.external_table): m.external_id
        for m in ExternalMapping.objects.filter(integration=integration)
    }
    customers = {
        a.pk: (mapped[(a.m3ter_id, "Customer")], mapped[(a.m3ter_id, "Address")]) for a in accounts
    }
    client = client_for(standin.url, make_api_key("sandbox"))
    started = time.perf_counter()
    sdk_loop(client, integration, bills_of(OVERHEAD_JOB), customers, Counter())
    sdk_seconds = time.perf_counter() - started

    (big,) = make_bills(
        accounts=accounts[:1],
        count=1,
        lines=50,
        filler_lines=args.big_lines - 50,
        job=BIG_JOB,
    )
    big_seconds, big_queries = execute_all(runs_for(integration, [big]))[0]
    tracemalloc.start()
    memory_runs = runs_for(integration, bills_of(OVERHEAD_JOB))
    quarter = max(1, len(memory_runs) // 4)
    execute_all(memory_runs[:1], measure_memory=True)  # anything created once, created now
    baseline = traced_now()
    peaks = execute_all(memory_runs[1:quarter], measure_memory=True)
    after_quarter = traced_now()
    peaks += execute_all(memory_runs[quarter:], measure_memory=True)
    after_all = traced_now()
    big_sample = execute_all(runs_for(integration, [big]), measure_memory=True)[0]
    tracemalloc.stop()

    engine_seconds = sum(seconds for seconds, _ in engine)
    queries = [count for _, count in engine]
    return {
        "bills": args.overhead_bills,
        "engine_ms_per_bill": round(engine_seconds / len(engine) * 1000, 2),
        "sdk_loop_ms_per_bill": round(sdk_seconds / len(engine) * 1000, 2),
        "engine_overhead_ms_per_bill": round(
            (engine_seconds - sdk_seconds) / len(engine) * 1000, 2
        ),
        "queries_per_bill": {"min": min(queries), "max": max(queries)},
        "paddle_requests_per_bill_new_customer": round(new_customers["total"] / len(accounts), 2),
        "paddle_requests_new_customer": new_customers["by_route"],
        "paddle_requests_per_bill_known_customer": round(known_customers / len(engine), 2),
        "big_bill_lines": args.big_lines,
        "big_bill_queries": big_queries,
        "big_bill_ms": round(big_seconds * 1000, 1),
        "traced_peak_kb_per_bill": round(max(peak for _, peak in peaks) / 1024, 1),
        "traced_peak_kb_big_bill": round(big_sample[1] / 1024, 1),
        "traced_growth_kb_after_quarter": round((after_quarter - baseline) / 1024, 1),
        "traced_growth_kb_after_all": round((after_all - baseline) / 1024, 1),
    }


# --- report -------------------------------------------------------------------------------------


def report(args, results: dict) -> str:
    engine = results["engine"]
    lines = [
        f"Stand-in: latency {args.latency * 1000:g} ms, limit {results['paddle_limit']}/min "
        f"(window {args.window:g} s); engine setting {args.rate_limit}/min; "
        f"database {results['database']}",
        "",
        f"1. Engine, {engine['workers']} qcluster workers, {engine['bills']} bills through "
        f"{engine['credentials']} credentials on one Paddle host:",
        f"   {engine['seconds']} s ({engine['seconds_to_queue']} s of it queueing); "
        f"statuses {engine['statuses']}",
        f"   {engine['bills_per_minute']} bills/min against a bound of "
        f"{engine['bound_bills_per_minute']} ({engine['requests_per_bill']} requests per bill): "
        f"{engine['bills_per_minute'] / engine['bound_bills_per_minute']:.1%}",
        f"   {engine['requests_per_minute']} requests/min overall, "
        f"{engine['requests_per_minute_active']} between first and last request "
        f"({engine['requests_per_minute_active'] / results['paddle_limit']:.1%} of the limit)",
        f"   429s: {engine['rate_limited_429']}; transactions {engine['transactions']} "
        f"({engine['posts']} POST, {engine['patches']} PATCH); duplicates: "
        f"{engine['duplicates']}; runs that waited for another run of their bill: "
        f"{engine['runs_that_waited_for_another']}",
        f"   worker peak RSS {engine['worker_peak_rss_mb']} MB",
    ]
    if engine["killed_at_posts"]:
        lines.append(
            f"   one of {args.clusters} qclusters was killed (SIGKILL) after "
            f"{engine['killed_at_posts']} transaction POSTs"
        )
    if engine["outage_seconds"]:
        lines.append(
            f"   Paddle was down for {engine['outage_seconds']} s mid-batch; drained "
            f"{engine['drain_seconds_after_recovery']} s after it came back"
        )
    if engine["errors"]:
        lines.append(f"   runs in ERROR: {engine['errors']}")
    if "sequential" in results:
        seq = results["sequential"]
        lines += [
            "",
            f"2. Plain sequential loop over the SDK, {seq['bills']} bills:",
            f"   {seq['seconds']} s, {seq['bills_per_minute']} bills/min, "
            f"{seq['requests_per_minute']} requests/min; 429s: {seq['rate_limited_429']}; "
            f"duplicates: {seq['duplicates']}",
        ]
    if "overhead" in results:
        over = results["overhead"]
        routes = ", ".join(f"{n} {r}" for r, n in over["paddle_requests_new_customer"].items())
        lines += [
            "",
            f"3. Overhead (latency 0, no limit), {over['bills']} bills in one process:",
            f"   engine {over['engine_ms_per_bill']} ms/bill, plain SDK loop "
            f"{over['sdk_loop_ms_per_bill']} ms/bill: overhead "
            f"{over['engine_overhead_ms_per_bill']} ms/bill",
            f"   Paddle requests per bill: {over['paddle_requests_per_bill_new_customer']} for a "
            f"new customer ({routes}), "
            f"{over['paddle_requests_per_bill_known_customer']} for a known one",
            f"   queries per bill: {over['queries_per_bill']['min']}–"
            f"{over['queries_per_bill']['max']}; a {over['big_bill_lines']}-line bill: "
            f"{over['big_bill_queries']} queries, {over['big_bill_ms']} ms",
            f"   traced memory: peak {over['traced_peak_kb_per_bill']} KB per delivery, "
            f"{over['traced_peak_kb_big_bill']} KB for the {over['big_bill_lines']}-line bill; "
            f"growth {over['traced_growth_kb_after_quarter']} KB after a quarter of the bills, "
            f"{over['traced_growth_kb_after_all']} KB after all",
        ]
    return "\n".join(lines)


def stop_on_sigterm(signum, frame):
    # SystemExit unwinds the `finally` blocks, which stop the qclusters this run started.
    raise SystemExit(f"stopped by signal {signum}")


def main(argv=None) -> dict:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    args.paddle_limit = paddle_limit = args.paddle_limit or args.rate_limit
    standin = Standin(
        mode="sandbox",
        rate_limit_per_minute=max(1, round(paddle_limit * args.window / 60)),
        rate_window_seconds=args.window,
        block_seconds=args.block_seconds,
        latency=args.latency,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="m3terpaddle-bench-") as folder:
            tmp = Path(folder)
            database = configure(args, standin.url, tmp)
            results = {
                "paddle_limit": paddle_limit,
                "database": database.split("://")[0],
                "engine": engine_phase(args, standin, tmp),
            }
            if not args.skip_sequential:
                results["sequential"] = sequential_phase(args, standin)
            if not args.skip_overhead:
                results["overhead"] = overhead_phase(args, standin)
    finally:
        standin.stop()
    print(report(args, results))
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)},
                                         **results}, indent=2, default=str))  # fmt: skip
    return results


if __name__ == "__main__":
    main()
