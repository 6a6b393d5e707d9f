"""Bill → Paddle draft invoice: a pure mapping, no database writes and no HTTP.

One bill becomes one manually-collected transaction (Paddle's invoice), sent without `status` so
Paddle keeps it `draft` or `ready`; it is never `billed` here (that would issue the invoice and
e-mail the customer).

Decisions, where Paddle or m3ter leave a choice:
- Items: one per line item surviving the integration's Excluded Line Item Types, each a
  non-catalog price and product with `quantity` 1 and `unit_price` the line subtotal in minor
  units. Paddle's quantity is an integer (≤ 100 by default) and m3ter's quantities are decimal
  usage figures, so the quantity, units and service period go into the text instead.
- Amounts: each line is rounded half-up to the currency's minor unit; if that makes the items
  add up to something other than the sum of the sent subtotals (itself rounded half-up), the
  difference — at most half a minor unit per line, only possible when m3ter sends more decimals
  than the currency has — is moved onto the lines rounded furthest, first lines first, so the
  invoice total always equals the bill's sent lines to the minor unit.
- Zero lines are sent as items of amount 0: Paddle accepts a zero unit price (free prices are
  valid, the spec sets no minimum) and the invoice then shows everything m3ter billed.
- Negative lines are refused (Paddle items cannot be negative): the whole bill is not sent.
- Sort Line Items By: NONE keeps m3ter's order; SUBTOTAL puts the largest charge first;
  AGGREGATION_ID sorts by aggregation id ascending, lines without one last. Ties keep m3ter's
  order in both.
- Payment terms: days from the bill date to the due date (at least 1, Paddle's minimum), else
  the account's days-before-due, else 30 days.
- billing_period: the bill's start and end dates (m3ter's end date is exclusive, as is Paddle's
  `ends_at` for a period), as UTC midnights, when both are known and the end is after the start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paddle_billing.Entities.Shared import (
    CollectionMode,
    CurrencyCode,
    CustomData,
    Duration,
    Interval,
    Money,
    TaxCategory,
    TimePeriod,
)
from paddle_billing.Resources.Transactions.Operations import CreateTransaction, UpdateTransaction
from paddle_billing.Resources.Transactions.Operations.Create import (
    CreateBillingDetails,
    TransactionCreateItemWithPrice,
)
from paddle_billing.Resources.Transactions.Operations.Price import (
    TransactionNonCatalogPriceWithProduct,
    TransactionNonCatalogProduct,
)
from paddle_billing.Resources.Transactions.Operations.Update import (
    TransactionUpdateItemWithPrice,
    UpdateBillingDetails,
)

from integrations.models import SortLineItemsBy
from m3terdata.models import LineItemType
from paddle_destination.errors import PaddleProblem, PaddleProblemKind

# Paddle accepts only these for manually-collected transactions
# (transaction_currency_code_not_valid_for_manual).
MANUAL_COLLECTION_CURRENCIES = ("USD", "EUR", "GBP")
# Digits of the minor unit (Paddle's GET /currencies `decimal_places`); only currencies Paddle
# lists are here, and only the manual-collection ones can reach an invoice.
MINOR_UNIT_DIGITS = {
    "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "AUD": 2, "CAD": 2,
    "CHF": 2, "HKD": 2, "SGD": 2, "SEK": 2, "NOK": 2, "DKK": 2, "NZD": 2, "ZAR": 2,
}  # fmt: skip
MAX_ITEMS = 100  # Paddle: 1–100 items per transaction
DEFAULT_PAYMENT_TERMS_DAYS = 30
# Paddle's default category, available on every account (others need Paddle's approval).
TAX_CATEGORY = TaxCategory.Standard
# Paddle's length limits (spec: price.description 2–500, price.name 1–150, product.name 1–200,
# billing_details.purchase_order_number ≤ 100).
PRICE_DESCRIPTION_MAX = 500
PRICE_NAME_MAX = 150
PRODUCT_NAME_MAX = 200
PURCHASE_ORDER_MAX = 100


@dataclass(frozen=True)
class InvoiceLine:
    line_item_id: str  # m3ter's line item id
    sequence: int
    line_item_type: str
    name: str  # price.name: shown to the customer
    product_name: str  # product.name
    description: str  # quantity, units and service period
    subtotal: Decimal  # as m3ter sent it
    amount: int  # in the currency's minor unit

    def price(self, currency: str) -> TransactionNonCatalogPriceWithProduct:
        return TransactionNonCatalogPriceWithProduct(
            description=self.description,
            name=self.name,
            unit_price=Money(str(self.amount), CurrencyCode(currency)),
            product=TransactionNonCatalogProduct(
                name=self.product_name, tax_category=TAX_CATEGORY, description=self.description
            ),
            custom_data=CustomData(
                {"m3ter_line_item_id": self.line_item_id, "line_item_type": self.line_item_type}
            ),
        )


@dataclass(frozen=True)
class Invoice:
    """What one bill becomes in Paddle, before the customer is known."""

    currency_code: str
    lines: tuple[InvoiceLine, ...]
    payment_terms_days: int
    purchase_order_number: str
    billing_period: tuple[datetime, datetime] | None
    custom_data: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def bill_id(self) -> str:
        return self.custom_data["m3ter_bill_id"]

    def create_operation(self, *, customer_id: str, address_id: str | None) -> CreateTransaction:
        """POST /transactions: a manual-collection draft, no `status`."""
        return self._operation(
            CreateTransaction,
            TransactionCreateItemWithPrice,
            CreateBillingDetails,
            customer_id=customer_id,
            address_id=address_id,
        )

    def update_operation(self, *, customer_id: str, address_id: str | None) -> UpdateTransaction:
        """PATCH /transactions/{id}: every item replaced, the rest brought up to date."""
        return self._operation(
            UpdateTransaction,
            TransactionUpdateItemWithPrice,
            UpdateBillingDetails,
            customer_id=customer_id,
            address_id=address_id,
        )

    def _operation(self, operation_class, item_class, details_class, *, customer_id, address_id):
        details = details_class(payment_terms=Duration(Interval.Day, self.payment_terms_days))
        if self.purchase_order_number:
            details.purchase_order_number = self.purchase_order_number
        operation = operation_class(
            items=[
                item_class(price=line.price(self.currency_code), quantity=1) for line in self.lines
            ],
            customer_id=customer_id,
            currency_code=CurrencyCode(self.currency_code),
            collection_mode=CollectionMode.Manual,
            billing_details=details,
            custom_data=CustomData(dict(self.custom_data)),
        )
        # Left out rather than sent as null: without an address the invoice stays a draft.
        if address_id:
            operation.address_id = address_id
        if self.billing_period:
            operation.billing_period = TimePeriod(*self.billing_period)
        return operation

    def rounding_note(self) -> str | None:
        """m3ter's constraint on high-precision values: a subtotal with more decimal places than
        the currency has is rounded. Which lines were, for the run log; None when none was."""
        digits = MINOR_UNIT_DIGITS[self.currency_code]
        scale = Decimal(10) ** digits
        rounded = [
            f"item {position} ({line.name}) {_number(line.subtotal)} → "
            f"{Decimal(line.amount) / scale:.{digits}f}"
            for position, line in enumerate(self.lines, start=1)
            if Decimal(line.subtotal) * scale != line.amount
        ]
        if not rounded:
            return None
        return (
            f"High-precision values rounded to {digits} decimal places of {self.currency_code} "
            f"(a constraint of Paddle integrations): {'; '.join(rounded)}."
        )

    def summary(self) -> dict[str, Any]:
        """For the run log: counts and totals, no customer data."""
        return {
            "items": len(self.lines),
            "currency": self.currency_code,
            "total_minor_units": self.total,
            "payment_terms_days": self.payment_terms_days,
        }


def invoice_build(*, bill, line_items: Iterable, integration) -> Invoice:
    """The invoice for `bill` under `integration`'s configuration.

    Raises PaddleProblem(UNSUPPORTED_BILL), naming every reason at once, when the bill cannot
    become a Paddle invoice; nothing is sent then.
    """
    excluded = set(integration.excluded_line_item_types or [])
    all_items = list(line_items)
    kept = _sorted([li for li in all_items if li.line_item_type not in excluded], integration)
    problems, hints = [], []

    currency = (bill.currency or "").upper()
    if currency not in MANUAL_COLLECTION_CURRENCIES:
        problems.append(
            f"The bill is in {currency or 'no currency'}; Paddle invoices (manual collection) "
            f"accept only {', '.join(MANUAL_COLLECTION_CURRENCIES)}."
        )
        hints.append("Bill this account in USD, EUR or GBP in m3ter.")

    negatives = [li for li in kept if li.subtotal < 0]
    if negatives:
        listed = "; ".join(
            f"line {li.sequence} {li.line_item_type} {_label(li)!r} subtotal {_number(li.subtotal)}"
            for li in negatives
        )
        types = ", ".join(dict.fromkeys(li.line_item_type for li in negatives))
        problems.append(f"Paddle invoices cannot have negative lines: {listed}.")
        hints.append(
            f"Add {types} to the integration's Excluded Line Item Types to send this bill "
            "without those lines."
        )

    if not kept:
        if all_items:
            problems.append(
                f"All {len(all_items)} line items are excluded by the integration's Excluded "
                "Line Item Types; a Paddle invoice needs at least one item."
            )
            hints.append("Exclude fewer line item types, or leave this bill out.")
        else:
            problems.append("The bill has no line items; a Paddle invoice needs at least one.")
    elif len(kept) > MAX_ITEMS:
        problems.append(
            f"The bill has {len(kept)} line items to send; Paddle accepts at most {MAX_ITEMS} "
            "per invoice."
        )
        hints.append(
            "Edit the integration and add line item types this invoice does not need to Excluded "
            "Line Item Types, to bring it to 100 or fewer."
        )

    if problems:
        raise PaddleProblem(
            PaddleProblemKind.UNSUPPORTED_BILL,
            f"Bill {bill.m3ter_id} was not sent to Paddle. " + " ".join(problems),
            hint=" ".join(hints),
        )

    purchase_order = bill.purchase_order_number or bill.account.purchase_order_number
    amounts = allocate_minor_units([li.subtotal for li in kept], MINOR_UNIT_DIGITS[currency])
    lines = tuple(_line(li, amount) for li, amount in zip(kept, amounts, strict=True))
    return Invoice(
        currency_code=currency,
        lines=lines,
        payment_terms_days=_payment_terms_days(bill),
        purchase_order_number=purchase_order[:PURCHASE_ORDER_MAX],
        billing_period=_billing_period(bill.start_date, bill.end_date),
        custom_data={
            "m3ter_bill_id": bill.m3ter_id,
            "bill_version": bill.version,
            "account_id": bill.account.m3ter_id,
            "integration_id": str(integration.id),
        },
    )


def allocate_minor_units(subtotals: Sequence[Decimal], digits: int) -> list[int]:
    """Each subtotal in minor units, rounded half-up, adding up to the half-up rounded sum."""
    scale = Decimal(10) ** digits
    exact = [Decimal(s) * scale for s in subtotals]
    amounts = [int(e.quantize(Decimal(1), rounding=ROUND_HALF_UP)) for e in exact]
    target = int(sum(exact, Decimal(0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    gap = target - sum(amounts)
    if gap:
        step = 1 if gap > 0 else -1
        # Short of the target: raise the lines rounded down the most; over it: lower the lines
        # rounded up the most. Ties go to the earlier line.
        order = sorted(range(len(exact)), key=lambda i: (-step * (exact[i] - amounts[i]), i))
        for i in order[: abs(gap)]:
            amounts[i] += step
    return amounts


def _sorted(items: list, integration) -> list:
    in_m3ter_order = sorted(items, key=lambda li: li.sequence)
    if integration.sort_line_items_by == SortLineItemsBy.SUBTOTAL:
        return sorted(in_m3ter_order, key=lambda li: -li.subtotal)
    if integration.sort_line_items_by == SortLineItemsBy.AGGREGATION_ID:
        return sorted(in_m3ter_order, key=lambda li: (not li.aggregation_id, li.aggregation_id))
    return in_m3ter_order


def _label(li) -> str:
    return _squash(li.description) or _squash(li.product_name) or _type_label(li.line_item_type)


def _type_label(line_item_type: str) -> str:
    try:
        return LineItemType(line_item_type).label
    except ValueError:
        return line_item_type.replace("_", " ").capitalize()


def _line(li, amount: int) -> InvoiceLine:
    type_label = _type_label(li.line_item_type)
    # Whitespace is collapsed before falling back: Paddle refuses a blank price or product
    # name, which a description of only spaces would otherwise become.
    description, product = _squash(li.description), _squash(li.product_name)
    return InvoiceLine(
        line_item_id=li.m3ter_id,
        sequence=li.sequence,
        line_item_type=li.line_item_type,
        name=_clip(description or product or type_label, PRICE_NAME_MAX),
        product_name=_clip(product or description or type_label, PRODUCT_NAME_MAX),
        description=_clip(_details(li, type_label), PRICE_DESCRIPTION_MAX),
        subtotal=li.subtotal,
        amount=amount,
    )


def _details(li, type_label: str) -> str:
    """`Usage · quantity 1,000 calls · units 10 · service period 2026-10-01 to 2026-10-31`."""
    parts = [type_label, f"quantity {_number(li.quantity)} {li.unit}".rstrip()]
    if li.units is not None and li.units != li.quantity:
        parts.append(f"units {_number(li.units)}")
    period = _service_period(li.service_period_start, li.service_period_end)
    if period:
        parts.append(f"service period {period}")
    return " · ".join(parts)


def _service_period(start: datetime | None, end: datetime | None) -> str:
    """m3ter's service period end is exclusive: a period ending at midnight is shown as ending
    the day before."""
    if start is None:
        return ""
    first = start.astimezone(UTC).date()
    if end is None:
        return f"from {first.isoformat()}"
    end_utc = end.astimezone(UTC)
    last = end_utc.date() - timedelta(days=1) if end_utc.time() == time(0) else end_utc.date()
    return f"{first.isoformat()} to {max(last, first).isoformat()}"


def _number(value: Decimal) -> str:
    return f"{Decimal(value).normalize():,f}"


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _clip(text: str, limit: int) -> str:
    text = _squash(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _payment_terms_days(bill) -> int:
    if bill.bill_date and bill.due_date:
        days = (bill.due_date - bill.bill_date).days
    elif bill.account.days_before_bill_due is not None:
        days = bill.account.days_before_bill_due
    else:
        days = DEFAULT_PAYMENT_TERMS_DAYS
    return max(days, 1)


def _billing_period(start: date | None, end: date | None) -> tuple[datetime, datetime] | None:
    if start is None or end is None or end <= start:
        return None
    return (
        datetime.combine(start, time(0), tzinfo=UTC),
        datetime.combine(end, time(0), tzinfo=UTC),
    )
