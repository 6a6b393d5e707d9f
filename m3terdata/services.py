"""Writes to the m3ter mirror. The mirror is a leaf: what a new or changed bill sets off (runs)
is m3tersync.services.inbound's business, which every road in (import, REST API, pull, webhook)
calls."""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from m3terdata.models import LINE_ITEM_REFERENCE_IDS, Account, Bill, ExternalMapping, LineItem
from m3terdata.parsing import M3terRecordError
from m3terdata.selectors import external_mapping_matching


def _differs(instance, values) -> bool:
    return any(getattr(instance, attribute) != value for attribute, value in values.items())


def _apply(instance, values) -> bool:
    changed = False
    for attribute, value in values.items():
        if getattr(instance, attribute) != value:
            setattr(instance, attribute, value)
            changed = True
    return changed


@dataclass(frozen=True)
class MirrorVersionConflict(Exception):
    """The record changed since the caller read it: it is now at current_version."""

    current_version: int


AUDIT = ("created_at", "created_by", "last_modified_by")


def _written_through_api(stored, values: dict, written_by: str) -> dict:
    """m3ter's optimistic locking, for a record written through the hub's API by `written_by`:
    a new record is version 1; an update names the version it read (a stale one raises
    MirrorVersionConflict) and counts it up by exactly one."""
    if stored is not None and values.get("version") != stored.version:
        raise MirrorVersionConflict(current_version=stored.version)
    # The hub, not the body, says when and by whom the record was written.
    values = {key: value for key, value in values.items() if key not in AUDIT}
    if stored is None:
        return {**values, "version": 1, "created_by": written_by, "last_modified_by": written_by}
    return {**values, "version": stored.version + 1, "last_modified_by": written_by}


def account_upsert(*, values: dict, written_by: str | None = None) -> tuple[Account, str]:
    """Create or update an account from parsed values; returns it and 'created', 'updated',
    'unchanged' or 'ignored_older'. From m3ter (written_by None) an older version is ignored;
    through the API (written_by the user) it is locked as m3ter's API locks it, and a code
    another account has is refused."""
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(m3ter_id=values["m3ter_id"]).first()
        if written_by is not None:
            values = _written_through_api(account, values, written_by)
            _refuse_duplicate_code(values)
        if account is None:
            return Account.objects.create(**values), "created"
        if "version" in values and values["version"] < account.version:
            return account, "ignored_older"
        if not _apply(account, values):
            return account, "unchanged"
        account.save()
        return account, "updated"


# Line item fields that never reach Paddle, so a change to them alone is not a change to send.
NOT_DELIVERED = {
    "m3ter_id",
    "currency",
    "conversion_rate",
    "converted_subtotal",
    "average_unit_price",
    *(field for _key, field in LINE_ITEM_REFERENCE_IDS),
}


def _refuse_duplicate_code(values):
    code = values.get("code")
    if Account.objects.filter(code=code).exclude(m3ter_id=values["m3ter_id"]).exists():
        raise ValidationError({"code": f"Another account has the code {code!r}; codes are unique."})


# Line items hashed and written a chunk at a time: the memory a bill's lines take is that of one
# chunk, however many lines the bill has.
LINE_ITEM_CHUNK = 2000


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bill_content_hash(*, bill_values: dict, line_items: Iterable[dict]) -> str:
    """A digest of what reaches Paddle, so an unchanged bill is not sent again: exactly the
    digest of json.dumps({"bill": ..., "lines": [...]}, sort_keys=True, default=str) that stored
    bills carry, taken a chunk of lines at a time rather than of that list in memory."""
    keys = (
        "currency",
        "bill_date",
        "due_date",
        "start_date",
        "end_date",
        "purchase_order_number",
        "account_m3ter_id",
    )
    digest = hashlib.sha256()
    bill = json.dumps({key: bill_values.get(key) for key in keys}, sort_keys=True, default=str)
    digest.update(f'{{"bill": {bill}, "lines": ['.encode())
    separator = b""
    for chunk in _chunks(line_items, LINE_ITEM_CHUNK):
        lines = [
            {key: value for key, value in item.items() if key not in NOT_DELIVERED}
            for item in chunk
        ]
        # A list's JSON without its brackets: the chunks joined are the whole list's JSON.
        digest.update(separator + json.dumps(lines, sort_keys=True, default=str)[1:-1].encode())
        separator = b", "
    digest.update(b"]}")
    return digest.hexdigest()


def bill_upsert(
    *, values: dict, line_items: Iterable[dict], written_by: str | None = None
) -> tuple[Bill, str]:
    """Create or update a bill with its line items (all replaced). From m3ter (written_by None) a
    version older than the stored one is ignored; through the API it is locked as m3ter's API
    locks it. Only the mirror is written: m3tersync.services.bill_receive adds the runs.
    line_items is read twice (the content hash, then the rows), so a list or an iterable that
    reads them again (an import's spooled lines) will do."""
    values = dict(values)
    account_m3ter_id = values.pop("account_m3ter_id")
    with transaction.atomic():
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
        if written_by is not None:
            values = _written_through_api(bill, values, written_by)
        if bill is None:
            bill = Bill.objects.create(**values)
            outcome = "created"
        elif values.get("version", bill.version) < bill.version:
            return bill, "ignored_older"
        elif written_by is not None and not _differs(
            bill, {key: value for key, value in values.items() if key not in ("version", *AUDIT)}
        ):
            # Written again as it was: the version counts the write, but there is nothing new
            # to deliver, so it is no bill event.
            _apply(bill, values)
            bill.save()
            return bill, "unchanged"
        elif not _apply(bill, values):
            return bill, "unchanged"
        else:
            bill.save()
            bill.line_items.all().delete()
            outcome = "updated"
        for chunk in _chunks(line_items, LINE_ITEM_CHUNK):
            LineItem.objects.bulk_create([LineItem(bill=bill, **item) for item in chunk])
    return bill, outcome


def external_mapping_upsert(*, values: dict) -> tuple[ExternalMapping, str]:
    values = dict(values)
    with transaction.atomic():
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


def external_mapping_remember(
    *,
    m3ter_entity: str,
    m3ter_id: str,
    external_system: str,
    external_table: str,
    external_id: str,
    integration_id,
) -> ExternalMapping:
    """Store an id a destination learnt for an m3ter entity (a Paddle customer, an address), so
    the next delivery finds it instead of creating it again."""
    values = {
        "m3ter_entity": m3ter_entity,
        "m3ter_id": m3ter_id,
        "external_system": external_system,
        "external_table": external_table,
        "external_id": external_id,
        "integration_id": integration_id,
    }
    try:
        with transaction.atomic():
            mapping, _ = external_mapping_upsert(values=values)
    except IntegrityError:
        # Another delivery for the same account stored it a moment earlier (bills of one
        # account going out at once, e.g. after an outage): that row is found and updated now.
        mapping, _ = external_mapping_upsert(values=values)
    return mapping


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
    (MirrorVersionConflict) and a successful update counts the version up by one, as
    m3ter does."""
    try:
        with transaction.atomic():
            current = ExternalMapping.objects.select_for_update().get(pk=mapping.pk)
            if expected_version != current.version:
                raise MirrorVersionConflict(current_version=current.version)
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
