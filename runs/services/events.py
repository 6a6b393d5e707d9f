"""Which integration event a run's final failure raises (m3ter's names), so a person finds it on
the events page with the follow-up that fixes it; and which events a completed run shows over."""

from integrations.events import integration_event_raise, integration_events_action_by_hub
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


def run_events_action(*, run: IntegrationRun, delivered: bool) -> None:
    """The run completed: its bill's open events of the integration are over, and, when it
    delivered (Paddle took the key), the integration's authentication and disabled ones."""
    if run.integration_id is None:
        return
    integration_events_action_by_hub(
        integration_id=run.integration_id, entity_id=run.entity_id, key_accepted=delivered
    )


def integration_disabled_event_raise(*, integration, reason: str) -> None:
    """The integration disabled itself: one event for the integration, not for a bill."""
    integration_event_raise(
        name=IntegrationEventName.DISABLED,
        integration_id=integration.pk,
        integration_name=integration.name,
        message=reason,
    )
