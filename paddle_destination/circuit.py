"""A circuit breaker per Paddle host, its state shared by every worker through the database.

A host that keeps failing (PADDLE_CIRCUIT_FAILURES requests in a row end in a 5xx, a timeout or
a connection error, whichever worker sent them) opens its circuit: from then on requests to it
are not sent but raise PaddleProblem(UNAVAILABLE), which the run engine answers by waiting
without spending an attempt. Every PADDLE_CIRCUIT_PROBE_SECONDS one request is let through (a
conditional UPDATE moves the probe time on, so one worker wins it); any answer from Paddle that
is not a 5xx closes the circuit, and waiting runs go out again under the rate limit.

Kept apart from the rate limiter (paddle_destination.ratelimit): that one paces requests per
credential; this one only says whether a host answers.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from credentials.models import Destination
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.hosts import destination_host
from paddle_destination.models import CircuitState, PaddleCircuit

logger = logging.getLogger(__name__)


def _probe_interval() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PADDLE_CIRCUIT_PROBE_SECONDS)


def circuit_problem(circuit: PaddleCircuit) -> PaddleProblem:
    wait = max(0.0, (circuit.next_probe_at - timezone.now()).total_seconds())
    return PaddleProblem(
        PaddleProblemKind.UNAVAILABLE,
        f"Paddle is unavailable since {circuit.opened_at:%H:%M:%S} UTC ({circuit.last_failure}); "
        f"the hub checks every {settings.PADDLE_CIRCUIT_PROBE_SECONDS:g} s and sends this run "
        "as soon as Paddle answers.",
        hint="Nothing to do: the run waits without using up its attempts. Paddle's status page "
        "(status.paddle.com) says when it is back.",
        retry_after=wait,
    )


def circuit_before_request(*, host: str) -> bool:
    """Before a request to `host`: returns whether the circuit had seen failures (so the answer
    must be recorded), or raises PaddleProblem(UNAVAILABLE) while the circuit is open and this
    request is not the probe."""
    circuit = PaddleCircuit.objects.filter(host=host).first()
    if circuit is None:
        return False
    if circuit.state == CircuitState.CLOSED:
        return circuit.consecutive_failures > 0
    now = timezone.now()
    if circuit.next_probe_at <= now:
        won = PaddleCircuit.objects.filter(
            host=host, state=CircuitState.OPEN, next_probe_at=circuit.next_probe_at
        ).update(next_probe_at=now + _probe_interval())
        if won:
            logger.info("Paddle circuit for %s: probing whether Paddle answers again.", host)
            return True
        circuit.refresh_from_db()
        if circuit.state == CircuitState.CLOSED:
            return False
    raise circuit_problem(circuit)


def circuit_record_success(*, host: str) -> None:
    """Paddle answered (anything but a 5xx): the circuit closes."""
    closed = (
        PaddleCircuit.objects.filter(host=host)
        .filter(Q(consecutive_failures__gt=0) | ~Q(state=CircuitState.CLOSED))
        .update(state=CircuitState.CLOSED, consecutive_failures=0, next_probe_at=None)
    )
    if closed:
        logger.info("Paddle circuit for %s: Paddle answers; closed.", host)


def circuit_record_failure(*, host: str, failure: str) -> PaddleCircuit:
    """A 5xx, timeout or connection error from `host`; returns the circuit as it now stands
    (opened when this was the PADDLE_CIRCUIT_FAILURES-th failure in a row)."""
    now = timezone.now()
    with transaction.atomic():
        circuit, _ = PaddleCircuit.objects.select_for_update().get_or_create(host=host)
        circuit.consecutive_failures += 1
        circuit.last_failure = failure[:300]
        if (
            circuit.state == CircuitState.CLOSED
            and circuit.consecutive_failures >= settings.PADDLE_CIRCUIT_FAILURES
        ):
            circuit.state = CircuitState.OPEN
            circuit.opened_at = now
            circuit.next_probe_at = now + _probe_interval()
            logger.warning(
                "Paddle circuit for %s: opened after %s failures in a row (%s).",
                host,
                circuit.consecutive_failures,
                failure,
            )
        circuit.save()
    return circuit


def circuits_open() -> list[PaddleCircuit]:
    return list(PaddleCircuit.objects.filter(state=CircuitState.OPEN))


def destinations_waiting(*, now=None) -> tuple[list[str], list[str]]:
    """(destinations whose host's circuit is open and not due for a probe, destinations whose
    open circuit is due for a probe): the run engine holds runs of the first back and lets one
    run of the second through."""
    now = now or timezone.now()
    held, probe = [], []
    circuits = {circuit.host: circuit for circuit in circuits_open()}
    if not circuits:
        return held, probe
    for destination in Destination.values:
        circuit = circuits.get(destination_host(destination))
        if circuit is not None:
            (probe if circuit.next_probe_at <= now else held).append(destination)
    return held, probe
