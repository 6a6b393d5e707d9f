"""Integration events, as m3ter's console has them: what a person has to follow up about an
integration (a bill Paddle refused, a key it refused, an integration that disabled itself),
each marked actioned once done. The run engine raises them, and actions them itself once a later
run shows the problem gone; the events page and the REST API read and action them through these
functions."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.models import IntegrationEvent, IntegrationEventName, IntegrationEventState

# The only moves an event may make; integration_event_transition enforces them.
EVENT_TRANSITIONS = {
    IntegrationEventState.NOT_ACTIONED: {IntegrationEventState.ACTIONED},
    IntegrationEventState.ACTIONED: set(),
}


def integration_event_raise(
    *,
    name: str,
    integration_id,
    integration_name: str,
    message: str,
    run=None,
    entity_type: str = "",
    entity_id: str = "",
    account_m3ter_id: str = "",
) -> IntegrationEvent:
    """Record that `name` happened for the integration (and bill). While an event for the same
    integration, name and bill is not actioned yet, it is that event that grows (one more
    occurrence, the latest message and run): a bill failing on every retry is one thing to
    follow up, not one per retry."""
    now = timezone.now()
    open_events = IntegrationEvent.objects.filter(
        integration_id=integration_id,
        name=name,
        entity_id=entity_id,
        state=IntegrationEventState.NOT_ACTIONED,
    )
    latest = {"message": message, "last_occurred_at": now}
    if run is not None:
        latest["run"] = run
    with transaction.atomic():
        event = open_events.select_for_update().first()
        if event is None:
            try:
                with transaction.atomic():
                    return IntegrationEvent.objects.create(
                        name=name,
                        integration_id=integration_id,
                        integration_name=integration_name,
                        entity_type=entity_type,
                        entity_id=entity_id,
                        account_m3ter_id=account_m3ter_id,
                        **latest,
                    )
            except IntegrityError:
                # Another worker raised the same event a moment ago: grow that one.
                event = open_events.select_for_update().get()
        open_events.filter(pk=event.pk).update(occurrences=F("occurrences") + 1, **latest)
    event.refresh_from_db()
    return event


def integration_event_transition(*, event: IntegrationEvent, to: str, user=None) -> None:
    """Move the event to `to`, refusing a move EVENT_TRANSITIONS does not allow."""
    if to not in EVENT_TRANSITIONS[event.state]:
        raise ValidationError(
            f"This event is {event.get_state_display().lower()} already; there is nothing to "
            "change."
        )
    event.state = to
    event.dt_actioned = timezone.now() if to == IntegrationEventState.ACTIONED else None
    event.actioned_by = user
    event.save(update_fields=["state", "dt_actioned", "actioned_by"])


def integration_events_action_by_hub(*, integration_id, entity_id: str, key_accepted: bool) -> int:
    """A run of the integration for the bill `entity_id` completed, so what its open events for
    that bill reported is over; when Paddle accepted the integration's key on the way (a
    delivery), so is what its authentication and disabled events reported, whatever bill they
    were raised for. Those events are actioned by the hub (no person: `actioned_by` stays empty,
    as "the hub" on the events page). The number actioned."""
    which = Q(entity_id=entity_id) if entity_id else Q(pk__in=[])
    if key_accepted:
        which |= Q(name__in=[IntegrationEventName.AUTHENTICATION, IntegrationEventName.DISABLED])
    # One UPDATE however many events a bad key left open (one per bill it failed on); it moves
    # only events in a state EVENT_TRANSITIONS lets become ACTIONED.
    actionable = [
        state
        for state, moves in EVENT_TRANSITIONS.items()
        if IntegrationEventState.ACTIONED in moves
    ]
    return (
        IntegrationEvent.objects.filter(integration_id=integration_id, state__in=actionable)
        .filter(which)
        .update(state=IntegrationEventState.ACTIONED, dt_actioned=timezone.now(), actioned_by=None)
    )


def integration_event_action(*, event: IntegrationEvent, user=None) -> IntegrationEvent:
    """A person has followed the event up."""
    with transaction.atomic():
        current = IntegrationEvent.objects.select_for_update().get(pk=event.pk)
        integration_event_transition(event=current, to=IntegrationEventState.ACTIONED, user=user)
    return current
