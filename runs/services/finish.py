"""How an attempt ends: everything it did written in one go, and a failure turned into the retry
policy's verdict."""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from credentials.services import credential_paddle_answered
from integrations.models import IntegrationConfiguration
from integrations.services import integration_disable
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from runs.models import (
    FINAL_STATUSES,
    AttemptOutcome,
    Delivery,
    IntegrationRun,
    LogLevel,
    RunAttempt,
    RunLogEntry,
    RunStatus,
)
from runs.services.backfill import parent_settle
from runs.services.events import (
    integration_disabled_event_raise,
    run_event_raise,
    run_events_action,
)
from runs.services.policy import RetryLimits, attempt_verdict
from runs.services.state import run_transition

logger = logging.getLogger(__name__)


@dataclass
class Attempt:
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


def run_failed(run: IntegrationRun, attempt: Attempt, problem: PaddleProblem) -> None:
    """Apply the retry policy's verdict on the failure."""
    attempt.response["problem"] = problem.as_dict()
    verdict = attempt_verdict(
        problem=problem,
        retries_so_far=run.retry_count,
        rate_limit_retries_so_far=run.rate_limit_retry_count,
        now=timezone.now(),
        limits=RetryLimits.from_settings(),
    )
    if problem.kind == PaddleProblemKind.AUTHENTICATION:
        credential_paddle_answered(
            credential_id=run.integration.credential_id,
            ok=False,
            message=problem.text,
        )
    if problem.kind == PaddleProblemKind.AUTHENTICATION and integration_auth_failed(
        integration_id=run.integration_id, problem=problem
    ):
        attempt.log(
            LogLevel.ERROR,
            f"The integration was disabled after {settings.RUN_AUTH_FAILURES_BEFORE_DISABLE} "
            "authentication failures in a row; its notification users were e-mailed.",
        )
    retry = {"next_attempt_at": verdict.next_attempt_at} if verdict.next_attempt_at else {}
    run_finish(
        run,
        attempt,
        to=verdict.status,
        outcome=verdict.outcome,
        message=verdict.message,
        level=verdict.level,
        error=verdict.error,
        error_hint=verdict.error_hint,
        **retry,
        **verdict.counters,
    )
    if verdict.status in FINAL_STATUSES:
        run_event_raise(run=run, problem=problem)


def run_finish(
    run: IntegrationRun,
    attempt: Attempt,
    *,
    to: str,
    outcome: str,
    message: str,
    level: str = LogLevel.INFO,
    delivery_fields: dict | None = None,
    **run_fields,
) -> None:
    """Write what the attempt did: the Delivery (released, plus what was delivered), then the
    run's new status, its attempt and log, together with the events a completed run shows
    over."""
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
        if to == RunStatus.COMPLETE:
            run_events_action(run=run, delivered=outcome == AttemptOutcome.SUCCESS)
    if to in FINAL_STATUSES and run.parent_id:
        parent_settle(parent_id=run.parent_id)


def integration_auth_failed(*, integration_id, problem: PaddleProblem) -> bool:
    """Count an authentication failure; after several in a row the integration disables itself
    and e-mails its notification users. True when it was disabled now."""
    limit = settings.RUN_AUTH_FAILURES_BEFORE_DISABLE
    with transaction.atomic():
        integration = IntegrationConfiguration.objects.select_for_update().get(pk=integration_id)
        integration.consecutive_auth_failures += 1
        integration.save(update_fields=["consecutive_auth_failures", "updated_at"])
        if not integration.enabled or integration.consecutive_auth_failures < limit:
            return False
        reason = (
            f"Paddle refused its credential {integration.consecutive_auth_failures} times in a "
            f"row: {problem.message}"
        )
        integration_disable(integration=integration, reason=reason)
        integration_disabled_event_raise(integration=integration, reason=reason)
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
