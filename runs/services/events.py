"""Which integration event a run's final failure raises (m3ter's names), so a person finds it on
the events page with the follow-up that fixes it."""

from integrations.events import integration_event_raise
from integrations.models import IntegrationEventName
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from runs.models import IntegrationRun

EVENT_FOR_PROBLEM = {
    PaddleProblemKind.AUTHENTICATION: IntegrationEventName.AUTHENTICATION,
    PaddleProblemKind.MISSING_MAPPING: IntegrationEventName.MISSING_ACCOUNT_MAPPING,
    PaddleProblemKind.INVALID_REQUEST: IntegrationEventName.VALIDATION,
    PaddleProblemKind.UNSUPPORTED_BILL: IntegrationEventName.VALIDATION,
}


def run_event_raise(*, run: IntegrationRun, problem: PaddleProblem | None = None) -> None:
    """Raise the event for a run that has ended failed: by the kind of Paddle problem, and a
    perform error for anything else (retries exhausted, an unexpected failure)."""
    if run.integration_id is None:
        return
    name = EVENT_FOR_PROBLEM.get(problem.kind) if problem else None
    integration_event_raise(
        name=name or IntegrationEventName.PERFORM,
        integration_id=run.integration_id,
        integration_name=run.integration_name,
        message=run.error,
        run=run,
        entity_type=run.entity_type,
        entity_id=run.entity_id,
        account_m3ter_id=run.account.m3ter_id if run.account_id else "",
    )


def integration_disabled_event_raise(*, integration, reason: str) -> None:
    """The integration disabled itself: one event for the integration, not for a bill."""
    integration_event_raise(
        name=IntegrationEventName.DISABLED,
        integration_id=integration.pk,
        integration_name=integration.name,
        message=reason,
    )
