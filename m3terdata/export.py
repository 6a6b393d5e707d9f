"""The mirror back in m3ter's API shape (camelCase), the inverse of m3terdata.parsing: what the
import reads, this writes, so data can round-trip and the REST API can answer in m3ter's shape."""

import datetime
import uuid
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


def _as_m3ter(instance, fields, *, overrides=None):
    record = {}
    for key, attribute, _parse, _required in fields:
        value = (overrides or {}).get(attribute, getattr(instance, attribute, None))
        if value in (None, "", {}, []):
            continue
        record[key] = _json_value(value)
    return record


def account_as_m3ter(account) -> dict:
    return _as_m3ter(account, ACCOUNT_FIELDS)


def line_item_as_m3ter(line_item) -> dict:
    return _as_m3ter(line_item, LINE_ITEM_FIELDS)


def bill_as_m3ter(bill, *, line_items=None) -> dict:
    """line_items: the bill's items when already fetched (avoids a query per bill in lists)."""
    record = _as_m3ter(bill, BILL_FIELDS, overrides={"account_m3ter_id": bill.account.m3ter_id})
    record["accountCode"] = bill.account.code
    items = line_items if line_items is not None else bill.line_items.all()
    record["lineItems"] = [line_item_as_m3ter(item) for item in items]
    return record
