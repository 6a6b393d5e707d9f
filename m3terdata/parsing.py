"""Reading m3ter's API shape (camelCase JSON) into model field values.

Every record is checked field by field, and a problem raises M3terRecordError naming the
collection, the record's index and id, and the field, so a person can find it in the file."""

import datetime
import math
import uuid
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_date, parse_datetime

from m3terdata.models import LINE_ITEM_REFERENCE_IDS, BillingFrequency, BillStatus, LineItemType


class M3terRecordError(ValueError):
    def __init__(self, *, collection: str, index: int | None, record_id, field: str, problem: str):
        self.collection = collection
        self.index = index
        self.record_id = record_id
        self.field = field
        self.problem = problem
        where = collection if index is None else f"{collection}[{index}]"
        ident = f" (id {record_id!r})" if record_id else ""
        super().__init__(f"{where}{ident}: field '{field}': {problem}")


class FieldProblem(ValueError):
    """Raised by a field parser; the caller adds which record and field it was."""


# The mirror's DecimalFields hold 24 digits, 10 of them decimals; m3ter amounts never come close.
MAX_DECIMAL = Decimal(10) ** 14
DECIMAL_PLACES = Decimal(10) ** -10
# PositiveBigIntegerField's and PositiveIntegerField's upper bounds on PostgreSQL.
MAX_INTEGER = 2**63 - 1
MAX_SMALL_INTEGER = 2**31 - 1


def _text(value, *, max_length=None):
    if not isinstance(value, str):
        raise FieldProblem(f"expected a string, got {type(value).__name__}")
    # PostgreSQL cannot store a NUL character in text.
    if "\x00" in value:
        raise FieldProblem("contains a NUL character (\\u0000), which is not allowed")
    if max_length and len(value) > max_length:
        raise FieldProblem(f"is {len(value)} characters long; at most {max_length} are allowed")
    return value


def _decimal(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FieldProblem(f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise FieldProblem(f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise FieldProblem(f"expected a finite number, got {value!r}")
    if abs(number) >= MAX_DECIMAL:
        raise FieldProblem(f"{value!r} is out of range; amounts must be below 10^14")
    return number.quantize(DECIMAL_PLACES) if number.as_tuple().exponent < -10 else number


def _integer(value, *, maximum=MAX_INTEGER):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise FieldProblem(f"expected a whole number from 0 to {maximum}, got {value!r}")
    return value


def _small_integer(value):
    return _integer(value, maximum=MAX_SMALL_INTEGER)


def _boolean(value):
    if not isinstance(value, bool):
        raise FieldProblem(f"expected true or false, got {value!r}")
    return value


def _date(value):
    # m3ter sends dates as "2026-11-01"; accept a date-time too and keep its date.
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None and isinstance(value, str):
        moment = _parse_moment(value)
        parsed = moment.date() if moment else None
    if parsed is None:
        raise FieldProblem(f"expected a date like 2026-11-01, got {value!r}")
    return parsed


def _parse_moment(value):
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def _datetime(value):
    moment = _parse_moment(value) if isinstance(value, str) else None
    if moment is None:
        raise FieldProblem(f"expected a date-time like 2026-11-01T00:00:00Z, got {value!r}")
    return moment


def _choice(choices):
    # A set made once: `choices.values` builds its list again on every call, for every line.
    allowed = frozenset(choices.values)

    def parse(value):
        if not isinstance(value, str) or value not in allowed:
            raise FieldProblem(f"{value!r} is not one of {', '.join(choices.values)}")
        return value

    return parse


def _currency(value):
    value = _text(value)
    if len(value) != 3 or not value.isalpha():
        raise FieldProblem(f"expected a three-letter currency code such as USD, got {value!r}")
    return value.upper()


def _object(value):
    if not isinstance(value, dict):
        raise FieldProblem(f"expected an object, got {type(value).__name__}")
    return value


# JSON columns have no length of their own: these caps keep a record's keys and texts to what
# m3ter's custom fields and addresses hold.
MAX_CUSTOM_FIELDS = 200
MAX_CUSTOM_FIELD_KEY = 200
MAX_CUSTOM_FIELD_TEXT = 1000


def _custom_fields(value):
    value = _object(value)
    if len(value) > MAX_CUSTOM_FIELDS:
        raise FieldProblem(
            f"has {len(value)} custom fields; at most {MAX_CUSTOM_FIELDS} are allowed"
        )
    for key, item in value.items():
        if len(key) > MAX_CUSTOM_FIELD_KEY:
            raise FieldProblem(
                f"customFields has a key {len(key)} characters long; at most "
                f"{MAX_CUSTOM_FIELD_KEY} are allowed"
            )
        if isinstance(item, str) and len(item) > MAX_CUSTOM_FIELD_TEXT:
            raise FieldProblem(
                f"customFields.{key} is {len(item)} characters long; at most "
                f"{MAX_CUSTOM_FIELD_TEXT} are allowed"
            )
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise FieldProblem(f"customFields.{key} must be a string or a number, got {item!r}")
        if isinstance(item, float) and not math.isfinite(item):
            raise FieldProblem(f"customFields.{key} must be a finite number, got {item!r}")
        if "\x00" in key or (isinstance(item, str) and "\x00" in item):
            raise FieldProblem(
                f"customFields.{key!r} contains a NUL character, which is not allowed"
            )
    return value


# Each address key with its longest value.
ADDRESS_LENGTHS = {
    "addressLine1": 200,
    "addressLine2": 200,
    "addressLine3": 200,
    "addressLine4": 200,
    "locality": 200,
    "region": 200,
    "postCode": 50,
    "country": 100,
}


def _address(value):
    value = _object(value)
    unknown = sorted(set(value) - set(ADDRESS_LENGTHS))
    if unknown:
        raise FieldProblem(f"unknown address keys {unknown}; known: {', '.join(ADDRESS_LENGTHS)}")
    try:
        return {
            key: _text(item, max_length=ADDRESS_LENGTHS[key])
            for key, item in value.items()
            if item not in (None, "")
        }
    except FieldProblem as problem:
        raise FieldProblem(f"address: {problem}") from None


def _email(value):
    value = _text(value, max_length=254)
    if value and ("@" not in value or value.startswith("@") or value.endswith("@")):
        raise FieldProblem(f"{value!r} is not an e-mail address")
    return value


def _uuid(value):
    value = _text(value)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise FieldProblem(f"expected a UUID, got {value!r}") from None


def _id(value):
    value = _text(value, max_length=64)
    if not value.strip():
        raise FieldProblem("must not be empty")
    return value


def _who(value):
    return _text(value, max_length=200)


# m3ter's audit fields, kept as m3ter sent them (dtLastModified is when the hub's copy changed).
AUDIT_FIELDS = (
    ("dtCreated", "created_at", _datetime, False),
    ("createdBy", "created_by", _who, False),
    ("lastModifiedBy", "last_modified_by", _who, False),
)

# (camelCase key, model field, parser, required)
ACCOUNT_FIELDS = (
    ("id", "m3ter_id", _id, True),
    ("version", "version", _integer, False),
    ("code", "code", lambda v: _text(v, max_length=200), True),
    ("name", "name", lambda v: _text(v, max_length=200), True),
    ("emailAddress", "email", _email, False),
    ("currency", "currency", _currency, False),
    ("customFields", "custom_fields", _custom_fields, False),
    ("address", "address", _address, False),
    ("parentAccountId", "parent_account_id", lambda v: _text(v, max_length=64), False),
    ("purchaseOrderNumber", "purchase_order_number", lambda v: _text(v, max_length=100), False),
    ("daysBeforeBillDue", "days_before_bill_due", _small_integer, False),
    *AUDIT_FIELDS,
)

BILL_FIELDS = (
    ("id", "m3ter_id", _id, True),
    ("version", "version", _integer, False),
    ("accountId", "account_m3ter_id", _id, True),
    ("status", "status", _choice(BillStatus), False),
    ("locked", "locked", _boolean, False),
    ("billDate", "bill_date", _date, False),
    ("dueDate", "due_date", _date, False),
    ("startDate", "start_date", _date, False),
    ("endDate", "end_date", _date, False),
    ("currency", "currency", _currency, True),
    ("billTotal", "total", _decimal, False),
    ("billingFrequency", "billing_frequency", _choice(BillingFrequency), False),
    ("billJobId", "bill_job_id", lambda v: _text(v, max_length=64), False),
    ("purchaseOrderNumber", "purchase_order_number", lambda v: _text(v, max_length=100), False),
    (
        "sequentialInvoiceNumber",
        "sequential_invoice_number",
        lambda v: _text(v, max_length=100),
        False,
    ),
    ("lastCalculatedDate", "last_calculated_at", _datetime, False),
    ("dtApproved", "approved_at", _datetime, False),
    *AUDIT_FIELDS,
)

LINE_ITEM_FIELDS = (
    ("id", "m3ter_id", lambda v: _text(v, max_length=64), False),
    ("lineItemType", "line_item_type", _choice(LineItemType), True),
    ("description", "description", lambda v: _text(v, max_length=500), False),
    ("quantity", "quantity", _decimal, False),
    ("units", "units", _decimal, False),
    ("unit", "unit", lambda v: _text(v, max_length=100), False),
    ("subtotal", "subtotal", _decimal, True),
    ("aggregationId", "aggregation_id", lambda v: _text(v, max_length=64), False),
    ("productId", "product_id", lambda v: _text(v, max_length=64), False),
    ("productName", "product_name", lambda v: _text(v, max_length=200), False),
    ("productCode", "product_code", lambda v: _text(v, max_length=200), False),
    ("servicePeriodStartDate", "service_period_start", _datetime, False),
    ("servicePeriodEndDate", "service_period_end", _datetime, False),
    ("sequenceNumber", "sequence", _small_integer, False),
    ("currency", "currency", _currency, False),
    ("conversionRate", "conversion_rate", _decimal, False),
    ("convertedSubtotal", "converted_subtotal", _decimal, False),
    ("averageUnitPrice", "average_unit_price", _decimal, False),
    *(
        (key, field, lambda v: _text(v, max_length=64), False)
        for key, field in LINE_ITEM_REFERENCE_IDS
    ),
)

EXTERNAL_MAPPING_FIELDS = (
    ("id", "id", _uuid, False),
    ("version", "version", _integer, False),
    ("m3terEntity", "m3ter_entity", lambda v: _text(v, max_length=64), True),
    ("m3terId", "m3ter_id", _id, True),
    ("externalSystem", "external_system", lambda v: _text(v, max_length=64), True),
    ("externalTable", "external_table", lambda v: _text(v, max_length=64), True),
    ("externalId", "external_id", lambda v: _text(v, max_length=200), True),
    ("integrationConfigId", "integration_id", _uuid, False),
    # dtCreated is when the hub first stored the mapping.
    *AUDIT_FIELDS[1:],
)


def parse_record(
    record, fields, *, collection: str, index: int | None, field_prefix: str = "", record_id=None
):
    """Model field values from one camelCase record; unknown keys are ignored, as m3ter adds
    fields over time. Null counts as absent. record_id names the enclosing record (a bill, for
    its line items) in errors."""
    if record_id is None and isinstance(record, dict):
        record_id = record.get("id")
    if not isinstance(record, dict):
        raise M3terRecordError(
            collection=collection,
            index=index,
            record_id=None,
            field=field_prefix or "(record)",
            problem=f"expected an object, got {type(record).__name__}",
        )
    values = {}
    for key, attribute, parse, required in fields:
        value = record.get(key)
        if value is None:
            if required:
                raise M3terRecordError(
                    collection=collection,
                    index=index,
                    record_id=record_id,
                    field=field_prefix + key,
                    problem="is required",
                )
            continue
        try:
            values[attribute] = parse(value)
        except FieldProblem as problem:
            raise M3terRecordError(
                collection=collection,
                index=index,
                record_id=record_id,
                field=field_prefix + key,
                problem=str(problem),
            ) from None
    return values


def parse_bill_head(record, *, collection: str = "bills", index: int | None = None) -> dict:
    """A bill's own values, without its line items."""
    return parse_record(record, BILL_FIELDS, collection=collection, index=index)


def line_items_not_a_list(*, collection: str, index: int | None, bill_id) -> M3terRecordError:
    return M3terRecordError(
        collection=collection,
        index=index,
        record_id=bill_id,
        field="lineItems",
        problem="expected a list of line items",
    )


def parse_line_item(raw, *, position: int, collection: str, index: int | None, bill_id) -> dict:
    """One line item's values as m3ter sent them; line_item_complete adds what needs the bill."""
    return parse_record(
        raw,
        LINE_ITEM_FIELDS,
        collection=collection,
        index=index,
        field_prefix=f"lineItems[{position}].",
        record_id=bill_id,
    )


class LineNumbering:
    """m3ter's order of a bill's lines: by sequenceNumber when every line has one (a repeat is
    refused), else the order received. Told one line at a time, so that a bill's lines need not
    be in memory together to be numbered."""

    def __init__(self):
        self.by_sequence = True
        self._sequences = set()
        self._lines = 0

    def add(self, item: dict) -> None:
        if not self.by_sequence:
            return
        if "sequence" not in item:
            self.by_sequence = False
            self._sequences = set()
            return
        self._sequences.add(item["sequence"])
        self._lines += 1

    def check(self, *, collection: str, index: int | None, bill_id) -> None:
        """After the last line; only the order is kept after it."""
        sequences, self._sequences = self._sequences, set()
        if self.by_sequence and len(sequences) != self._lines:
            raise M3terRecordError(
                collection=collection,
                index=index,
                record_id=bill_id,
                field="lineItems[].sequenceNumber",
                problem="sequence numbers repeat",
            )

    def sequence(self, item: dict, position: int) -> int:
        return item["sequence"] if self.by_sequence else position


def line_item_complete(item: dict, *, currency: str, sequence: int) -> dict:
    """The line as the mirror stores it: at its position, and with m3ter's required amounts
    where the line left them out (the bill's currency at rate 1, and the unit price the
    subtotal and quantity imply)."""
    quantity = item.get("quantity") or 0
    average = item["subtotal"] / quantity if quantity else Decimal(0)
    return {
        "currency": currency,
        "conversion_rate": Decimal(1),
        "converted_subtotal": item["subtotal"],
        "average_unit_price": average.quantize(DECIMAL_PLACES),
        **item,
        "sequence": sequence,
    }


def bill_total_complete(
    values: dict, *, lines_subtotal: Decimal, collection: str, index: int | None
) -> dict:
    """The bill's values with its total: m3ter's bills always carry billTotal, but a bill
    written by hand may leave it out, and its total is then its lines' subtotals summed, the
    amount its Paddle invoice is made of (not 0, which its pages would show)."""
    if "total" in values:
        return values
    if abs(lines_subtotal) >= MAX_DECIMAL:
        raise M3terRecordError(
            collection=collection,
            index=index,
            record_id=values["m3ter_id"],
            field="billTotal",
            problem=f"is left out, and the line items' subtotals sum to {lines_subtotal}, beyond "
            "the 10^14 amounts must stay below; send billTotal, or fewer or smaller lines",
        )
    return {**values, "total": lines_subtotal}


def parse_bill(record, *, collection: str = "bills", index: int | None = None):
    """A bill's values and its line items' values, in m3ter's order (a bill that arrives whole:
    the REST API, the pull, a webhook; a file streams through m3terdata.m3ter_file)."""
    values = parse_bill_head(record, collection=collection, index=index)
    bill_id = values["m3ter_id"]
    raw_items = record.get("lineItems") or []
    if not isinstance(raw_items, list):
        raise line_items_not_a_list(collection=collection, index=index, bill_id=bill_id)
    numbering = LineNumbering()
    items = []
    for position, raw in enumerate(raw_items):
        item = parse_line_item(
            raw, position=position, collection=collection, index=index, bill_id=bill_id
        )
        numbering.add(item)
        items.append(item)
    numbering.check(collection=collection, index=index, bill_id=bill_id)
    for position, item in enumerate(items):
        items[position] = line_item_complete(
            item, currency=values["currency"], sequence=numbering.sequence(item, position)
        )
    values = bill_total_complete(
        values,
        lines_subtotal=sum((item["subtotal"] for item in items), Decimal(0)),
        collection=collection,
        index=index,
    )
    return values, items
