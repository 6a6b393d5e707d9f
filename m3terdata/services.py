"""Writes to the m3ter mirror. The import, the REST API, the m3ter pull and the webhook all come
through here, so a bill that arrives by any road is the same bill event."""

import hashlib
import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from m3terdata.models import Account, Bill, ExternalMapping, LineItem
from m3terdata.parsing import (
    ACCOUNT_FIELDS,
    EXTERNAL_MAPPING_FIELDS,
    M3terRecordError,
    parse_bill,
    parse_record,
)
from m3terdata.selectors import external_mapping_matching


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
    bill_events: list = field(default_factory=list)


def _apply(instance, values) -> bool:
    changed = False
    for attribute, value in values.items():
        if getattr(instance, attribute) != value:
            setattr(instance, attribute, value)
            changed = True
    return changed


def account_upsert(*, values: dict) -> tuple[Account, str]:
    """Create or update an account from parsed values; returns it and 'created', 'updated',
    'unchanged' or 'ignored_older'."""
    account = Account.objects.filter(m3ter_id=values["m3ter_id"]).first()
    if account is None:
        return Account.objects.create(**values), "created"
    if "version" in values and values["version"] < account.version:
        return account, "ignored_older"
    if not _apply(account, values):
        return account, "unchanged"
    account.save()
    return account, "updated"


def bill_content_hash(*, bill_values: dict, line_items: list[dict]) -> str:
    """A digest of what reaches Paddle, so an unchanged bill is not sent again."""
    keys = (
        "currency",
        "bill_date",
        "due_date",
        "start_date",
        "end_date",
        "purchase_order_number",
        "account_m3ter_id",
    )
    content = {
        "bill": {key: bill_values.get(key) for key in keys},
        "lines": [
            {key: item.get(key) for key in sorted(item) if key != "m3ter_id"} for item in line_items
        ],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def bill_upsert(*, values: dict, line_items: list[dict]) -> tuple[Bill, str]:
    """Create or update a bill with its line items (all replaced). A version older than the stored
    one is ignored. Calls bill_event when the bill is new or changed."""
    values = dict(values)
    account_m3ter_id = values.pop("account_m3ter_id")
    account = Account.objects.filter(m3ter_id=account_m3ter_id).first()
    if account is None:
        raise M3terRecordError(
            collection="bills",
            index=None,
            record_id=values["m3ter_id"],
            field="accountId",
            problem=f"no account with id {account_m3ter_id!r}; import the account first",
        )
    values["account"] = account
    values["content_hash"] = bill_content_hash(
        bill_values={**values, "account_m3ter_id": account_m3ter_id}, line_items=line_items
    )
    bill = Bill.objects.select_for_update().filter(m3ter_id=values["m3ter_id"]).first()
    if bill is None:
        bill = Bill.objects.create(**values)
        outcome = "created"
    elif values.get("version", bill.version) < bill.version:
        return bill, "ignored_older"
    elif not _apply(bill, values):
        return bill, "unchanged"
    else:
        bill.save()
        bill.line_items.all().delete()
        outcome = "updated"
    LineItem.objects.bulk_create([LineItem(bill=bill, **item) for item in line_items])
    bill_event(bill=bill)
    return bill, outcome


def bill_event(*, bill: Bill):
    """A bill was generated, recalculated or approved: every integration that selects it gets a
    run, created in this transaction and enqueued when it commits."""
    from runs.services import runs_create_for_bill_event

    return runs_create_for_bill_event(bill=bill)


def external_mapping_upsert(*, values: dict) -> tuple[ExternalMapping, str]:
    values = dict(values)
    mapping = None
    if "id" in values:
        mapping = ExternalMapping.objects.filter(id=values["id"]).first()
    if mapping is None:
        mapping = external_mapping_matching(values=values).first()
    if mapping is None:
        return ExternalMapping.objects.create(**values), "created"
    if "version" in values and values["version"] < mapping.version:
        return mapping, "ignored_older"
    values.pop("id", None)
    if not _apply(mapping, values):
        return mapping, "unchanged"
    mapping.save()
    return mapping, "updated"


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
                bill, outcome = bill_upsert(values=values, line_items=line_items)
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
    from integrations.models import IntegrationConfiguration

    integration_id = values.get("integration_id")
    if integration_id and not IntegrationConfiguration.objects.filter(id=integration_id).exists():
        raise M3terRecordError(
            collection="externalMappings",
            index=index,
            record_id=record_id,
            field="integrationConfigId",
            problem=f"no integration with id {integration_id!r}",
        )


def _count(outcomes: UpsertOutcome, outcome: str):
    setattr(outcomes, outcome, getattr(outcomes, outcome) + 1)


@dataclass(frozen=True)
class ExternalMappingVersionConflict(Exception):
    """The mapping changed since the caller read it: it is now at current_version."""

    current_version: int


def _mapping_integrity_error(values) -> ValidationError:
    return ValidationError(
        {
            "m3ter_id": (
                f"A mapping of {values['m3ter_entity']} {values['m3ter_id']} to "
                f"{values['external_system']} {values['external_table']} exists already for this "
                "integration; update that one instead."
            )
        }
    )


def external_mapping_create(*, values: dict) -> ExternalMapping:
    """A new mapping at version 1; a second mapping of the same entity to the same external table
    (for the same integration) is refused, as m3ter does. Callers check that an integration_id
    given names an integration: the mirror does not know integrations."""
    values = {key: value for key, value in values.items() if key not in ("id", "version")}
    if external_mapping_matching(values=values).exists():
        raise _mapping_integrity_error(values)
    try:
        with transaction.atomic():
            mapping, _ = external_mapping_upsert(values=values)
    except IntegrityError:
        raise _mapping_integrity_error(values) from None
    return mapping


def external_mapping_update(
    *, mapping: ExternalMapping, values: dict, expected_version: int
) -> ExternalMapping:
    """Replace the mapping's fields; a stale expected_version is refused
    (ExternalMappingVersionConflict) and a successful update counts the version up by one, as
    m3ter does."""
    try:
        with transaction.atomic():
            current = ExternalMapping.objects.select_for_update().get(pk=mapping.pk)
            if expected_version != current.version:
                raise ExternalMappingVersionConflict(current_version=current.version)
            values = {key: value for key, value in values.items() if key != "version"}
            values.setdefault("integration_id", None)
            updated, _ = external_mapping_upsert(
                values={**values, "id": current.pk, "version": current.version + 1}
            )
    except IntegrityError:
        raise _mapping_integrity_error(values) from None
    return updated


def external_mapping_delete(*, mapping: ExternalMapping) -> None:
    mapping.delete()
