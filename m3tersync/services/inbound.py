"""A bill arrived: the one place that turns m3ter data coming in (the import command, the REST
API, the pull, the webhook) into the mirror's rows plus a run for every integration that selects
the bill, in one transaction."""

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction

from integrations.rules import integration_exists
from m3terdata.m3ter_file import M3terFile, m3ter_file_read, m3ter_payload_read
from m3terdata.parsing import (
    ACCOUNT_FIELDS,
    EXTERNAL_MAPPING_FIELDS,
    M3terRecordError,
    parse_bill,
    parse_record,
)
from m3terdata.services import account_upsert, bill_upsert, external_mapping_upsert
from runs.services import runs_create_for_bill_event

# The bill_upsert outcomes that make a new version of the bill, which is a bill event.
CHANGED = ("created", "updated")


@dataclass
class UpsertOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_older: int = 0

    def as_text(self):
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.ignored_older} ignored as older"
        )


@dataclass
class ImportResult:
    accounts: UpsertOutcome = field(default_factory=UpsertOutcome)
    bills: UpsertOutcome = field(default_factory=UpsertOutcome)
    external_mappings: UpsertOutcome = field(default_factory=UpsertOutcome)


def bill_event(*, bill):
    """A bill was generated, recalculated or approved: every integration that selects it gets a
    run, created in this transaction and enqueued when it commits."""
    return runs_create_for_bill_event(bill=bill)


def bill_receive(*, values: dict, line_items: list[dict], written_by: str | None = None):
    """Store a bill from m3ter (or written through the API by `written_by`) and, when it is new
    or changed, raise its bill event; returns the bill and bill_upsert's outcome."""
    with transaction.atomic():
        bill, outcome = bill_upsert(values=values, line_items=line_items, written_by=written_by)
        if outcome in CHANGED:
            bill_event(bill=bill)
    return bill, outcome


class ImportStopped(M3terRecordError):
    """A record could not be written after the ones before it were: those stay imported (each
    account, bill and mapping is written in its own transaction), this one and the rest were
    not; `result` counts what was."""

    def __init__(self, *, result: ImportResult, **where):
        super().__init__(**where)
        self.result = result


def m3ter_import(*, payload) -> ImportResult:
    """Import data in m3ter's API shape already in memory (the demo's); see m3ter_import_file."""
    with m3ter_payload_read(payload) as file:
        return _import(file)


def m3ter_import_file(*, stream) -> ImportResult:
    """Import a file in m3ter's API shape, {"accounts": [...], "bills": [...],
    "externalMappings": [...]}, from a binary stream, with memory that does not grow with the
    file. The whole file is checked first: one that is not UTF-8 or JSON (M3terFileError) or
    holds an invalid record (M3terRecordError, naming it) imports nothing. Then accounts, bills
    and external mappings are upserted in that order, each in its own transaction; a record
    that cannot be written (a bill whose account is neither in the file nor stored, a mapping
    to an unknown integration, a database error) stops the import there: ImportStopped."""
    with m3ter_file_read(stream) as file:
        return _import(file)


def _import(file: M3terFile) -> ImportResult:
    result = ImportResult()
    for index, values in file.accounts():
        with _stops_at("accounts", index, values.get("m3ter_id"), result):
            _count(result.accounts, account_upsert(values=values)[1])
    for index, values, line_items in file.bills():
        with _stops_at("bills", index, values.get("m3ter_id"), result):
            _count(result.bills, bill_receive(values=values, line_items=line_items)[1])
    for index, values, record_id in file.external_mappings():
        with _stops_at("externalMappings", index, record_id, result):
            _check_mapping_integration(values, index=index, record_id=record_id)
            _count(result.external_mappings, external_mapping_upsert(values=values)[1])
    return result


@contextmanager
def _stops_at(collection: str, index: int, record_id, result: ImportResult):
    try:
        yield
    except M3terRecordError as error:
        problem, field = error.problem, error.field
    except DatabaseError as error:
        problem, field = f"the database refused it: {str(error).strip()}", "(record)"
    else:
        return
    raise ImportStopped(
        collection=collection,
        index=index,
        record_id=record_id,
        field=field,
        problem=problem,
        result=result,
    ) from None


def _check_mapping_integration(values, *, index, record_id):
    integration_id = values.get("integration_id")
    if integration_id and not integration_exists(integration_id=integration_id):
        raise M3terRecordError(
            collection="externalMappings",
            index=index,
            record_id=record_id,
            field="integrationConfigId",
            problem=f"no integration with id {integration_id!r}",
        )


def _count(outcomes: UpsertOutcome, outcome: str):
    setattr(outcomes, outcome, getattr(outcomes, outcome) + 1)


# The writers of one record in m3ter's shape, for the pull and the webhooks.


def account_record_write(record: dict) -> str:
    values = parse_record(record, ACCOUNT_FIELDS, collection="accounts", index=None)
    return account_upsert(values=values)[1]


def external_mapping_record_write(record: dict) -> str:
    values = parse_record(
        record, EXTERNAL_MAPPING_FIELDS, collection="externalMappings", index=None
    )
    return external_mapping_upsert(values=values)[1]


def bill_record_write(record: dict) -> str:
    values, line_items = parse_bill(record)
    return bill_receive(values=values, line_items=line_items)[1]
