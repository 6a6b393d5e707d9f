"""The m3ter pull: a sweep of accounts, external mappings and bills since each cursor (see the
package docstring for the cursor strategy)."""

import datetime
import logging
import time
import uuid

import m3ter
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.tasks import async_task

from credentials.crypto import SecretDecryptionError
from integrations.rules import integration_ids_existing
from m3terdata.models import Account, Bill
from m3terdata.parsing import (
    M3terRecordError,
)
from m3terpaddle.text import sentences
from m3tersync.models import (
    M3terConnection,
    M3terPull,
    PullStatus,
    PullTrigger,
)
from m3tersync.services.connections import m3ter_client, m3ter_error_message
from m3tersync.services.inbound import (
    CHANGED,
    account_record_write,
    bill_record_write,
    external_mapping_record_write,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # m3ter's maximum
# Records modified this long before a cursor are read again: clocks and search indexes lag.
CURSOR_OVERLAP = datetime.timedelta(minutes=5)
# A pull holds its connection this long past its last saved page; a dead worker's lease lapses.
LEASE = datetime.timedelta(minutes=5)
EXTERNAL_SYSTEM = "Paddle"
PROBLEMS_KEPT = 100
RESUME_NOTE = "The next pull resumes after the last page this one stored."


# --- the pull -------------------------------------------------------------------------------------


class _OutOfTime(Exception):
    pass


def m3ter_moment(value) -> datetime.datetime | None:
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
        error = sentences(m3ter_error_message(exc, connection=connection), RESUME_NOTE)
    except Exception as exc:
        log.exception("m3ter pull %s failed", pull.pk)
        status, error = PullStatus.FAILED, sentences(f"Unexpected error: {exc}", RESUME_NOTE)
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
        _pull_enqueue(connection_id=connection_id, trigger=PullTrigger.SCHEDULE)
    return due


def pull_request(*, connection: M3terConnection, user=None) -> None:
    """The "Pull now" button: a pull on a worker, queued once the transaction commits."""
    connection_id, user_id = connection.pk, getattr(user, "pk", None)
    transaction.on_commit(
        lambda: _pull_enqueue(
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
            cursor = m3ter_moment(state["highWater"])
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
            outcome = self._store("accounts", record, account_record_write)
            self.pull.accounts_changed += outcome in CHANGED

    def _store_external_mappings(self, records):
        known = integration_ids_existing(
            integration_ids=[r.get("integrationConfigId") for r in records]
        )
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
            outcome = self._store("externalMappings", record, external_mapping_record_write)
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
            outcome = self._store("bills", record, bill_record_write)
            self.pull.bills_changed += outcome in CHANGED


def _triage(records: list[dict], *, floor, state: dict) -> list[dict]:
    """The records modified since `floor` (all when there is none, and any without a date).
    Keeps in `state` the newest modification seen (the next cursor), the last one, and whether
    they have come newest first so far."""
    newest, previous = m3ter_moment(state.get("highWater")), m3ter_moment(state.get("last"))
    state.setdefault("ordered", True)
    fresh = []
    for record in records:
        modified = m3ter_moment(record.get("dtLastModified"))
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


def _newer_than_stored(record: dict, stored_versions: dict) -> bool:
    stored = stored_versions.get(record.get("id"))
    return stored is None or record.get("version") is None or record["version"] > stored


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
                account_record_write(record)
        except M3terRecordError as error:
            # The bill that needs it is then refused with a clear message of its own.
            log.warning("m3ter account %s not stored: %s", record.get("id"), error)


def _pull_enqueue(*, connection_id, trigger: str, user_id=None) -> None:
    # By dotted path: tasks.py imports the services, never the reverse.
    async_task(
        "m3tersync.tasks.pull_connection_task",
        str(connection_id),
        str(trigger),
        user_id,
        task_name=f"m3ter pull {connection_id}",
    )
