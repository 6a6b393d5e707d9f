"""Integration runs: created with the bill event that causes them, executed by the worker.

Exactly once. A bill gets at most one Paddle transaction per integration, ever:
- the Delivery row (unique integration + bill) exists, committed, before the first request to
  Paddle; a row without a transaction id therefore means "a create may have happened", and the
  next attempt asks Paddle for it (reconcile) before creating;
- the transaction id is committed the moment Paddle hands it out, and later deliveries update
  that transaction;
- one run at a time delivers a given bill to a given integration: it claims the Delivery row
  (a conditional UPDATE with a lease) and others wait their turn.
A run itself is claimed the same way (WAITING/AWAITING_RETRY/RATE_LIMIT_RETRY → STARTED in one
conditional UPDATE), so a task delivered twice, late, or beside the sweep does nothing harmful.

Retries are the app's own, not django-q2's: a failed attempt sets `next_attempt_at`, and the
periodic sweep (`runs_sweep`, a django-q2 schedule) queues runs that have come due and takes back
runs whose worker died (their lease lapsed), which then reconcile rather than create again.

Refusals of what a person asked (Retry, Replay, Send again, Backfill) raise RunRefused, a
ValidationError whose message says why and what to do instead.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from integrations.models import IntegrationConfiguration
from integrations.selectors import integration_bill_refusal, integration_decisions_for_bill
from integrations.services import integration_disable
from m3terdata.models import Bill
from m3terdata.selectors import bill_list
from paddle_destination.delivery import invoice_deliver, paddle_transaction_url
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from runs.models import (
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    AttemptOutcome,
    Delivery,
    IntegrationRun,
    LogLevel,
    RunAttempt,
    RunLogEntry,
    RunStatus,
    RunTrigger,
)

logger = logging.getLogger(__name__)


class RunRefused(ValidationError):
    """A run action cannot be done; the message says why."""


class InvalidRunTransition(RunRefused):
    pass


class RunChanged(InvalidRunTransition):
    """The run moved on (another worker, the sweep, another click) since it was read."""


# Statuses a worker may take a run from, and those a person may Retry from.
CLAIMABLE_STATUSES = frozenset(
    status for status, moves in ALLOWED_TRANSITIONS.items() if RunStatus.STARTED in moves
)
PERSON_RETRYABLE_STATUSES = frozenset(
    status for status, moves in ALLOWED_TRANSITIONS.items() if RunStatus.WAITING in moves
)
NOT_FINAL_STATUSES = frozenset(RunStatus) - FINAL_STATUSES
# Children in these ended well: the parent is COMPLETE when all of its children did.
OK_STATUSES = frozenset({RunStatus.COMPLETE, RunStatus.INVOICE_ALREADY_PAID})
# Runs that follow the "not changed since its last delivery" rule when they execute; a person's
# Send again and Replay always send.
_SKIP_UNCHANGED_TRIGGERS = frozenset({RunTrigger.BILL_EVENT, RunTrigger.BACKFILL})
_BACKFILL_PARENT = Q(trigger=RunTrigger.BACKFILL, parent__isnull=True)
# Another run holds the bill's Delivery: wait for it up to CLAIM_WAIT_SECONDS (it is usually
# done in well under a second), looking every CLAIM_POLL_SECONDS; past that, retry later.
CLAIM_WAIT_SECONDS = 5.0
CLAIM_POLL_SECONDS = 0.1
_BUSY_RETRY_SECONDS = 10
_BATCH = 500
_SWEEP_MAX_BATCHES = 20

_OUTCOMES = {
    PaddleProblemKind.TRANSIENT: AttemptOutcome.TRANSIENT,
    PaddleProblemKind.RATE_LIMITED: AttemptOutcome.RATE_LIMITED,
    PaddleProblemKind.AUTHENTICATION: AttemptOutcome.AUTH_FAILED,
    PaddleProblemKind.INVALID_REQUEST: AttemptOutcome.INVALID,
    PaddleProblemKind.MISSING_MAPPING: AttemptOutcome.INVALID,
    PaddleProblemKind.UNSUPPORTED_BILL: AttemptOutcome.UNSUPPORTED,
    PaddleProblemKind.NOT_FOUND: AttemptOutcome.NOT_FOUND,
    PaddleProblemKind.IMMUTABLE: AttemptOutcome.IMMUTABLE,
}


# --- state changes and log ----------------------------------------------------------------------


def _label(status) -> str:
    return RunStatus(status).label


def _check_move(frm: str, to: str) -> None:
    if to != frm and to not in ALLOWED_TRANSITIONS[frm]:
        raise InvalidRunTransition(f"A run cannot go from {_label(frm)} to {_label(to)}.")


def run_transition(*, run: IntegrationRun, to: str, **fields) -> IntegrationRun:
    """The one way a run changes status: the move must be allowed from where it stands, and the
    run must still stand where it was read (same status, same attempt) — a conditional UPDATE,
    so a worker whose claim lapsed, or a second click, cannot overwrite what happened meanwhile.
    Raises InvalidRunTransition, or RunChanged when the run has moved on."""
    _check_move(run.status, to)
    now = timezone.now()
    changed = IntegrationRun.objects.filter(
        pk=run.pk, status=run.status, attempt_count=run.attempt_count
    ).update(status=to, updated_at=now, **fields)
    if not changed:
        raise RunChanged("The run changed in the meantime; reload it and try again.")
    run.status, run.updated_at = to, now
    for name, value in fields.items():
        setattr(run, name, value)
    return run


def _runs_transition_bulk(*, run_ids, frm: str, to: str, **fields) -> int:
    """run_transition for many runs standing in the same status, in one UPDATE."""
    _check_move(frm, to)
    return IntegrationRun.objects.filter(pk__in=run_ids, status=frm).update(
        status=to, updated_at=timezone.now(), **fields
    )


def run_log(*, run: IntegrationRun, message: str, level: str = LogLevel.INFO, data=None):
    return RunLogEntry.objects.create(run=run, level=level, message=message, data=data or {})


def _by(user) -> str:
    return f" by {user.get_username()}" if user is not None and user.is_authenticated else ""


# --- creating and queueing ----------------------------------------------------------------------


def _integration_fields(integration) -> dict:
    """What a run keeps of its integration, readable after the integration is gone."""
    return {
        "integration": integration,
        "integration_name": integration.name,
        "entity_type": integration.entity_type,
        "destination": integration.destination,
        "destination_id": str(integration.credential_id or ""),
    }


def _run_new(*, integration, bill, trigger, parent=None, replayed_from=None) -> IntegrationRun:
    """An unsaved WAITING run of `bill` to `integration`."""
    return IntegrationRun(
        **_integration_fields(integration),
        entity_id=bill.m3ter_id,
        bill=bill,
        bill_version=bill.version,
        account_id=bill.account_id,
        trigger=trigger,
        parent=parent,
        replayed_from=replayed_from,
        queued_at=timezone.now(),
    )


def _created_entry(run: IntegrationRun, bill) -> RunLogEntry:
    return RunLogEntry(
        run=run,
        message=f"Run created ({run.get_trigger_display()}) for bill {bill.m3ter_id} "
        f"version {bill.version}.",
    )


def run_create(
    *, integration, bill, trigger: str = RunTrigger.BILL_EVENT, parent=None, replayed_from=None
) -> IntegrationRun:
    """A WAITING run, enqueued when the surrounding transaction commits."""
    run = _run_new(
        integration=integration,
        bill=bill,
        trigger=trigger,
        parent=parent,
        replayed_from=replayed_from,
    )
    run.save(force_insert=True)
    _created_entry(run, bill).save(force_insert=True)
    run_enqueue(run=run)
    return run


def run_enqueue(*, run: IntegrationRun) -> None:
    """Queue the run for a worker once the data it needs is committed."""
    _runs_enqueue_on_commit(run_ids=[run.pk])


def _runs_enqueue_on_commit(*, run_ids: list) -> None:
    transaction.on_commit(lambda: _runs_enqueue(run_ids=run_ids))


def _runs_enqueue(*, run_ids: list) -> None:
    """Put runs on the task queue. With the ORM broker each task is a row: a batch goes in one
    transaction (one commit, not one per run); inline (sync) tasks must not run inside one."""
    from runs.tasks import enqueue_run_execution

    batch = contextlib.nullcontext if settings.Q_CLUSTER.get("sync") else transaction.atomic
    for chunk in _chunks(run_ids, _BATCH):
        with batch():
            for run_id in chunk:
                enqueue_run_execution(run_id=run_id)


def runs_create_for_bill_event(*, bill) -> list[IntegrationRun]:
    """A run for each integration that selects this version of the bill."""
    return [
        run_create(integration=decision.integration, bill=bill)
        for decision in integration_decisions_for_bill(bill=bill)
        if decision.send
    ]


# --- executing ----------------------------------------------------------------------------------


@dataclass
class _Attempt:
    """What one execution of a run gathers before it is written in one go."""

    run: IntegrationRun
    started_at: datetime.datetime = field(default_factory=timezone.now)
    clock: float = field(default_factory=time.monotonic)
    entries: list = field(default_factory=list)
    request: dict = field(default_factory=dict)
    response: dict = field(default_factory=dict)
    delivery: Delivery | None = None

    def log(self, level, message: str, data=None) -> None:
        data = dict(data or {})
        for exchange in data.get("requests") or ():
            self.request.setdefault("requests", []).append(
                f"{exchange.get('method')} {exchange.get('path')}"
            )
            self.response.setdefault("responses", []).append(exchange)
        level = level if level in LogLevel.values else LogLevel.INFO
        self.entries.append(RunLogEntry(run=self.run, level=level, message=message, data=data))

    @property
    def duration_ms(self) -> int:
        return round((time.monotonic() - self.clock) * 1000)


def run_execute(*, run_id) -> IntegrationRun | None:
    """Deliver a run's bill to its integration (the worker's entry point).

    Does nothing (returns None) unless the run is waiting and due, so a task delivered twice or
    late is harmless. Never leaves the run STARTED, short of the worker dying."""
    run = _run_claim(run_id=run_id)
    if run is None:
        return None
    attempt = _Attempt(run=run)
    try:
        _run_deliver(run, attempt)
    except RunChanged:
        logger.warning("Run %s was taken back while it was being delivered.", run.pk)
    except Exception as exc:
        logger.exception("Run %s failed unexpectedly.", run.pk)
        with contextlib.suppress(RunChanged):
            _run_finish(
                run,
                attempt,
                to=RunStatus.ERROR,
                outcome=AttemptOutcome.ERROR,
                message=f"Unexpected error: {type(exc).__name__}: {exc}",
                level=LogLevel.ERROR,
                error=f"The delivery failed unexpectedly ({type(exc).__name__}: {exc}).",
                error_hint="This is not one of Paddle's known answers; the server's log has the "
                "details. Retry the run; if it fails the same way, report it. Nothing is sent "
                "twice: a retry first looks for a transaction this attempt may have made.",
            )
    return run


def _run_claim(*, run_id) -> IntegrationRun | None:
    """Take the run for this worker, if it is waiting and due: one conditional UPDATE, so two
    workers never both take it."""
    now = timezone.now()
    claimed = (
        IntegrationRun.objects.filter(pk=run_id, status__in=CLAIMABLE_STATUSES)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(_BACKFILL_PARENT)
        .update(
            status=RunStatus.STARTED,
            attempt_count=F("attempt_count") + 1,
            lease_expires_at=now + datetime.timedelta(seconds=settings.RUN_LEASE_SECONDS),
            dt_started=now,
            dt_completed=None,
            updated_at=now,
        )
    )
    if not claimed:
        return None
    return IntegrationRun.objects.select_related("integration__credential", "bill__account").get(
        pk=run_id
    )


def _preflight(run: IntegrationRun) -> tuple[str, str, str] | None:
    """(status, error, what to do) when the run cannot be delivered at all, else None."""
    integration = run.integration
    if integration is None:
        return (
            RunStatus.ERROR,
            f"The integration {run.integration_name!r} was deleted.",
            "Nothing to do: runs of a deleted integration are kept for review only.",
        )
    if not integration.enabled:
        reason = f": {integration.disabled_reason}" if integration.disabled_reason else "."
        return (
            RunStatus.DISABLED,
            f"The integration {integration.name!r} is disabled{reason}",
            "Fix the cause, enable the integration on its page, then Retry this run.",
        )
    if not integration.connected:
        return (
            RunStatus.ERROR,
            f"The integration {integration.name!r} has no credential attached (not connected "
            "to Paddle).",
            "Attach a credential on the integration's page (Add Credential), then Retry this run.",
        )
    if run.bill is None:
        return (
            RunStatus.ERROR,
            f"Bill {run.entity_id} is no longer in the hub.",
            "Import the bill again from m3ter; its bill event sends it.",
        )
    return None


def _run_deliver(run: IntegrationRun, attempt: _Attempt) -> None:
    refusal = _preflight(run)
    if refusal is not None:
        status, error, hint = refusal
        _run_finish(
            run,
            attempt,
            to=status,
            outcome=AttemptOutcome.SKIPPED,
            message=error,
            level=LogLevel.WARNING,
            error=error,
            error_hint=hint,
        )
        return
    integration, bill = run.integration, run.bill
    delivery, created, waited = _delivery_claim(run)
    if waited:
        attempt.log(
            LogLevel.INFO,
            f"Waited {waited:.1f} s for another run delivering this bill to this integration.",
            {"claim_wait_seconds": round(waited, 3)},
        )
    if delivery is None:
        _run_finish(
            run,
            attempt,
            to=RunStatus.AWAITING_RETRY,
            outcome=AttemptOutcome.SKIPPED,
            message="Another run is delivering this bill to this integration right now; this "
            "one follows when it has finished.",
            next_attempt_at=timezone.now() + datetime.timedelta(seconds=_BUSY_RETRY_SECONDS),
        )
        return
    attempt.delivery = delivery
    if (
        run.trigger in _SKIP_UNCHANGED_TRIGGERS
        and delivery.external_id
        and delivery.delivered_hash
        and delivery.delivered_hash == bill.content_hash
    ):
        _run_finish(
            run,
            attempt,
            to=RunStatus.COMPLETE,
            outcome=AttemptOutcome.SKIPPED,
            message=f"The bill has not changed since it was delivered to transaction "
            f"{delivery.external_id}; nothing was sent.",
            external_id=delivery.external_id,
            url=paddle_transaction_url(
                destination=integration.destination, transaction_id=delivery.external_id
            ),
            error="",
            error_hint="",
            next_attempt_at=None,
        )
        return

    known = delivery.external_id or None
    reconcile = not created and known is None
    attempt.request.update(
        {"bill_version": bill.version, "known_transaction_id": known, "reconcile": reconcile}
    )
    if reconcile:
        attempt.log(
            LogLevel.INFO,
            "An earlier attempt may have created the transaction without storing its id: "
            "Paddle is asked first.",
        )

    def on_transaction_created(transaction_id: str, customer_id: str | None = None) -> None:
        _delivery_store_transaction(
            run=run, delivery=delivery, transaction_id=transaction_id, customer_id=customer_id
        )

    try:
        result = invoice_deliver(
            integration=integration,
            bill=bill,
            known_transaction_id=known,
            reconcile=reconcile,
            on_transaction_created=on_transaction_created,
            log=attempt.log,
        )
    except PaddleProblem as problem:
        _run_failed(run, attempt, problem)
        return
    _run_delivered(run, attempt, result)


def _delivery_claim(run: IntegrationRun) -> tuple[Delivery | None, bool, float]:
    """The bill's Delivery row for the integration, claimed for this run until its lease ends:
    (delivery, created now, seconds waited for another run to let go), or (None, False,
    seconds) when another run still holds it. The row is committed before anything is sent to
    Paddle."""
    claim = {"claimed_by": run.pk, "claimed_until": run.lease_expires_at}
    delivery, created = Delivery.objects.get_or_create(
        integration_id=run.integration_id, bill_m3ter_id=run.bill.m3ter_id, defaults=claim
    )
    if created:
        return delivery, True, 0.0
    started, waited = time.monotonic(), 0.0
    while True:
        now = timezone.now()
        taken = (
            Delivery.objects.filter(pk=delivery.pk)
            .filter(Q(claimed_by__isnull=True) | Q(claimed_by=run.pk) | Q(claimed_until__lt=now))
            .update(updated_at=now, **claim)
        )
        if taken:
            delivery.refresh_from_db()
            return delivery, False, waited
        if waited >= CLAIM_WAIT_SECONDS:
            return None, False, waited
        time.sleep(CLAIM_POLL_SECONDS)
        waited = time.monotonic() - started


def _delivery_store_transaction(*, run, delivery, transaction_id: str, customer_id=None) -> None:
    """Paddle has just handed out the transaction id: commit it before anything else can fail,
    so no later attempt creates a second one."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        external_id=transaction_id, customer_id=customer_id or "", updated_at=now
    )
    IntegrationRun.objects.filter(pk=run.pk).update(external_id=transaction_id, updated_at=now)
    delivery.external_id = run.external_id = transaction_id


def _run_delivered(run: IntegrationRun, attempt: _Attempt, result) -> None:
    bill, integration = run.bill, run.integration
    now = timezone.now()
    attempt.response.update({"transaction_id": result.transaction_id, "status": result.status})
    _run_finish(
        run,
        attempt,
        to=RunStatus.COMPLETE,
        outcome=AttemptOutcome.SUCCESS,
        message=f"Delivered: {'created' if result.created else 'updated'} Paddle transaction "
        f"{result.transaction_id} ({result.status}).",
        delivery_fields={
            "external_id": result.transaction_id,
            "customer_id": result.customer_id or "",
            "delivered_hash": bill.content_hash,
            "delivered_version": bill.version,
            "delivered_at": now,
        },
        external_id=result.transaction_id,
        url=result.url,
        bill_version=bill.version,
        error="",
        error_hint="",
        next_attempt_at=None,
    )
    if integration.consecutive_auth_failures:
        IntegrationConfiguration.objects.filter(pk=integration.pk).update(
            consecutive_auth_failures=0
        )


def _retry_delay(retries_so_far: int) -> float:
    """Exponential backoff with jitter: half the step is fixed, half random, so runs that failed
    together do not all come back together."""
    step = min(settings.RUN_RETRY_MAX_SECONDS, settings.RUN_RETRY_BASE_SECONDS * 2**retries_so_far)
    return step / 2 + random.uniform(0, step / 2)


def _run_failed(run: IntegrationRun, attempt: _Attempt, problem: PaddleProblem) -> None:
    kind = problem.kind
    now = timezone.now()
    attempt.response["problem"] = problem.as_dict()
    finish = {
        "outcome": _OUTCOMES.get(kind, AttemptOutcome.ERROR),
        "level": LogLevel.WARNING,
        "error": problem.message,
        "error_hint": problem.hint,
    }
    attempts = run.retry_count + 1
    if kind == PaddleProblemKind.TRANSIENT and attempts < settings.RUN_MAX_ATTEMPTS:
        at = now + datetime.timedelta(seconds=_retry_delay(run.retry_count))
        _run_finish(
            run,
            attempt,
            to=RunStatus.AWAITING_RETRY,
            message=f"Attempt failed ({problem.message}); retry {attempts} of "
            f"{settings.RUN_MAX_ATTEMPTS - 1} at {at:%H:%M:%S} UTC.",
            retry_count=attempts,
            next_attempt_at=at,
            **finish,
        )
    elif kind == PaddleProblemKind.TRANSIENT:
        _run_finish(
            run,
            attempt,
            to=RunStatus.ERROR,
            message=f"Gave up after {attempts} attempts: {problem.message}",
            **{
                **finish,
                "level": LogLevel.ERROR,
                "error": f"{problem.message} Gave up after {attempts} attempts.",
            },
        )
    elif kind == PaddleProblemKind.RATE_LIMITED:
        _run_rate_limited(run, attempt, problem, finish)
    elif kind == PaddleProblemKind.AUTHENTICATION:
        if _integration_auth_failed(integration_id=run.integration_id, problem=problem):
            attempt.log(
                LogLevel.ERROR,
                f"The integration was disabled after {settings.RUN_AUTH_FAILURES_BEFORE_DISABLE} "
                "authentication failures in a row; its notification users were e-mailed.",
            )
        _run_finish(run, attempt, to=RunStatus.AUTH_FAILED, message=problem.message, **finish)
    elif kind == PaddleProblemKind.IMMUTABLE:
        _run_finish(
            run,
            attempt,
            to=RunStatus.INVOICE_ALREADY_PAID,
            message=f"Left untouched in Paddle: {problem.message}",
            **finish,
        )
    else:
        _run_finish(
            run,
            attempt,
            to=RunStatus.ERROR,
            message=problem.message,
            **{**finish, "level": LogLevel.ERROR},
        )


def _run_rate_limited(run, attempt, problem, finish) -> None:
    retries = run.rate_limit_retry_count + 1
    if retries >= settings.RUN_MAX_RATE_LIMIT_RETRIES:
        _run_finish(
            run,
            attempt,
            to=RunStatus.TIMEOUT_LIMIT_EXCEEDED,
            message=f"Paddle refused {retries} times for its rate limit; given up.",
            **{
                **finish,
                "error": f"{problem.message} Paddle kept refusing for its rate limit "
                f"({retries} times).",
                "error_hint": "Something else is using this Paddle key heavily, or "
                "PADDLE_RATE_LIMIT_PER_MINUTE is set above Paddle's limit. Retry the run later.",
            },
        )
        return
    wait = problem.retry_after or 60
    at = timezone.now() + datetime.timedelta(seconds=wait * random.uniform(1.0, 1.1))
    _run_finish(
        run,
        attempt,
        to=RunStatus.RATE_LIMIT_RETRY,
        message=f"Paddle's rate limit was reached; trying again after its Retry-After "
        f"({wait:g} s), at {at:%H:%M:%S} UTC.",
        rate_limit_retry_count=retries,
        next_attempt_at=at,
        **finish,
    )


def _run_finish(
    run: IntegrationRun,
    attempt: _Attempt,
    *,
    to: str,
    outcome: str,
    message: str,
    level: str = LogLevel.INFO,
    delivery_fields: dict | None = None,
    **run_fields,
) -> None:
    """Write what the attempt did: the Delivery (released, plus what was delivered), then the
    run's new status, its attempt and log, together."""
    now = timezone.now()
    if attempt.delivery is not None:
        # Committed on its own: what Paddle now holds stays recorded even if the run changed.
        Delivery.objects.filter(pk=attempt.delivery.pk, claimed_by=run.pk).update(
            claimed_by=None, claimed_until=None, updated_at=now, **(delivery_fields or {})
        )
    attempt.log(level, message)
    if to in FINAL_STATUSES:
        run_fields["dt_completed"] = now
    with transaction.atomic():
        run_transition(run=run, to=to, lease_expires_at=None, **run_fields)
        RunAttempt.objects.create(
            run=run,
            number=run.attempt_count,
            started_at=attempt.started_at,
            duration_ms=attempt.duration_ms,
            outcome=outcome,
            request_summary=attempt.request,
            response_summary=attempt.response,
        )
        RunLogEntry.objects.bulk_create(attempt.entries)
    if to in FINAL_STATUSES and run.parent_id:
        _parent_settle(parent_id=run.parent_id)


def _integration_auth_failed(*, integration_id, problem: PaddleProblem) -> bool:
    """Count an authentication failure; after several in a row the integration disables itself
    and e-mails its notification users. True when it was disabled now."""
    limit = settings.RUN_AUTH_FAILURES_BEFORE_DISABLE
    with transaction.atomic():
        integration = IntegrationConfiguration.objects.select_for_update().get(pk=integration_id)
        integration.consecutive_auth_failures += 1
        integration.save(update_fields=["consecutive_auth_failures", "updated_at"])
        if not integration.enabled or integration.consecutive_auth_failures < limit:
            return False
        integration_disable(
            integration=integration,
            reason=f"Paddle refused its credential {integration.consecutive_auth_failures} times "
            f"in a row: {problem.message}",
        )
        transaction.on_commit(
            lambda: _integration_disabled_notify(integration_id=integration_id, problem=problem)
        )
    return True


def _integration_disabled_notify(*, integration_id, problem: PaddleProblem) -> None:
    integration = IntegrationConfiguration.objects.get(pk=integration_id)
    recipients = list(integration.users_to_notify.exclude(email="").values_list("email", flat=True))
    if not recipients:
        logger.warning("Integration %s was disabled; it has nobody to notify.", integration_id)
        return
    body = (
        f"The Paddle integration {integration.name!r} (id {integration.pk}) has disabled itself: "
        f"{integration.disabled_reason}\n\n"
        f"What to do: {problem.hint or 'check the credential attached to the integration.'}\n"
        "Then attach the corrected credential (Update Credential), enable the integration, and "
        "Retry its runs that ended Authentication failed or Integration disabled.\n"
    )
    try:
        send_mail(
            subject=f"m3terpaddle: integration {integration.name} was disabled",
            message=body,
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # the run's outcome must not depend on the mail server
        logger.exception("Could not e-mail that integration %s was disabled.", integration_id)


# --- backfill parents ---------------------------------------------------------------------------


def _parent_settle(*, parent_id) -> bool:
    """Finish a backfill parent once all its children are final: COMPLETE when every one ended
    well, else ERROR with the count. True when it was finished now."""
    children = IntegrationRun.objects.filter(parent_id=parent_id)
    if children.filter(status__in=NOT_FINAL_STATUSES).exists():
        return False
    parent = IntegrationRun.objects.get(pk=parent_id)
    if parent.status not in (RunStatus.WAITING, RunStatus.STARTED):
        return False
    counts = Counter(
        dict(
            children.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
        )
    )
    total = counts.total()
    failed = total - sum(counts[status] for status in OK_STATUSES)
    breakdown = ", ".join(
        f"{counts[status]} {status.label}"
        for status in RunStatus
        if counts[status] and status not in OK_STATUSES
    )
    try:
        run_transition(
            run=parent,
            to=RunStatus.ERROR if failed else RunStatus.COMPLETE,
            dt_completed=timezone.now(),
            error=f"{failed} of {total} bills failed ({breakdown})." if failed else "",
            error_hint="Open the failed runs below and do what each one says, then Retry them "
            "(Retry on this run retries them all)."
            if failed
            else "",
        )
    except RunChanged:
        return False
    run_log(
        run=parent,
        level=LogLevel.WARNING if failed else LogLevel.INFO,
        message=f"All {total} bills finished: {total - failed} delivered, {failed} failed.",
    )
    return True


def _parent_reopen(*, parent_id) -> None:
    """A failed child is retried: its finished parent is in progress again."""
    parent = IntegrationRun.objects.get(pk=parent_id)
    if parent.status in PERSON_RETRYABLE_STATUSES:
        run_transition(run=parent, to=RunStatus.WAITING, dt_completed=None)
        run_transition(run=parent, to=RunStatus.STARTED, error="", error_hint="")


def _chunks(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def runs_backfill(
    *,
    integration,
    bill_job_id=None,
    date_from=None,
    date_to=None,
    bill_ids=None,
    user=None,
) -> IntegrationRun:
    """Send every bill of a bill job, of a bill-date range, or of a list of ids that the
    integration selects: a parent run with one child run per bill, whose progress it shows.
    Bills the integration does not select, or that have not changed since their last delivery
    to it, get no child (the parent's log counts them)."""
    selection = {
        "bill_job_id": bill_job_id or None,
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
        "bill_ids": list(dict.fromkeys(bill_ids)) if bill_ids else None,
    }
    return _backfill(integration=integration, selection=selection, user=user)


def _backfill(*, integration, selection: dict, user=None, replayed_from=None) -> IntegrationRun:
    bills = _backfill_bills(integration=integration, selection=selection)
    with transaction.atomic():
        parent = IntegrationRun.objects.create(
            **_integration_fields(integration),
            trigger=RunTrigger.BACKFILL,
            replayed_from=replayed_from,
            status=RunStatus.STARTED,
            dt_started=timezone.now(),
            selection=selection,
        )
        skipped, child_ids = Counter(), []
        for chunk in _chunks(bills.iterator(chunk_size=_BATCH), _BATCH):
            delivered = dict(
                Delivery.objects.filter(
                    integration=integration, bill_m3ter_id__in=[b.m3ter_id for b in chunk]
                ).values_list("bill_m3ter_id", "delivered_hash")
            )
            children = []
            for bill in chunk:
                why_not = integration_bill_refusal(
                    integration=integration, bill=bill, delivered_hash=delivered.get(bill.m3ter_id)
                )
                if why_not:
                    skipped[why_not] += 1
                else:
                    children.append(
                        _run_new(
                            integration=integration,
                            bill=bill,
                            trigger=RunTrigger.BACKFILL,
                            parent=parent,
                        )
                    )
            IntegrationRun.objects.bulk_create(children)
            RunLogEntry.objects.bulk_create(_created_entry(child, child.bill) for child in children)
            child_ids.extend(child.pk for child in children)
        described = "; ".join(f"{n} skipped: {reason}" for reason, n in skipped.items())
        run_log(
            run=parent,
            message=f"Backfill{_by(user)} of {_describe(selection)}: {len(child_ids)} bills to "
            f"send" + (f"; {described}" if described else "") + ".",
            data={"selection": selection, "runs": len(child_ids), "skipped": dict(skipped)},
        )
        if child_ids:
            _runs_enqueue_on_commit(run_ids=child_ids)
        else:
            run_transition(run=parent, to=RunStatus.COMPLETE, dt_completed=timezone.now())
    return parent


def _describe(selection: dict) -> str:
    parts = []
    if selection.get("bill_job_id"):
        parts.append(f"bill job {selection['bill_job_id']}")
    if selection.get("date_from") or selection.get("date_to"):
        parts.append(
            f"bill dates {selection.get('date_from') or '…'} to {selection.get('date_to') or '…'}"
        )
    if selection.get("bill_ids"):
        parts.append(f"{len(selection['bill_ids'])} chosen bills")
    return ", ".join(parts)


def _backfill_bills(*, integration, selection: dict):
    """The bills a backfill covers, checked: raises RunRefused with what to correct."""
    if not integration.enabled:
        raise RunRefused(
            f"The integration {integration.name!r} is disabled; enable it before sending bills."
        )
    if not integration.connected:
        raise RunRefused(
            f"The integration {integration.name!r} has no credential attached; attach one "
            "(Add Credential) before sending bills."
        )
    if not any(selection.values()):
        raise RunRefused("Choose the bills to send: a bill job, a range of bill dates, or bills.")
    date_from, date_to = (
        datetime.date.fromisoformat(selection[key]) if selection.get(key) else None
        for key in ("date_from", "date_to")
    )
    if date_from and date_to and date_from > date_to:
        raise RunRefused(f"The start date {date_from} is after the end date {date_to}.")
    wanted = selection.get("bill_ids") or None
    if wanted:
        known = set(Bill.objects.filter(m3ter_id__in=wanted).values_list("m3ter_id", flat=True))
        unknown = [bill_id for bill_id in wanted if bill_id not in known]
        if unknown:
            raise RunRefused(f"No bill with id: {', '.join(unknown)}.")
    # The bill list's own filters; whole rows (defer(None)), since deciding and sending need the
    # content hash and the account's filter fields, and oldest first, the order bills happened.
    return (
        bill_list(
            bill_job_id=selection.get("bill_job_id") or "",
            date_from=date_from,
            date_to=date_to,
            bill_ids=wanted,
        )
        .defer(None)
        .order_by("bill_date", "m3ter_id")
    )


# --- what a person asks for ---------------------------------------------------------------------


def _series_reset() -> dict:
    """A person's Retry starts a fresh series of attempts."""
    return {
        "error": "",
        "error_hint": "",
        "next_attempt_at": None,
        "retry_count": 0,
        "rate_limit_retry_count": 0,
        "dt_started": None,
        "dt_completed": None,
        "lease_expires_at": None,
        "queued_at": timezone.now(),
    }


def run_retry(*, run: IntegrationRun, user=None) -> IntegrationRun:
    """Send a failed run through again (a backfill parent: all its failed children)."""
    if run.status not in PERSON_RETRYABLE_STATUSES:
        raise InvalidRunTransition(
            f"Only a run that failed can be retried; this one is {_label(run.status)}. "
            "Replay it to send the bill again."
        )
    if run.is_backfill_parent:
        return _backfill_retry(parent=run, user=user)
    with transaction.atomic():
        run_transition(run=run, to=RunStatus.WAITING, **_series_reset())
        run_log(run=run, message=f"Retried{_by(user)}.")
        run_enqueue(run=run)
        if run.parent_id:
            _parent_reopen(parent_id=run.parent_id)
    return run


def _backfill_retry(*, parent: IntegrationRun, user=None) -> IntegrationRun:
    with transaction.atomic():
        failed = list(
            IntegrationRun.objects.select_for_update()
            .filter(parent=parent, status__in=PERSON_RETRYABLE_STATUSES)
            .values_list("pk", "status")
        )
        by_status = {}
        for pk, status in failed:
            by_status.setdefault(status, []).append(pk)
        for status, ids in by_status.items():
            _runs_transition_bulk(run_ids=ids, frm=status, to=RunStatus.WAITING, **_series_reset())
        ids = [pk for pk, _ in failed]
        RunLogEntry.objects.bulk_create(
            RunLogEntry(run_id=pk, message=f"Retried with its backfill{_by(user)}.") for pk in ids
        )
        run_transition(run=parent, to=RunStatus.WAITING, dt_completed=None)
        run_transition(run=parent, to=RunStatus.STARTED, error="", error_hint="")
        run_log(run=parent, message=f"Retried{_by(user)}: {len(ids)} failed bills sent again.")
        _runs_enqueue_on_commit(run_ids=ids)
        if not ids:
            _parent_settle(parent_id=parent.pk)
    return parent


def run_replay(*, run: IntegrationRun, user=None) -> IntegrationRun:
    """A new run, linked to `run`, that sends the bill again with its current data (a backfill
    parent: the same selection of bills again)."""
    if run.integration_id is None:
        raise RunRefused(
            f"The integration {run.integration_name!r} was deleted; its runs cannot be replayed."
        )
    if run.is_backfill_parent:
        return _backfill(
            integration=run.integration, selection=run.selection, user=user, replayed_from=run
        )
    if run.bill_id is None:
        raise RunRefused(
            f"Bill {run.entity_id} is no longer in the hub; import it again to send it."
        )
    with transaction.atomic():
        replay = run_create(
            integration=run.integration,
            bill=run.bill,
            trigger=RunTrigger.REPLAY,
            replayed_from=run,
        )
        run_log(run=replay, message=f"Replay of run {run.pk}{_by(user)}.")
    return replay


def bill_send_again(*, bill, integration=None, user=None) -> list[IntegrationRun]:
    """Send the bill again, even unchanged, to every integration that selects it (or to the one
    given: RunRefused when it does not select the bill, saying why)."""
    decisions = integration_decisions_for_bill(bill=bill, delivered_hashes={})
    if integration is not None:
        decisions = [d for d in decisions if d.integration.pk == integration.pk]
        if not decisions:
            raise RunRefused(f"The integration {integration.name!r} does not send bills.")
        if not decisions[0].send:
            raise RunRefused(f"Not sent to {integration.name!r}: {decisions[0].reason}")
    with transaction.atomic():
        runs = []
        for decision in decisions:
            if decision.send:
                run = run_create(
                    integration=decision.integration, bill=bill, trigger=RunTrigger.SEND_AGAIN
                )
                run_log(run=run, message=f"Sent again{_by(user)}.")
                runs.append(run)
    return runs


# --- the periodic sweep -------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    recovered: int = 0  # runs a dead worker left STARTED, back to AWAITING_RETRY
    timed_out: int = 0  # of those, given up (TIMEOUT_LIMIT_EXCEEDED)
    enqueued: int = 0  # runs put on the task queue
    parents_settled: int = 0  # backfill parents finished


def runs_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    """Run periodically (a django-q2 schedule installed by runs' migrations): take back runs
    whose worker died, queue runs whose retry has come due (and runs whose queueing was lost),
    and finish backfill parents whose children are all done."""
    now = now or timezone.now()
    recovered, timed_out = _runs_recover_abandoned(now=now)
    enqueued = _runs_enqueue_due(now=now)
    stuck_parents = (
        IntegrationRun.objects.filter(
            _BACKFILL_PARENT, status__in=(RunStatus.WAITING, RunStatus.STARTED)
        )
        .exclude(
            Exists(
                IntegrationRun.objects.filter(parent=OuterRef("pk"), status__in=NOT_FINAL_STATUSES)
            )
        )
        .values_list("pk", flat=True)
    )
    settled = sum(_parent_settle(parent_id=pk) for pk in list(stuck_parents))
    result = SweepResult(recovered, timed_out, enqueued, settled)
    if result != SweepResult():
        logger.info("Runs sweep: %s", result)
    return result


def _runs_recover_abandoned(*, now) -> tuple[int, int]:
    """STARTED runs whose lease lapsed (the worker died or was killed for its timeout) go back
    to AWAITING_RETRY, due now; their Delivery row has no transaction id unless Paddle's answer
    was stored, so the next attempt reconciles instead of creating again. A run that has used
    its attempts ends TIMEOUT_LIMIT_EXCEEDED."""
    lease = datetime.timedelta(seconds=settings.RUN_LEASE_SECONDS)
    recovered = timed_out = 0
    for _ in range(_SWEEP_MAX_BATCHES):
        with transaction.atomic():
            stale = list(
                IntegrationRun.objects.select_for_update(skip_locked=True)
                .filter(status=RunStatus.STARTED, lease_expires_at__lt=now)
                .only("pk", "attempt_count", "retry_count", "lease_expires_at", "parent_id")[
                    :_BATCH
                ]
            )
            if not stale:
                break
            retry, give_up = [], []
            for run in stale:
                (retry if run.retry_count + 1 < settings.RUN_MAX_ATTEMPTS else give_up).append(run)
            _runs_transition_bulk(
                run_ids=[run.pk for run in retry],
                frm=RunStatus.STARTED,
                to=RunStatus.AWAITING_RETRY,
                retry_count=F("retry_count") + 1,
                next_attempt_at=now,
                lease_expires_at=None,
                error="The worker delivering this run stopped before it finished.",
                error_hint="It is retried automatically; the next attempt first asks Paddle for "
                "a transaction the lost attempt may have made, so nothing is sent twice.",
            )
            _runs_transition_bulk(
                run_ids=[run.pk for run in give_up],
                frm=RunStatus.STARTED,
                to=RunStatus.TIMEOUT_LIMIT_EXCEEDED,
                lease_expires_at=None,
                dt_completed=now,
                error=f"The worker delivering this run stopped before it finished, "
                f"{settings.RUN_MAX_ATTEMPTS} times.",
                error_hint="Check the worker's log: a task running longer than the task timeout "
                "(Q_CLUSTER timeout) is killed. Then Retry the run.",
            )
            RunAttempt.objects.bulk_create(
                RunAttempt(
                    run_id=run.pk,
                    number=run.attempt_count,
                    started_at=run.lease_expires_at - lease,
                    duration_ms=round((now - run.lease_expires_at + lease).total_seconds() * 1000),
                    outcome=AttemptOutcome.TRANSIENT,
                    response_summary={"error": "worker stopped before finishing"},
                )
                for run in stale
            )
            RunLogEntry.objects.bulk_create(
                RunLogEntry(
                    run_id=run.pk,
                    level=LogLevel.WARNING,
                    message=f"Attempt {run.attempt_count} was abandoned (its worker stopped); "
                    + ("retrying." if run in retry else "given up."),
                )
                for run in stale
            )
        recovered += len(retry)
        timed_out += len(give_up)
        for parent_id in {run.parent_id for run in give_up if run.parent_id}:
            _parent_settle(parent_id=parent_id)
    return recovered, timed_out


def _runs_enqueue_due(*, now) -> int:
    """Queue each run whose retry time has come, once per retry (queued_at records it). Runs
    still WAITING long after they were queued lost their task (say, a crash between commit and
    enqueue); they are queued again when the task queue is empty, so nothing is doubled for a
    queue that is merely long."""
    from django_q.brokers import get_broker

    due = Q(
        status__in=(RunStatus.AWAITING_RETRY, RunStatus.RATE_LIMIT_RETRY), next_attempt_at__lte=now
    ) & (Q(queued_at__isnull=True) | Q(queued_at__lt=F("next_attempt_at")))
    if get_broker().queue_size() == 0:
        lost_before = now - datetime.timedelta(seconds=settings.RUN_LEASE_SECONDS)
        due |= Q(status=RunStatus.WAITING) & (
            Q(queued_at__isnull=True) | Q(queued_at__lt=lost_before)
        )
    enqueued = 0
    for _ in range(_SWEEP_MAX_BATCHES):
        ids = list(
            IntegrationRun.objects.filter(due)
            .exclude(_BACKFILL_PARENT)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:_BATCH]
        )
        if not ids:
            break
        IntegrationRun.objects.filter(pk__in=ids).update(queued_at=now)
        _runs_enqueue(run_ids=ids)
        enqueued += len(ids)
    return enqueued
