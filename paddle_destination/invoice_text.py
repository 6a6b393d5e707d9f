"""The words on the Paddle invoice: what the customer reads for each line and for the bill.

Pure functions over m3ter's line items and bill. Paddle shows the customer `price.name` (≤150)
for each item and `billing_details.additional_information` (≤1500) for the invoice;
`price.description` is for the merchant only (docs/paddle-invoice.md lists every field).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from m3terdata.models import LineItemType

PRICE_DESCRIPTION_MAX = 500
PRICE_NAME_MAX = 150
PRODUCT_NAME_MAX = 200
ADDITIONAL_INFORMATION_MAX = 1500
DISCOUNT_DESCRIPTION_MAX = 500
DASH = " — "


def line_name(li, *, bill_period: tuple[date, date] | None) -> str:
    """`API calls — 23,456 requests`, and the service period when it is not the bill's.

    When it is too long, the label is shortened first: the quantity is what the customer
    checks against their usage.
    """
    suffix = ""
    if li.unit or (li.quantity and li.quantity != 1):
        suffix = f"{DASH}{number(li.quantity)} {squash(li.unit)}".rstrip()
    period = _service_dates(li.service_period_start, li.service_period_end)
    if period and period != bill_period:
        suffix += f" ({date_range(*period)})"
    room = PRICE_NAME_MAX - len(suffix)
    if room < 20:  # a unit too long to leave the label room: shorten the whole
        return clip(label(li) + suffix, PRICE_NAME_MAX)
    return clip(label(li), room) + suffix


def line_details(li) -> str:
    """price.description, for the merchant: `Usage · quantity 1,000 calls · units 10 ·
    service period 2026-10-01 to 2026-10-31`."""
    parts = [type_label(li.line_item_type), f"quantity {number(li.quantity)} {li.unit}".rstrip()]
    if li.units is not None and li.units != li.quantity:
        parts.append(f"units {number(li.units)}")
    period = _service_dates(li.service_period_start, li.service_period_end)
    if period:
        parts.append(f"service period {period[0].isoformat()} to {period[1].isoformat()}")
    elif li.service_period_start is not None:
        parts.append(f"service period from {li.service_period_start.astimezone(UTC).date()}")
    return clip(" · ".join(parts), PRICE_DESCRIPTION_MAX)


def product_name(li) -> str:
    return clip(
        squash(li.product_name) or squash(li.description) or type_label(li.line_item_type),
        PRODUCT_NAME_MAX,
    )


def additional_information(bill, *, bill_period: tuple[date, date] | None) -> str:
    """What the invoice says about the bill as a whole: its period and its m3ter reference."""
    parts = []
    if bill_period:
        parts.append(f"Billing period: {date_range(*bill_period)}.")
    reference = bill.sequential_invoice_number or bill.m3ter_id
    parts.append(f"m3ter bill reference: {reference}.")
    return clip(" ".join(parts), ADDITIONAL_INFORMATION_MAX)


def credit_description(credits: list[tuple[object, int]], currency_digits: int) -> str:
    """The discount's text: each credit line by name and amount."""
    listed = "; ".join(f"{label(li)} {money(-amount, currency_digits)}" for li, amount in credits)
    return clip(f"Credits: {listed}", DISCOUNT_DESCRIPTION_MAX)


def total_note(
    *,
    currency: str,
    digits: int,
    sent: int,
    billed: int,
    excluded: tuple[tuple[str, int, int], ...],
) -> str:
    """`The Paddle invoice's total before tax is USD 90.00 and the bill's is USD 100.00: USD 10.00
    less, because Excluded Line Item Types left out 1 Minimum spend line (10.00).`"""
    difference = billed - sent
    if not difference:
        return ""
    note = (
        f"The Paddle invoice's total before tax is {currency} {money(sent, digits)} and the "
        f"bill's is {currency} {money(billed, digits)}: {currency} "
        f"{money(abs(difference), digits)} {'less' if difference > 0 else 'more'}"
    )
    if excluded:
        left_out = ", ".join(
            f"{count} {type_label(kind)} line{'s' if count > 1 else ''} ({money(minor, digits)})"
            for kind, count, minor in excluded
        )
        note += f", because Excluded Line Item Types left out {left_out}"
    return note + "."


def bill_period(bill) -> tuple[date, date] | None:
    """The bill's first and last day (m3ter's end date is exclusive)."""
    if bill.start_date is None or bill.end_date is None or bill.end_date <= bill.start_date:
        return None
    return bill.start_date, bill.end_date - timedelta(days=1)


def date_range(first: date, last: date) -> str:
    """`1–31 Oct 2026`, `1 Oct – 30 Nov 2026`, `1 Dec 2026 – 31 Jan 2027`, `5 Oct 2026`."""
    if first == last:
        return _day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{_day(last)}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {_day(last)}"
    return f"{_day(first)} – {_day(last)}"


def label(li) -> str:
    return squash(li.description) or squash(li.product_name) or type_label(li.line_item_type)


def type_label(line_item_type: str) -> str:
    try:
        return LineItemType(line_item_type).label
    except ValueError:
        return line_item_type.replace("_", " ").capitalize()


def number(value: Decimal) -> str:
    return f"{Decimal(value).normalize():,f}"


def money(minor_units: int, digits: int) -> str:
    return f"{Decimal(minor_units).scaleb(-digits):,.{digits}f}"


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


def clip(text: str, limit: int) -> str:
    text = squash(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _service_dates(start: datetime | None, end: datetime | None) -> tuple[date, date] | None:
    """A line's first and last day; m3ter's service period end is exclusive, so a period
    ending at midnight ends the day before."""
    if start is None or end is None:
        return None
    first = start.astimezone(UTC).date()
    end_utc = end.astimezone(UTC)
    last = end_utc.date() - timedelta(days=1) if end_utc.time() == time(0) else end_utc.date()
    return first, max(last, first)
