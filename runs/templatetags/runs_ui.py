"""Small helpers the run and bill pages share for showing statuses, durations and summaries."""

import datetime
import json
import re
from decimal import Decimal

from django import template

from paddle_destination.delivery import paddle_transaction_url
from paddle_destination.invoice import MINOR_UNIT_DIGITS
from runs.models import InvoiceStatus
from runs.selectors import run_status_tone
from runs.services.state import status_label

register = template.Library()

# Summaries are written redacted; masking again here keeps a slip elsewhere off the screen.
_SECRET_KEY = re.compile(r"authorization|api[_-]?key|secret|password|token", re.IGNORECASE)


@register.filter
def status_tone(status: str) -> str:
    return run_status_tone(status)


@register.filter
def money(amount, currency: str) -> str:
    """An amount as the currency writes it: its own decimal places (none for JPY), thousands
    grouped, e.g. "-1,234.50 USD"."""
    if amount is None or amount == "":
        return ""
    digits = MINOR_UNIT_DIGITS.get((currency or "").upper(), 2)
    return f"{Decimal(amount):,.{digits}f} {currency}".strip()


# A run status in words, as every page shows it.
register.filter("status_label", status_label)


@register.filter
def run_duration(run) -> str:
    """How long a finished run took, e.g. "1.234 s" or "2 min 5 s"."""
    if not (run.dt_started and run.dt_completed):
        return ""
    return milliseconds((run.dt_completed - run.dt_started) / datetime.timedelta(milliseconds=1))


@register.filter
def milliseconds(value) -> str:
    if value is None or value == "":
        return ""
    seconds = float(value) / 1000
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s"


def _masked(value):
    if isinstance(value, dict):
        return {k: "•••" if _SECRET_KEY.search(str(k)) else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


@register.filter
def pretty_json(value) -> str:
    if value in (None, {}, []):
        return ""
    return json.dumps(_masked(value), indent=2, sort_keys=True, default=str, ensure_ascii=False)


@register.filter
def invoice_summary(record) -> str:
    """The invoice's life in Paddle in a few words, e.g. "Issued 325-10042 · paid 3 Dec", for a
    Delivery or a run annotated like one; "" when nothing was heard from Paddle."""
    status = getattr(record, "invoice_status", "")
    if not status:
        return ""
    number = getattr(record, "invoice_number", "")
    issued, paid, canceled = (
        getattr(record, f, None) for f in ("issued_at", "paid_at", "canceled_at")
    )
    day = lambda moment: f"{moment.day} {moment:%b}"  # noqa: E731
    if status in (InvoiceStatus.DRAFT, InvoiceStatus.READY):
        return f"{InvoiceStatus(status).label} (not issued yet)"
    if status == InvoiceStatus.CANCELED:
        issued_part = f"Issued {number} · " if issued else ""
        return f"{issued_part}canceled {day(canceled)}" if canceled else "Canceled"
    parts = [f"Issued {number}".strip() + (f" {day(issued)}" if issued and not paid else "")]
    if paid:
        parts.append(f"paid {day(paid)}")
    elif status == InvoiceStatus.PAST_DUE:
        parts.append("overdue")
    return " · ".join(parts)


@register.filter
def invoice_tone(status: str) -> str:
    return {
        InvoiceStatus.PAID: "success",
        InvoiceStatus.COMPLETED: "success",
        InvoiceStatus.PAST_DUE: "danger",
        InvoiceStatus.CANCELED: "secondary",
        InvoiceStatus.BILLED: "primary",
    }.get(status, "light")


@register.simple_tag
def paddle_transaction_link(destination: str, transaction_id: str) -> str:
    """The transaction's page in the Paddle dashboard of the destination's environment."""

    return paddle_transaction_url(destination=destination, transaction_id=transaction_id)
