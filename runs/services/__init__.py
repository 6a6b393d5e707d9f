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

Retries are the app's own, not django-q2's: a failed attempt sets `next_attempt_at`; every
worker polls about once a second for runs that have come due and queues them (`due`), and the
periodic sweep (`runs_sweep`, a django-q2 schedule) does the same as a safety net and takes back
runs whose worker died (their lease lapsed), which then reconcile rather than create again.

Refusals of what a person asked (Retry, Replay, Send again, Backfill) raise RunRefused, a
ValidationError whose message says why and what to do instead.

One module per concern: `state` (statuses, transitions, log, refusals), `create` (runs and their
queueing), `execute` (claim, preflight, deliver) and `finish` (writing an attempt's outcome),
`policy` (the pure retry verdict), `due` (retries back on the queue on time), `actions`
(Retry, Replay, Send again), `backfill`, `sweep`.
This package re-exports their public names, so callers import from `runs.services`.
"""

from runs.services.actions import bill_send_again, run_replay, run_retry
from runs.services.backfill import runs_backfill
from runs.services.create import (
    run_create,
    run_enqueue,
    run_new,
    runs_create_for_bill_event,
    runs_enqueue,
)
from runs.services.due import runs_enqueue_due
from runs.services.execute import CLAIM_POLL_SECONDS, CLAIM_WAIT_SECONDS, run_execute
from runs.services.policy import RetryLimits, Verdict, attempt_verdict
from runs.services.state import (
    CLAIMABLE_STATUSES,
    NOT_FINAL_STATUSES,
    OK_STATUSES,
    PERSON_RETRYABLE_STATUSES,
    InvalidRunTransition,
    RunChanged,
    RunRefused,
    run_log,
    run_transition,
)
from runs.services.sweep import SweepResult, runs_sweep

__all__ = [
    "CLAIMABLE_STATUSES",
    "CLAIM_POLL_SECONDS",
    "CLAIM_WAIT_SECONDS",
    "NOT_FINAL_STATUSES",
    "OK_STATUSES",
    "PERSON_RETRYABLE_STATUSES",
    "InvalidRunTransition",
    "RetryLimits",
    "RunChanged",
    "RunRefused",
    "SweepResult",
    "Verdict",
    "attempt_verdict",
    "bill_send_again",
    "run_create",
    "run_enqueue",
    "run_execute",
    "run_log",
    "run_new",
    "run_replay",
    "run_retry",
    "run_transition",
    "runs_backfill",
    "runs_create_for_bill_event",
    "runs_enqueue",
    "runs_enqueue_due",
    "runs_sweep",
]
