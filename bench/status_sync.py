"""What following invoices in Paddle costs: a webhook's answer time, its processing, and one
reconciliation cycle over many changed transactions.

    python bench/status_sync.py [--transactions 1000] [--webhooks 300] [--database-url postgres://…]

Against the Paddle stand-in (no latency, no rate limit) and a scratch database (SQLite in a
temporary folder by default). Webhooks are POSTed through Django's test client to the real view,
signed as Paddle signs them: "answer" is the endpoint's own work (verify, store, queue), and
"processing" the queued task's (apply to the delivery), timed apart by calling it directly.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.deliver import configure  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1000)
    parser.add_argument("--webhooks", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    args.rate_limit, args.workers = 1_000_000, 1

    from standins.paddle import PaddleStandin, make_api_key
    from standins.paddle.notifications import signature_header

    with tempfile.TemporaryDirectory() as tmp, PaddleStandin(rate_limit_per_minute=None) as paddle:
        import os

        os.environ["HUB_PUBLIC_URL"] = "http://testserver"
        configure(args, paddle.url, Path(tmp))
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, setup_test_environment

        from bench.deliver import make_integration
        from paddle_destination.models import PaddleEvent
        from paddle_destination.notifications import notifications_set_up
        from paddle_destination.reconcile import status_sync_reconcile
        from paddle_destination.webhooks import paddle_event_process
        from runs.models import Delivery
        from standins.paddle.pytest_plugin import draft_transaction

        setup_test_environment()
        integration = make_integration(name="Bench status sync", api_key=make_api_key())
        credential = integration.credential
        sync = notifications_set_up(credential=credential)
        secret = paddle.notifications.get(sync.notification_setting_id)["endpoint_secret_key"]
        ids = [draft_transaction(paddle) for _ in range(args.transactions)]
        Delivery.objects.bulk_create(
            Delivery(integration=integration, bill_m3ter_id=f"bill-{n}", external_id=txn)
            for n, txn in enumerate(ids)
        )

        # Webhooks: one paid event per transaction, POSTed as Paddle would.
        client, url = Client(), f"/paddle/webhooks/{credential.pk}/"
        timings = []
        for n, txn in enumerate(ids[: args.webhooks]):
            body = json.dumps(
                {
                    "event_id": f"evt_bench_{n}",
                    "event_type": "transaction.paid",
                    "occurred_at": "2026-12-03T09:30:00.000000Z",
                    "notification_id": f"ntf_bench_{n}",
                    "data": {"id": txn, "status": "paid", "invoice_number": f"325-{n}"},
                }
            ).encode()
            started = time.perf_counter()
            answer = client.post(
                url,
                body,
                content_type="application/json",
                headers={"Paddle-Signature": signature_header(secret, body)},
            )
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 202, answer.content

        processing = []
        for event_pk in PaddleEvent.objects.values_list("pk", flat=True):
            started = time.perf_counter()
            paddle_event_process(event_pk=event_pk)
            processing.append((time.perf_counter() - started) * 1000)
        assert Delivery.objects.filter(invoice_status="PAID").count() == len(processing)

        # Reconciliation: every transaction issued in Paddle, then one cycle from scratch.
        for txn in ids:
            paddle.mark_transaction(txn, "billed")
        sync.reconcile_cursor = None
        sync.save()
        before = paddle.request_count("GET", "/transactions")
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            changed = status_sync_reconcile(credential=credential)
            seconds = time.perf_counter() - started
        results = {
            "database": connection.vendor,
            "webhooks": len(timings),
            "webhook_answer_ms_median": round(statistics.median(timings), 2),
            "webhook_answer_ms_p95": round(statistics.quantiles(timings, n=20)[18], 2),
            "webhook_processing_ms_median": round(statistics.median(processing), 2),
            "reconcile_transactions": args.transactions,
            "reconcile_changed": changed,
            "reconcile_seconds": round(seconds, 2),
            "reconcile_paddle_requests": paddle.request_count("GET", "/transactions") - before,
            "reconcile_queries_per_changed": round(len(queries) / max(changed, 1), 2),
        }
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
