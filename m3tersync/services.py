"""Bills in from m3ter: connections, the pull, and webhooks.

Every record that arrives goes through m3terdata.services (account_upsert, external_mapping_upsert)
and m3tersync.inbound.bill_receive, so a bill pulled or pushed here is the same bill event as an
imported one. HTTP calls to m3ter happen outside database transactions; each page of records is
written in one transaction together with the cursor that says it is done, so a pull that fails
resumes exactly after the last page it stored.

Cursor strategy (see docs/m3ter-inbound.md): m3ter's list endpoints cannot filter by modification
time, but its search endpoints sort by any field. Accounts and bills are read newest first
(`sortBy=dtLastModified&sortOrder=DESC`, paged with `fromDocument`) until a record older than the
cursor less an overlap; the cursor then becomes the newest `dtLastModified` of the sweep. External
mappings have no search: their list (`externalSystemId=Paddle`, `nextToken` paging) is scanned
and only mappings modified since the cursor are written.
"""

import base64
import datetime
import json
import logging
import time
import uuid
from dataclasses import dataclass

import httpx
import m3ter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from credentials.crypto import SecretDecryptionError, encrypt_secret, secret_hint
from m3terdata.models import Account, Bill
from m3terdata.parsing import (
    ACCOUNT_FIELDS,
    EXTERNAL_MAPPING_FIELDS,
    M3terRecordError,
    parse_bill,
    parse_record,
)
from m3terdata.services import account_upsert, external_mapping_upsert
from m3tersync import signing
from m3tersync.inbound import CHANGED, bill_receive
from m3tersync.models import (
    DEFAULT_BASE_URL,
    InboundEvent,
    InboundEventStatus,
    M3terConnection,
    M3terPull,
    PullStatus,
    PullTrigger,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # m3ter's maximum
# Records modified this long before a cursor are read again: clocks and search indexes lag.
CURSOR_OVERLAP = datetime.timedelta(minutes=5)
# A pull holds its connection this long past its last saved page; a dead worker's lease lapses.
LEASE = datetime.timedelta(minutes=5)
EXTERNAL_SYSTEM = "Paddle"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
PROBLEMS_KEPT = 100
RESUME_NOTE = "The next pull resumes after the last page this one stored."

BILL_EVENTS = ("billing.bill.created", "billing.bill.updated")
ACCOUNT_EVENTS = ("configuration.account.created", "configuration.account.updated")


# --- connections ----------------------------------------------------------------------------------


def webhook_credentials_check(*, webhook_api_key: str, has_secret: bool) -> None:
    if bool(webhook_api_key) != has_secret:
        raise ValidationError(
            "Give both the webhook API key and the webhook API secret (as entered on m3ter's "
            "Outgoing webhook), or neither."
        )


def connection_create(
    *,
    name: str,
    org_id: str,
    api_key_id: str,
    api_secret: str,
    base_url: str = DEFAULT_BASE_URL,
    enabled: bool = True,
    webhook_api_key: str = "",
    webhook_secret: str = "",
) -> M3terConnection:
    if not api_secret:
        raise ValidationError("The API secret is required.")
    fields = {
        "name": name,
        "org_id": org_id,
        "api_key_id": api_key_id,
        "base_url": base_url,
        "enabled": enabled,
        "webhook_api_key": webhook_api_key,
    }
    return _connection_save(
        M3terConnection(), fields, api_secret=api_secret, webhook_secret=webhook_secret
    )


def connection_update(
    *, connection: M3terConnection, api_secret: str = "", webhook_secret: str = "", **fields
) -> M3terConnection:
    """Change a connection; a blank secret keeps the stored one."""
    if fields.get("webhook_api_key") == "":
        connection.webhook_secret_encrypted = connection.webhook_secret_hint = ""
    return _connection_save(
        connection, fields, api_secret=api_secret, webhook_secret=webhook_secret
    )


def _connection_save(
    connection: M3terConnection, fields: dict, *, api_secret: str, webhook_secret: str
) -> M3terConnection:
    for name, value in fields.items():
        # Pasted ids lose surrounding spaces; the base URL loses a trailing slash.
        if name in ("org_id", "api_key_id", "webhook_api_key"):
            value = value.strip()
        if name == "base_url":
            value = value.rstrip("/")
        setattr(connection, name, value)
    _set_secrets(connection, api_secret=api_secret, webhook_secret=webhook_secret)
    webhook_credentials_check(
        webhook_api_key=connection.webhook_api_key,
        has_secret=bool(connection.webhook_secret_encrypted),
    )
    connection.save()
    return connection


def _set_secrets(connection, *, api_secret: str, webhook_secret: str):
    if api_secret:
        connection.api_secret_encrypted = encrypt_secret(api_secret)
        connection.api_secret_hint = secret_hint(api_secret)
    if webhook_secret:
        connection.webhook_secret_encrypted = encrypt_secret(webhook_secret)
        connection.webhook_secret_hint = secret_hint(webhook_secret)


def m3ter_client(*, connection: M3terConnection, max_retries: int | None = None) -> m3ter.M3ter:
    """The official SDK client for the connection, already signed in."""
    client = m3ter.M3ter(
        api_key=connection.api_key_id,
        api_secret=connection.api_secret(),
        org_id=connection.org_id,
        base_url=connection.base_url,
        max_retries=settings.M3TER_MAX_RETRIES if max_retries is None else max_retries,
        timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
    )
    # m3ter 0.9 records a token's expiry as datetime.fromtimestamp(expires_in - 300), a moment in
    # 1970, so left alone it fetches a new token before every request and doubles the calls that
    # count against m3ter's rate limit. Sign in once here and record the real expiry.
    basic = base64.b64encode(f"{client.api_key}:{client.api_secret}".encode()).decode()
    token = client.authentication.get_bearer_token(
        grant_type="client_credentials", extra_headers={"Authorization": f"Basic {basic}"}
    )
    client.token = token.access_token
    # Naive local time, as the SDK compares it with datetime.now().
    client.token_expiry = datetime.datetime.now() + datetime.timedelta(
        seconds=max(token.expires_in - 300, 0)
    )
    return client


def m3ter_error_message(error: Exception, *, connection: M3terConnection) -> str:
    """What went wrong talking to m3ter, in words a person can act on."""
    if isinstance(error, SecretDecryptionError):
        return str(error)
    if isinstance(error, m3ter.APITimeoutError):
        return f"m3ter at {connection.base_url} did not answer within {READ_TIMEOUT:g} seconds."
    if isinstance(error, m3ter.APIConnectionError):
        return f"Could not reach m3ter at {connection.base_url}: {error.__cause__ or error}."
    if not isinstance(error, m3ter.APIStatusError):
        return f"Unexpected error: {error}"
    said = error.body.get("message") if isinstance(error.body, dict) else None
    said = f" m3ter said: {said}" if said else ""
    status = error.status_code
    if status == 401:
        return (
            f"m3ter refused the API key id and secret (401).{said} Check the service user's "
            "access key id and secret."
        )
    if status == 403:
        return (
            f"m3ter refused access (403).{said} Check that the service user belongs to "
            f"organization {connection.org_id} and may read accounts, bills and external mappings."
        )
    if status == 404:
        return f"Not found (404).{said} Check the organization id and the base URL."
    if status == 429:
        return f"m3ter's rate limit was exceeded (429) and did not clear while retrying.{said}"
    if status >= 500:
        return f"m3ter had a server error ({status}).{said}"
    return f"m3ter answered {status}.{said}"


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    message: str


def connection_test(*, connection: M3terConnection) -> ConnectionTest:
    """Sign in and make one cheap authenticated call (the first account); records the result."""
    try:
        client = m3ter_client(connection=connection, max_retries=0)
        client.accounts.list(page_size=1)
    except (m3ter.APIError, SecretDecryptionError) as error:
        result = ConnectionTest(False, m3ter_error_message(error, connection=connection))
    else:
        result = ConnectionTest(
            True, f"Connected to organization {connection.org_id} as {connection.api_key_id}."
        )
    M3terConnection.objects.filter(pk=connection.pk).update(
        last_tested_at=timezone.now(),
        last_test_ok=result.ok,
        last_test_message=result.message[:500],
    )
    return result


# --- the pull -------------------------------------------------------------------------------------


class _OutOfTime(Exception):
    pass


def _moment(value) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def _as_dicts(models) -> list[dict]:
    return [model.to_dict(mode="json") for model in models or []]


def _lease_acquire(connection: M3terConnection) -> bool:
    now = timezone.now()
    acquired = (
        M3terConnection.objects.filter(pk=connection.pk)
        .filter(Q(pull_lease_until__isnull=True) | Q(pull_lease_until__lt=now))
        .update(pull_lease_until=now + LEASE)
    )
    if acquired:
        M3terPull.objects.filter(connection=connection, status=PullStatus.RUNNING).update(
            status=PullStatus.FAILED,
            finished_at=now,
            error="Interrupted: the worker stopped before this pull finished. The next pull "
            "resumed after the last page it had stored.",
        )
    return bool(acquired)


def pull_run(
    *,
    connection: M3terConnection,
    trigger: str = PullTrigger.SCHEDULE,
    user=None,
    time_budget: float | None = None,
    page_size: int = PAGE_SIZE,
) -> M3terPull | None:
    """Pull what changed in m3ter since the cursors. Returns the pull, or None when another pull
    of this connection is running. With a time budget the pull stops after the page during which
    it ran out (status PARTIAL) and the next one carries on."""
    if not _lease_acquire(connection):
        log.info("m3ter pull of %s skipped: another pull is running", connection)
        return None
    connection.refresh_from_db()
    pull = M3terPull.objects.create(connection=connection, trigger=trigger, requested_by=user)
    deadline = None if time_budget is None else time.monotonic() + time_budget
    status, error = PullStatus.SUCCEEDED, ""
    try:
        client = m3ter_client(connection=connection)
        puller = _Puller(
            connection=connection, pull=pull, client=client, deadline=deadline, page_size=page_size
        )
        puller.run()
    except _OutOfTime:
        status = PullStatus.PARTIAL
    except (m3ter.APIError, SecretDecryptionError) as exc:
        status = PullStatus.FAILED
        error = f"{m3ter_error_message(exc, connection=connection)} {RESUME_NOTE}"
    except Exception as exc:
        log.exception("m3ter pull %s failed", pull.pk)
        status, error = PullStatus.FAILED, f"Unexpected error: {exc}. {RESUME_NOTE}"
    now = timezone.now()
    pull.status, pull.error, pull.finished_at = status, error, now
    pull.save()
    M3terConnection.objects.filter(pk=connection.pk).update(
        last_pull_at=now, last_pull_status=status, last_pull_error=error, pull_lease_until=None
    )
    return pull


def pulls_enqueue_due(*, now: datetime.datetime | None = None) -> list:
    """The schedule's tick (every minute): a pull of each enabled connection whose last pull
    ended M3TER_PULL_INTERVAL_MINUTES ago, or stopped early with work left, and none running.
    Each is its own task, so each has the worker's whole timeout."""
    from m3tersync.tasks import enqueue_pull

    minutes = settings.M3TER_PULL_INTERVAL_MINUTES
    if minutes <= 0:
        return []
    now = now or timezone.now()
    due = list(
        M3terConnection.objects.filter(enabled=True)
        .filter(
            Q(last_pull_at__isnull=True)
            | Q(last_pull_at__lte=now - datetime.timedelta(minutes=minutes))
            | Q(last_pull_status=PullStatus.PARTIAL)
        )
        .filter(Q(pull_lease_until__isnull=True) | Q(pull_lease_until__lt=now))
        .values_list("pk", flat=True)
    )
    for connection_id in due:
        enqueue_pull(connection_id=connection_id, trigger=PullTrigger.SCHEDULE)
    return due


def pull_request(*, connection: M3terConnection, user=None) -> None:
    """The "Pull now" button: a pull on a worker, queued once the transaction commits."""
    from m3tersync.tasks import enqueue_pull

    connection_id, user_id = connection.pk, getattr(user, "pk", None)
    transaction.on_commit(
        lambda: enqueue_pull(
            connection_id=connection_id, trigger=PullTrigger.MANUAL, user_id=user_id
        )
    )


class _Puller:
    def __init__(self, *, connection, pull, client, deadline, page_size):
        self.connection = connection
        self.pull = pull
        self.client = client
        self.deadline = deadline
        self.page_size = page_size
        self.progress = dict(connection.pull_progress or {})

    def run(self):
        # Accounts first: bills need their account; mappings before bills so a run finds its
        # customer mapping.
        self._sweep("accounts", self.client.accounts.search, self._store_accounts)
        self._scan_external_mappings()
        self._sweep(
            "bills", self.client.bills.search, self._store_bills, prepare=self._prepare_bills
        )

    def _check_time(self):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _OutOfTime

    def _save_page(self, *, kind: str, state: dict, done: bool):
        """Within the page's transaction: where the pull has got to, and the pull's counts.
        When the sweep of `kind` is done, its newest modification time becomes the cursor."""
        changes = {"pull_lease_until": timezone.now() + LEASE}
        if done:
            self.progress.pop(kind, None)
            cursor = _moment(state["highWater"])
            if cursor is not None:
                changes[CURSOR_FIELDS[kind]] = cursor
                setattr(self.connection, CURSOR_FIELDS[kind], cursor)
        else:
            self.progress[kind] = state
        changes["pull_progress"] = self.progress
        M3terConnection.objects.filter(pk=self.connection.pk).update(**changes)
        self.pull.save()

    def _problem(self, *, collection: str, record_id: str, message: str):
        self.pull.records_skipped += 1
        if len(self.pull.problems) < PROBLEMS_KEPT:
            self.pull.problems.append(
                {"collection": collection, "id": record_id, "message": message}
            )

    def _store(self, collection: str, record: dict, write) -> str:
        """Write one record in its own savepoint: a bad record is skipped and reported, the
        rest of the page is kept."""
        try:
            with transaction.atomic():
                return write(record)
        except M3terRecordError as error:
            self._problem(collection=collection, record_id=record.get("id", ""), message=str(error))
            return "skipped"

    def _sweep(self, kind: str, search, store, *, prepare=None):
        """Read `kind` newest first until records older than the cursor (less the overlap)."""
        cursor = getattr(self.connection, CURSOR_FIELDS[kind])
        floor = cursor - CURSOR_OVERLAP if cursor else None
        state = dict(self.progress.get(kind) or {"offset": 0, "ordered": True})
        while True:
            self._check_time()
            page = search(
                from_document=state["offset"],
                page_size=self.page_size,
                sort_by="dtLastModified",
                sort_order="DESC",
            )
            records = _as_dicts(page.data)
            fresh = _triage(records, floor=floor, state=state)
            state["offset"] += len(records)
            # Newest first, a record older than the floor means every later one is too.
            done = len(records) < self.page_size or (
                state["ordered"] and floor is not None and len(fresh) < len(records)
            )
            if prepare is not None:
                fresh = prepare(fresh)
            with transaction.atomic():
                store(fresh)
                if done and not state["ordered"]:
                    self._problem(
                        collection=kind,
                        record_id="",
                        message=f"m3ter's search did not return {kind} newest first, so every "
                        "one was read instead of only those changed since the cursor.",
                    )
                self._save_page(kind=kind, state=state, done=done)
            if done:
                return

    def _scan_external_mappings(self):
        kind = "externalMappings"
        cursor = self.connection.external_mappings_cursor
        floor = cursor - CURSOR_OVERLAP if cursor else None
        state = dict(self.progress.get(kind) or {})
        while True:
            self._check_time()
            try:
                page = self.client.external_mappings.list(
                    external_system_id=EXTERNAL_SYSTEM,
                    page_size=self.page_size,
                    next_token=state.get("nextToken") or m3ter.omit,
                )
            except m3ter.BadRequestError:
                if not state.get("nextToken"):
                    raise
                # A saved page token m3ter no longer accepts: scan again from the start.
                state = {}
                continue
            records = _as_dicts(page.data)
            fresh = _triage(records, floor=floor, state=state)
            state["nextToken"] = page.next_token
            done = not page.next_token
            with transaction.atomic():
                self._store_external_mappings(fresh)
                self._save_page(kind=kind, state=state, done=done)
            if done:
                return

    def _store_accounts(self, records):
        for record in records:
            self.pull.accounts_fetched += 1
            outcome = self._store("accounts", record, _account_write)
            self.pull.accounts_changed += outcome in CHANGED

    def _store_external_mappings(self, records):
        known = _known_integration_ids(r.get("integrationConfigId") for r in records)
        for record in records:
            self.pull.external_mappings_fetched += 1
            integration = record.get("integrationConfigId")
            if integration and integration not in known:
                self._problem(
                    collection="externalMappings",
                    record_id=record.get("id", ""),
                    message=f"integrationConfigId {integration} is not an integration of this "
                    "hub, so the mapping was skipped.",
                )
                continue
            outcome = self._store("externalMappings", record, _external_mapping_write)
            self.pull.external_mappings_changed += outcome in CHANGED

    def _prepare_bills(self, records):
        """Outside the transaction: the changed bills in full, and any account they need."""
        self.pull.bills_fetched += len(records)
        stored = dict(
            Bill.objects.filter(m3ter_id__in=[r.get("id") for r in records]).values_list(
                "m3ter_id", "version"
            )
        )
        changed = [r for r in records if _newer_than_stored(r, stored)]
        complete = bills_complete(client=self.client, records=changed)
        accounts_ensure(client=self.client, account_ids=[r.get("accountId") for r in complete])
        return complete

    def _store_bills(self, records):
        for record in records:
            outcome = self._store("bills", record, _bill_write)
            self.pull.bills_changed += outcome in CHANGED


def _triage(records: list[dict], *, floor, state: dict) -> list[dict]:
    """The records modified since `floor` (all when there is none, and any without a date).
    Keeps in `state` the newest modification seen (the next cursor), the last one, and whether
    they have come newest first so far."""
    newest, previous = _moment(state.get("highWater")), _moment(state.get("last"))
    state.setdefault("ordered", True)
    fresh = []
    for record in records:
        modified = _moment(record.get("dtLastModified"))
        if modified:
            if previous and modified > previous:
                state["ordered"] = False
            previous = modified
            newest = max(newest, modified) if newest else modified
        if floor is None or modified is None or modified >= floor:
            fresh.append(record)
    state["highWater"] = newest.isoformat() if newest else None
    state["last"] = previous.isoformat() if previous else None
    return fresh


CURSOR_FIELDS = {
    "accounts": "accounts_cursor",
    "externalMappings": "external_mappings_cursor",
    "bills": "bills_cursor",
}


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _known_integration_ids(ids) -> set[str]:
    from integrations.models import IntegrationConfiguration

    wanted = [i for i in set(ids) if i and is_uuid(i)]
    return {
        str(pk)
        for pk in IntegrationConfiguration.objects.filter(pk__in=wanted).values_list(
            "pk", flat=True
        )
    }


def _newer_than_stored(record: dict, stored_versions: dict) -> bool:
    stored = stored_versions.get(record.get("id"))
    return stored is None or record.get("version") is None or record["version"] > stored


def _account_write(record: dict) -> str:
    values = parse_record(record, ACCOUNT_FIELDS, collection="accounts", index=None)
    return account_upsert(values=values)[1]


def _external_mapping_write(record: dict) -> str:
    values = parse_record(
        record, EXTERNAL_MAPPING_FIELDS, collection="externalMappings", index=None
    )
    return external_mapping_upsert(values=values)[1]


def _bill_write(record: dict) -> str:
    values, line_items = parse_bill(record)
    return bill_receive(values=values, line_items=line_items)[1]


def bills_complete(*, client: m3ter.M3ter, records: list[dict]) -> list[dict]:
    """The bills with their line items. Records without them (search results, webhook events)
    are read again, one call for all of them; line items m3ter keeps apart are listed. Bills
    deleted in m3ter meanwhile drop out."""
    complete = {r["id"]: r for r in records if r.get("lineItems") is not None and r.get("id")}
    missing = [r["id"] for r in records if r.get("id") and r["id"] not in complete]
    if missing:
        for bill in client.bills.list(ids=missing, page_size=min(len(missing), PAGE_SIZE)):
            complete[bill.id] = bill.to_dict(mode="json")
    for bill_id, record in complete.items():
        if record.get("lineItems") is None:
            record["lineItems"] = _as_dicts(
                client.bills.line_items.list(bill_id=bill_id, page_size=PAGE_SIZE)
            )
    return [complete[r["id"]] for r in records if r.get("id") in complete]


def accounts_ensure(*, client: m3ter.M3ter, account_ids) -> None:
    """Fetch and store the accounts the mirror lacks (a bill's account not pulled yet)."""
    wanted = {i for i in account_ids if i}
    missing = wanted - set(
        Account.objects.filter(m3ter_id__in=wanted).values_list("m3ter_id", flat=True)
    )
    if not missing:
        return
    records = _as_dicts(client.accounts.list(ids=sorted(missing), page_size=PAGE_SIZE).data)
    for record in records:
        try:
            with transaction.atomic():
                _account_write(record)
        except M3terRecordError as error:
            # The bill that needs it is then refused with a clear message of its own.
            log.warning("m3ter account %s not stored: %s", record.get("id"), error)


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


def event_fields(data: dict) -> ParsedEvent:
    """m3ter's events (the Events API and its examples) are {"id", "eventName", "eventTime",
    "m3terEvent": {"eventData": {"newDto": {...the entity...}}}}; "eventType" for the name and an
    "entity" or "payload" object for the entity are accepted too."""
    name = data.get("eventName") or data.get("eventType")
    event_data = (data.get("m3terEvent") or {}).get("eventData") or {}
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
        event_time=_moment(data.get("eventTime")),
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
        secret = connection.webhook_secret()
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
            entity_version=version if isinstance(version, int) and version >= 0 else None,
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
            from m3tersync.tasks import enqueue_inbound_event

            event_pk = event.pk
            transaction.on_commit(lambda: enqueue_inbound_event(event_id=event_pk))
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
        outcome = (
            f"{m3ter_error_message(error, connection=event.connection)} The next pull picks "
            "the change up."
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
        outcome = _bill_write(record)
    return _outcome_status("bill", record, outcome)


def _account_event_apply(entity: dict):
    with transaction.atomic():
        outcome = _account_write(entity)
    return _outcome_status("account", entity, outcome)


def _outcome_status(kind: str, record: dict, outcome: str):
    version = record.get("version")
    if outcome in CHANGED:
        extra = " A bill event was raised." if kind == "bill" else ""
        return (
            InboundEventStatus.PROCESSED,
            f"{kind.capitalize()} {record.get('id')} version {version} {OUTCOME_WORDS[outcome]}."
            + extra,
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
