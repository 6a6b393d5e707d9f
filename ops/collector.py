"""Metrics read from the database when Prometheus scrapes: the same for every host, so any web
process answers for the whole deployment."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from m3tersync.models import InboundEvent, InboundEventsPruned
from paddle_destination.models import CircuitState, PaddleCircuit
from runs.models import FINAL_STATUSES, IntegrationRun, RunStatus

_WAITING = (RunStatus.WAITING, RunStatus.AWAITING_RETRY, RunStatus.RATE_LIMIT_RETRY)


class DatabaseCollector:
    def collect(self):
        runs = GaugeMetricFamily(
            "m3terpaddle_runs",
            "Integration runs by status and integration (backfill parents included).",
            labels=["status", "integration"],
        )
        rows = (
            IntegrationRun.objects.order_by()
            .values_list("status", "integration_name")
            .annotate(n=Count("pk"))
        )
        for status, integration, n in rows:
            runs.add_metric([status, integration], n)
        yield runs

        not_final = IntegrationRun.objects.exclude(status__in=FINAL_STATUSES)
        oldest = not_final.filter(status__in=_WAITING).aggregate(at=Min("queued_at"))["at"]
        yield GaugeMetricFamily(
            "m3terpaddle_oldest_waiting_run_seconds",
            "Age of the oldest run waiting to be delivered (0: none waits).",
            value=(timezone.now() - oldest).total_seconds() if oldest else 0,
        )

        from django_q.brokers import get_broker

        yield GaugeMetricFamily(
            "m3terpaddle_queue_depth",
            "Tasks on the task broker's queue, not yet taken by a worker.",
            value=get_broker().queue_size(),
        )

        circuit_open = GaugeMetricFamily(
            "m3terpaddle_paddle_circuit_open",
            "1 while the circuit breaker of a Paddle host is open (requests wait), else 0.",
            labels=["host"],
        )
        failures = GaugeMetricFamily(
            "m3terpaddle_paddle_circuit_failures",
            "Failed requests in a row to a Paddle host.",
            labels=["host"],
        )
        for host, state, failed in PaddleCircuit.objects.values_list(
            "host", "state", "consecutive_failures"
        ):
            circuit_open.add_metric([host], 1 if state == CircuitState.OPEN else 0)
            failures.add_metric([host], failed)
        yield circuit_open
        yield failures

        events = CounterMetricFamily(
            "m3terpaddle_webhook_events_received",
            "Webhook events received from m3ter, by what became of them.",
            labels=["status"],
        )
        # Those still stored plus those pruned since (WEBHOOK_EVENT_RETENTION_DAYS): a counter
        # never goes down.
        received = Counter(dict(InboundEventsPruned.objects.values_list("status", "count")))
        received.update(
            dict(InboundEvent.objects.order_by().values_list("status").annotate(n=Count("pk")))
        )
        for status, n in received.items():
            events.add_metric([status], n)
        yield events
