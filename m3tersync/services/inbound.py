"""A bill arrived: the one place that turns m3ter data coming in (the import command, the REST
API, the pull, the webhook) into the mirror's rows plus a run for every integration that selects
the bill, in one transaction."""

from dataclasses import dataclass, field

from django.db import transaction

from integrations.rules import integration_exists
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


def _collection(payload, key):
    records = payload.get(key, [])
    if not isinstance(records, list):
        raise M3terRecordError(
            collection=key, index=None, record_id=None, field=key, problem="expected a list"
        )
    return records


def m3ter_import(*, payload) -> ImportResult:
    """Upsert accounts, then bills, then external mappings from m3ter's API shape, all or
    nothing: the first invalid record rolls everything back and is named in the error."""
    if not isinstance(payload, dict):
        raise M3terRecordError(
            collection="(file)",
            index=None,
            record_id=None,
            field="(top level)",
            problem='expected an object like {"accounts": [...], "bills": [...], '
            '"externalMappings": [...]}',
        )
    result = ImportResult()
    with transaction.atomic():
        for index, record in enumerate(_collection(payload, "accounts")):
            values = parse_record(record, ACCOUNT_FIELDS, collection="accounts", index=index)
            _, outcome = account_upsert(values=values)
            _count(result.accounts, outcome)
        for index, record in enumerate(_collection(payload, "bills")):
            values, line_items = parse_bill(record, index=index)
            try:
                _, outcome = bill_receive(values=values, line_items=line_items)
            except M3terRecordError as error:
                raise M3terRecordError(
                    collection="bills",
                    index=index,
                    record_id=error.record_id,
                    field=error.field,
                    problem=error.problem,
                ) from None
            _count(result.bills, outcome)
        for index, record in enumerate(_collection(payload, "externalMappings")):
            values = parse_record(
                record, EXTERNAL_MAPPING_FIELDS, collection="externalMappings", index=index
            )
            _check_mapping_integration(values, index=index, record_id=record.get("id"))
            _, outcome = external_mapping_upsert(values=values)
            _count(result.external_mappings, outcome)
    return result


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
