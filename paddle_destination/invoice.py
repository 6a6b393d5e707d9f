"""Bill → Paddle draft invoice: a pure mapping, no database writes and no HTTP.

One bill becomes one manually-collected transaction (Paddle's invoice), sent without `status` so
Paddle keeps it `draft` or `ready`; it is never `billed` here (that would issue the invoice and
e-mail the customer).

Decisions, where Paddle or m3ter leave a choice:
- Items: one per line item surviving the integration's Excluded Line Item Types, each a
  non-catalog price with `quantity` 1 and `unit_price` the line subtotal in minor units, and
  the integration's Tax Mode (`tax_mode`, never left to the Paddle account) — with a non-catalog
  product in the integration's Tax Category, or the Paddle product (`product_id`) the line's
  m3ter product is mapped to, which carries its own approved category. Paddle's quantity is an
  integer (≤ 100 by default) and m3ter's quantities are decimal usage figures, so the quantity
  and unit go into the customer-visible `price.name` instead (invoice_text.py).
- Amounts: each line is rounded half-up to the currency's minor unit; if that makes the items
  add up to something other than the sum of the sent subtotals (itself rounded half-up), the
  difference — at most half a minor unit per line, only possible when m3ter sends more decimals
  than the currency has — is moved onto the lines rounded furthest, first lines first, so the
  invoice total always equals the bill's sent lines to the minor unit.
- Zero lines are sent as items of amount 0: Paddle accepts a zero unit price (free prices are
  valid, the spec sets no minimum) and the invoice then shows everything m3ter billed.
- Negative lines (Paddle items cannot be negative) are refused, the whole bill not sent, unless
  the integration's Negative Line Items is CREDIT: then they become one non-catalog flat
  `discount`, so the invoice's total before tax is the bill's to the minor unit; credits larger
  than the charges are still refused.
- The bill's total is the sum of its line items; when the invoice's total before tax differs
  (excluded line item types), `Invoice.total_note` says by how much and why.
- Sort Line Items By: NONE keeps m3ter's order; SUBTOTAL puts the largest charge first;
  AGGREGATION_ID sorts by aggregation id ascending, lines without one last. Ties keep m3ter's
  order in both.
- Payment terms: days from the bill date to the due date (at least 1, Paddle's minimum), else
  the account's days-before-due, else 30 days.
- billing_period: the bill's start and end dates (m3ter's end date is exclusive, as is Paddle's
  `ends_at` for a period), as UTC midnights, when both are known and the end is after the start.
  The same period, in words, and the bill's m3ter reference are in
  `billing_details.additional_information`, which the invoice shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paddle_billing.Entities.Discounts.DiscountType import DiscountType
from paddle_billing.Entities.Shared import (
    CollectionMode,
    CurrencyCode,
    CustomData,
    Duration,
    Interval,
    Money,
    TaxCategory,
    TaxMode,
    TimePeriod,
)
from paddle_billing.Resources.Transactions.Operations import CreateTransaction, UpdateTransaction
from paddle_billing.Resources.Transactions.Operations.Create import (
    CreateBillingDetails,
    TransactionCreateItemWithPrice,
)
from paddle_billing.Resources.Transactions.Operations.Discount import (
    TransactionNonCatalogDiscount,
)
from paddle_billing.Resources.Transactions.Operations.Price import (
    TransactionNonCatalogPrice,
    TransactionNonCatalogPriceWithProduct,
    TransactionNonCatalogProduct,
)
from paddle_billing.Resources.Transactions.Operations.Update import (
    TransactionUpdateItemWithPrice,
    UpdateBillingDetails,
)

from integrations.models import NegativeLineItems, SortLineItemsBy
from m3terpaddle.text import sentences
from paddle_destination import invoice_text as text
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.invoice_checks import bill_refusals

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
PURCHASE_ORDER_MAX = 100  # billing_details.purchase_order_number


@dataclass(frozen=True)
class InvoiceLine:
    line_item_id: str  # m3ter's line item id
    sequence: int
    line_item_type: str
    name: str  # price.name: shown to the customer
    product_name: str  # product.name
    description: str  # price.description: for the merchant
    subtotal: Decimal  # as m3ter sent it
    amount: int  # in the currency's minor unit
    product_id: str = ""  # the Paddle catalog product the m3ter product is mapped to

    def price(self, currency: str, *, tax_mode: str, tax_category: str):
        common = {
            "description": self.description,
            "name": self.name,
            "unit_price": Money(str(self.amount), CurrencyCode(currency)),
            "tax_mode": TaxMode(tax_mode.lower()),
            "custom_data": CustomData(
                {"m3ter_line_item_id": self.line_item_id, "line_item_type": self.line_item_type}
            ),
        }
        if self.product_id:
            return TransactionNonCatalogPrice(product_id=self.product_id, **common)
        return TransactionNonCatalogPriceWithProduct(
            product=TransactionNonCatalogProduct(
                name=self.product_name,
                tax_category=TaxCategory(tax_category),
                description=self.description,
            ),
            **common,
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
    tax_mode: str = "EXTERNAL"
    tax_category: str = "standard"
    additional_information: str = ""
    credit: int = 0  # the flat discount from negative lines, in minor units
    credit_description: str = ""
    # A PATCH clears a discount an earlier version of the bill had (only where one can exist).
    clear_credit: bool = False
    bill_total: int = 0  # the sum of all the bill's line items, in minor units
    excluded: tuple[tuple[str, int, int], ...] = ()  # (line item type, lines, minor units)

    @property
    def total(self) -> int:
        """The invoice's total before tax: the items less the credit."""
        return sum(line.amount for line in self.lines) - self.credit

    @property
    def bill_id(self) -> str:
        return self.custom_data["m3ter_bill_id"]

    @property
    def total_note(self) -> str:
        """Why the invoice's total before tax is not the bill's; empty when it is."""
        return text.total_note(
            currency=self.currency_code,
            digits=MINOR_UNIT_DIGITS[self.currency_code],
            sent=self.total,
            billed=self.bill_total,
            excluded=self.excluded,
        )

    def create_operation(self, *, customer_id: str, address_id: str | None, business_id=None):
        """POST /transactions: a manual-collection draft, no `status`."""
        return self._operation(
            CreateTransaction,
            TransactionCreateItemWithPrice,
            CreateBillingDetails,
            customer_id=customer_id,
            address_id=address_id,
            business_id=business_id,
        )

    def update_operation(self, *, customer_id: str, address_id: str | None, business_id=None):
        """PATCH /transactions/{id}: every item replaced, the rest brought up to date."""
        operation = self._operation(
            UpdateTransaction,
            TransactionUpdateItemWithPrice,
            UpdateBillingDetails,
            customer_id=customer_id,
            address_id=address_id,
            business_id=business_id,
        )
        if self.clear_credit and not self.credit:
            operation.discount = None
        return operation

    def _operation(
        self, operation_class, item_class, details_class, *, customer_id, address_id, business_id
    ):
        details = details_class(payment_terms=Duration(Interval.Day, self.payment_terms_days))
        if self.purchase_order_number:
            details.purchase_order_number = self.purchase_order_number
        if self.additional_information:
            details.additional_information = self.additional_information
        price_options = {"tax_mode": self.tax_mode, "tax_category": self.tax_category}
        operation = operation_class(
            items=[
                item_class(price=line.price(self.currency_code, **price_options), quantity=1)
                for line in self.lines
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
        if business_id:
            operation.business_id = business_id
        if self.billing_period:
            operation.billing_period = TimePeriod(*self.billing_period)
        if self.credit:
            operation.discount = TransactionNonCatalogDiscount(
                amount=str(self.credit),
                description=self.credit_description,
                type=DiscountType.Flat,
            )
        return operation

    def rounding_note(self) -> str | None:
        """m3ter's constraint on high-precision values: a subtotal with more decimal places than
        the currency has is rounded. Which lines were, for the run log; None when none was."""
        digits = MINOR_UNIT_DIGITS[self.currency_code]
        scale = Decimal(10) ** digits
        rounded = [
            f"item {position} ({line.name}) {text.number(line.subtotal)} → "
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
            "credit_minor_units": self.credit,
            "bill_total_minor_units": self.bill_total,
            "tax_mode": self.tax_mode,
            "payment_terms_days": self.payment_terms_days,
        }


def invoice_build(
    *, bill, line_items: Iterable, integration, product_ids: Mapping[str, str] | None = None
) -> Invoice:
    """The invoice for `bill` under `integration`'s configuration; `product_ids` maps m3ter
    product ids to the Paddle products (`pro_…`) they are mapped to.

    Raises PaddleProblem(UNSUPPORTED_BILL), naming every reason at once, when the bill cannot
    become a Paddle invoice; nothing is sent then.
    """
    excluded = set(integration.excluded_line_item_types or [])
    all_items = list(line_items)
    kept = _sorted([li for li in all_items if li.line_item_type not in excluded], integration)
    crediting = integration.negative_line_items == NegativeLineItems.CREDIT
    negatives = [li for li in kept if li.subtotal < 0]
    charges = [li for li in kept if li.subtotal >= 0] if crediting else kept
    currency = (bill.currency or "").upper()
    problems, hints = bill_refusals(
        currency=currency,
        all_items=all_items,
        charges=charges,
        negatives=negatives,
        crediting=crediting,
        max_items=MAX_ITEMS,
        currencies=MANUAL_COLLECTION_CURRENCIES,
    )
    if problems:
        raise PaddleProblem(
            PaddleProblemKind.UNSUPPORTED_BILL,
            sentences(f"Bill {bill.m3ter_id} was not sent to Paddle", *problems),
            hint=sentences(*hints),
        )

    digits = MINOR_UNIT_DIGITS[currency]
    # Charges and credits are rounded together, so that items less credit is the rounded sum.
    amounts = dict(
        zip(
            (li.sequence for li in kept),
            allocate_minor_units([li.subtotal for li in kept], digits),
            strict=True,
        )
    )
    period = text.bill_period(bill)
    product_ids = product_ids or {}
    lines = tuple(
        _line(li, amounts[li.sequence], period, product_ids.get(li.product_id, ""))
        for li in charges
    )
    credits = [(li, amounts[li.sequence]) for li in negatives]
    purchase_order = bill.purchase_order_number or bill.account.purchase_order_number
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
        tax_mode=integration.tax_mode,
        tax_category=integration.tax_category,
        additional_information=text.additional_information(bill, bill_period=period),
        credit=-sum(amount for _, amount in credits),
        credit_description=text.credit_description(credits, digits) if credits else "",
        clear_credit=crediting,
        bill_total=_minor_units(sum((li.subtotal for li in all_items), Decimal(0)), digits),
        excluded=_excluded(all_items, excluded, digits),
    )


def allocate_minor_units(subtotals: Sequence[Decimal], digits: int) -> list[int]:
    """Each subtotal in minor units, rounded half-up, adding up to the half-up rounded sum."""
    scale = Decimal(10) ** digits
    exact = [Decimal(s) * scale for s in subtotals]
    amounts = [int(e.quantize(Decimal(1), rounding=ROUND_HALF_UP)) for e in exact]
    target = _minor_units(sum((Decimal(s) for s in subtotals), Decimal(0)), digits)
    gap = target - sum(amounts)
    if gap:
        step = 1 if gap > 0 else -1
        # Short of the target: raise the lines rounded down the most; over it: lower the lines
        # rounded up the most. Ties go to the earlier line.
        order = sorted(range(len(exact)), key=lambda i: (-step * (exact[i] - amounts[i]), i))
        for i in order[: abs(gap)]:
            amounts[i] += step
    return amounts


def _minor_units(value: Decimal, digits: int) -> int:
    return int((value * Decimal(10) ** digits).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _excluded(all_items: list, excluded: set[str], digits: int) -> tuple[tuple[str, int, int], ...]:
    by_type: dict[str, list[Decimal]] = {}
    for li in all_items:
        if li.line_item_type in excluded:
            by_type.setdefault(li.line_item_type, []).append(li.subtotal)
    return tuple(
        (kind, len(subtotals), _minor_units(sum(subtotals, Decimal(0)), digits))
        for kind, subtotals in by_type.items()
    )


def _sorted(items: list, integration) -> list:
    in_m3ter_order = sorted(items, key=lambda li: li.sequence)
    if integration.sort_line_items_by == SortLineItemsBy.SUBTOTAL:
        return sorted(in_m3ter_order, key=lambda li: -li.subtotal)
    if integration.sort_line_items_by == SortLineItemsBy.AGGREGATION_ID:
        return sorted(in_m3ter_order, key=lambda li: (not li.aggregation_id, li.aggregation_id))
    return in_m3ter_order


def _line(li, amount: int, period, product_id: str) -> InvoiceLine:
    # Whitespace is collapsed before falling back (invoice_text): Paddle refuses a blank price
    # or product name, which a description of only spaces would otherwise become.
    return InvoiceLine(
        line_item_id=li.m3ter_id,
        sequence=li.sequence,
        line_item_type=li.line_item_type,
        name=text.line_name(li, bill_period=period),
        product_name=text.product_name(li),
        description=text.line_details(li),
        subtotal=li.subtotal,
        amount=amount,
        product_id=product_id,
    )


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
