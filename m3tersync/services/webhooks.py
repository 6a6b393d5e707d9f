"""m3ter webhooks: a signed event is stored at once and applied to the mirror on a worker."""

import datetime
import json
import logging
from dataclasses import dataclass
from functools import partial

import m3ter
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from credentials.crypto import SecretDecryptionError
from m3terdata.models import Account, Bill
from m3terdata.parsing import (
    MAX_INTEGER,
    M3terRecordError,
)
from m3terpaddle.batches import queryset_delete_in_batches
from m3terpaddle.text import sentences
from m3tersync import signing
from m3tersync.models import (
    InboundEvent,
    InboundEventsPruned,
    InboundEventStatus,
    M3terConnection,
)
from m3tersync.services.connections import m3ter_client, m3ter_error_message
from m3tersync.services.inbound import CHANGED, account_record_write, bill_record_write
from m3tersync.services.pull import accounts_ensure, bills_complete, m3ter_moment

log = logging.getLogger(__name__)

BILL_EVENTS = ("billing.bill.created", "billing.bill.updated")
ACCOUNT_EVENTS = ("configuration.account.created", "configuration.account.updated")


# --- webhooks -------------------------------------------------------------------------------------


class WebhookRefused(Exception):
    """The webhook is not accepted; status is the HTTP answer and message says why."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ParsedEvent:
    data: dict
    event_id: str
    event_name: str
    event_time: datetime.datetime | None
    entity: dict | None


def webhook_parse(body: bytes) -> ParsedEvent:
    """The m3ter event in a webhook body."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused(400, "The body is not JSON.") from None
    if not isinstance(data, dict):
        raise WebhookRefused(400, "The body must be a JSON object (an m3ter event).")
    event = event_fields(data)
    if not event.event_name:
        raise WebhookRefused(400, 'The event has no "eventName".')
    return event


def _object(value) -> dict:
    """A JSON object where one is expected; anything else in its place counts as absent."""
    return value if isinstance(value, dict) else {}


def event_fields(data: dict) -> ParsedEvent:
    """m3ter's events (the Events API and its examples) are {"id", "eventName", "eventTime",
    "m3terEvent": {"eventData": {"newDto": {...the entity...}}}}; "eventType" for the name and an
    "entity" or "payload" object for the entity are accepted too."""
    name = data.get("eventName") or data.get("eventType")
    event_data = _object(_object(data.get("m3terEvent")).get("eventData"))
    entity = next(
        (
            candidate
            for candidate in (event_data.get("newDto"), data.get("entity"), data.get("payload"))
            if isinstance(candidate, dict)
        ),
        None,
    )
    event_id = data.get("id") if isinstance(data.get("id"), str) else ""
    return ParsedEvent(
        data=data,
        event_id=event_id[:64],
        event_name=name[:100] if isinstance(name, str) else "",
        event_time=m3ter_moment(data.get("eventTime")),
        entity=entity,
    )


def inbound_event_receive(
    *, connection: M3terConnection, body: bytes, headers, url: str
) -> InboundEvent:
    """Check a webhook's signature, store the event and queue its processing. Raises
    WebhookRefused for anything that is not a genuine, fresh, well-formed m3ter event."""
    if not connection.accepts_webhooks:
        raise WebhookRefused(
            404, "This connection does not accept webhooks (disabled, or no webhook credentials)."
        )
    try:
        secret = connection.decrypted_webhook_secret()
    except SecretDecryptionError:
        log.error("webhook secret of %s cannot be decrypted", connection)
        raise WebhookRefused(
            500, "The webhook secret cannot be read; see the server log."
        ) from None
    try:
        signing.verify(
            headers=headers, body=body, url=url, api_key=connection.webhook_api_key, secret=secret
        )
    except signing.SignatureRefused as refused:
        log.warning("m3ter webhook for %s refused: %s", connection, refused.message)
        raise WebhookRefused(refused.status, refused.message) from None
    parsed = webhook_parse(body)
    handled = parsed.event_name in BILL_EVENTS + ACCOUNT_EVENTS
    if handled and not (parsed.entity or {}).get("id"):
        raise WebhookRefused(400, f"The {parsed.event_name} event carries no entity with an id.")
    entity = parsed.entity or {}
    version = entity.get("version")
    with transaction.atomic():
        event = InboundEvent.objects.create(
            connection=connection,
            event_id=parsed.event_id,
            event_name=parsed.event_name,
            event_time=parsed.event_time,
            entity_id=str(entity.get("id", ""))[:64],
            entity_version=version
            if isinstance(version, int) and 0 <= version <= MAX_INTEGER
            else None,
            payload=parsed.data,
        )
        duplicate = (
            parsed.event_id
            and InboundEvent.objects.filter(connection=connection, event_id=parsed.event_id)
            .exclude(pk=event.pk)
            .exists()
        )
        if duplicate or not handled:
            event.status = InboundEventStatus.IGNORED
            event.outcome = (
                f"Duplicate delivery of event {parsed.event_id}."
                if duplicate
                else f"{parsed.event_name} events are not used by this hub."
            )
            event.processed_at = timezone.now()
            event.save()
        else:
            event_pk = event.pk
            transaction.on_commit(lambda: _event_enqueue(event_id=event_pk))
    return event


def inbound_event_process(*, event_id: int) -> InboundEvent:
    """Apply a stored webhook event to the mirror (on a worker). A version the mirror already
    holds, or an older one, is recorded as ignored; a bill without line items is read from m3ter
    first."""
    event = InboundEvent.objects.select_related("connection").get(pk=event_id)
    if event.status != InboundEventStatus.RECEIVED:
        return event
    entity = event_fields(event.payload).entity or {}
    try:
        if event.event_name in BILL_EVENTS:
            status, outcome = _bill_event_apply(event, entity)
        else:
            status, outcome = _account_event_apply(entity)
    except M3terRecordError as error:
        status, outcome = InboundEventStatus.FAILED, str(error)
    except (m3ter.APIError, SecretDecryptionError) as error:
        status = InboundEventStatus.FAILED
        outcome = sentences(
            m3ter_error_message(error, connection=event.connection),
            "The next pull picks the change up",
        )
    InboundEvent.objects.filter(pk=event.pk, status=InboundEventStatus.RECEIVED).update(
        status=status, outcome=outcome, processed_at=timezone.now()
    )
    event.refresh_from_db()
    return event


def _version_verdict(kind: str, entity_id: str, version, stored) -> str | None:
    if stored is None or not isinstance(version, int):
        return None
    if version == stored:
        return f"Duplicate: {kind} {entity_id} version {version} is already stored."
    if version < stored:
        return (
            f"Out of order: {kind} {entity_id} version {version} is older than the stored "
            f"version {stored}."
        )
    return None


OUTCOME_WORDS = {
    "created": "stored (new)",
    "updated": "stored (changed)",
}


def _bill_event_apply(event: InboundEvent, entity: dict):
    bill_id = entity.get("id")
    stored = Bill.objects.filter(m3ter_id=bill_id).values_list("version", flat=True).first()
    verdict = _version_verdict("bill", bill_id, entity.get("version"), stored)
    if verdict:
        return InboundEventStatus.IGNORED, verdict
    record = entity
    if entity.get("lineItems") is None:
        client = m3ter_client(connection=event.connection)
        found = bills_complete(client=client, records=[entity])
        if not found:
            return InboundEventStatus.IGNORED, f"Bill {bill_id} no longer exists in m3ter."
        record = found[0]
        accounts_ensure(client=client, account_ids=[record.get("accountId")])
    elif not Account.objects.filter(m3ter_id=entity.get("accountId")).exists():
        accounts_ensure(
            client=m3ter_client(connection=event.connection), account_ids=[entity.get("accountId")]
        )
    with transaction.atomic():
        outcome = bill_record_write(record)
    return _outcome_status("bill", record, outcome)


def _account_event_apply(entity: dict):
    with transaction.atomic():
        outcome = account_record_write(entity)
    return _outcome_status("account", entity, outcome)


def _outcome_status(kind: str, record: dict, outcome: str):
    version = record.get("version")
    if outcome in CHANGED:
        return (
            InboundEventStatus.PROCESSED,
            sentences(
                f"{kind.capitalize()} {record.get('id')} version {version} "
                f"{OUTCOME_WORDS[outcome]}",
                "A bill event was raised" if kind == "bill" else "",
            ),
        )
    if outcome == "unchanged":
        return (
            InboundEventStatus.IGNORED,
            f"Duplicate: {kind} {record.get('id')} version {version} is already stored.",
        )
    return (
        InboundEventStatus.IGNORED,
        f"Out of order: {kind} {record.get('id')} version {version} is older than the stored one.",
    )


def inbound_events_prune(*, received_before: datetime.datetime, deadline=None) -> int:
    """Delete the stored events received before `received_before` that are done with
    (processed, ignored, or failed: a failed event is not tried again, the pull brings its
    change); one still waiting for a worker is kept whatever its age. m3ter redelivering a
    pruned event, long after, is harmless: its version decides, as for any event. Each batch is
    counted in InboundEventsPruned as it is deleted. The number deleted."""
    finished = [s for s in InboundEventStatus if s != InboundEventStatus.RECEIVED]
    deleted = 0
    for status in finished:
        old = InboundEvent.objects.filter(status=status, received_at__lt=received_before)
        deleted += queryset_delete_in_batches(
            old, deadline=deadline, on_batch=partial(_pruned_count, status)
        )
    return deleted


def _pruned_count(status: str, count: int) -> None:
    InboundEventsPruned.objects.get_or_create(status=status)
    InboundEventsPruned.objects.filter(status=status).update(count=F("count") + count)


def _event_enqueue(*, event_id) -> None:
    # By dotted path: tasks.py imports the services, never the reverse.
    async_task(
        "m3tersync.tasks.inbound_event_process_task", event_id, task_name=f"m3ter event {event_id}"
    )
