"""The mirror back in m3ter's API shape (camelCase), the inverse of m3terdata.parsing: what the
import reads, this writes, so data can round-trip and the REST API can answer in m3ter's shape."""

import datetime
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal

from m3terdata.parsing import ACCOUNT_FIELDS, BILL_FIELDS, LINE_ITEM_FIELDS


def _json_value(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # m3ter sends JSON numbers; the normalised string keeps the value exact.
        return float(value) if value == Decimal(str(float(value))) else str(value.normalize())
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


# Keys m3ter declares required (never null), written even when empty, with the empty value of
# their type; other empty fields are left out as m3ter leaves them out.
ACCOUNT_REQUIRED = {"code": "", "name": ""}
LINE_ITEM_REQUIRED = {
    "description": "",
    "unit": "",
    "currency": "",
    "quantity": 0,
    "units": 0,
    "conversionRate": 1,
    "convertedSubtotal": 0,
    "averageUnitPrice": 0,
}


def _as_m3ter(instance, fields, *, overrides=None, required=None):
    record = {}
    for key, attribute, _parse, _required in fields:
        value = (overrides or {}).get(attribute, getattr(instance, attribute, None))
        if value in (None, "", {}, []):
            if key in (required or {}):
                record[key] = required[key]
            continue
        record[key] = _json_value(value)
    return record


def account_as_m3ter(account) -> dict:
    return _as_m3ter(account, ACCOUNT_FIELDS, required=ACCOUNT_REQUIRED)


def line_item_as_m3ter(line_item) -> dict:
    return _as_m3ter(line_item, LINE_ITEM_FIELDS, required=LINE_ITEM_REQUIRED)


def bill_as_m3ter(bill, *, line_items=None) -> dict:
    """line_items: the bill's items when already fetched (avoids a query per bill in lists)."""
    record = _as_m3ter(
        bill,
        BILL_FIELDS,
        overrides={"account_m3ter_id": bill.account.m3ter_id},
    )
    record["accountCode"] = bill.account.code
    items = line_items if line_items is not None else bill.line_items.all()
    record["lineItems"] = [line_item_as_m3ter(item) for item in items]
    return record


def bill_as_m3ter_json_stream(bill, *, extra: dict, chunk: int = 2000) -> Iterator[bytes]:
    """The bill in m3ter's shape as compact JSON (plus `extra` fields), its line items read and
    written `chunk` at a time: a bill of 100,000 lines needs the memory of one chunk, not of
    all of them at once."""
    record = {**bill_as_m3ter(bill, line_items=()), **extra}
    del record["lineItems"]
    head = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    yield (head[:-1] + ("," if record else "") + '"lineItems":[').encode()
    items = bill.line_items.order_by("sequence", "pk").iterator(chunk_size=chunk)
    written = 0
    while True:
        batch = [line_item_as_m3ter(item) for _, item in zip(range(chunk), items, strict=False)]
        if not batch:
            break
        text = json.dumps(batch, ensure_ascii=False, separators=(",", ":"))[1:-1]
        yield (("," if written else "") + text).encode()
        written += len(batch)
    yield b"]}"
