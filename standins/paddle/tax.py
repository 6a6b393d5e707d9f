"""How the stand-in prices a transaction: tax per address country, tax mode and business, and a
non-catalog discount. Pure functions over the stored dicts; the store calls them.

Paddle is the merchant of record and computes tax itself, from the customer's address (and
business); a client never sends tax. What a client does decide is whether its unit prices
include tax (`tax_mode`) and what is discounted. The stand-in's simplifications, so a reader
knows they are ours and not Paddle's:
- One rate per country (`Config.tax_rates`, percentages). Paddle computes US sales tax per state
  and product; the stand-in charges none there by default.
- A business with a tax identifier in an EU country other than the seller's pays no VAT
  (reverse charge); Paddle checks the number is valid, the stand-in only that it is there.
- No address, no tax: Paddle cannot compute tax without a country either.
- `account_setting` follows `Config.account_tax_mode` ("internal" = the account's prices include
  tax, which is what a merchant selling in the EU often sets).
- A flat discount is spread over the items in proportion to their amounts (largest remainder),
  before tax; it never takes the total below zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import errors

# The EU's VAT area, where a business's tax number moves the VAT to the buyer (reverse charge).
EU_COUNTRIES = frozenset(
    ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
     "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
)  # fmt: skip
# Standard VAT/GST rates in percent, for the countries tests use; others are charged no tax.
DEFAULT_TAX_RATES = {
    "GB": "20", "DE": "19", "FR": "20", "NL": "21", "IE": "23", "ES": "21", "IT": "22",
    "BE": "21", "AT": "20", "SE": "25", "DK": "25", "PL": "23", "AU": "10", "NZ": "15",
    "CA": "5", "CH": "8.1", "NO": "25", "JP": "10", "US": "0",
}  # fmt: skip
TAX_MODES = ("external", "internal")
TOTALS = ("subtotal", "discount", "tax", "total")
_INTEGER = re.compile(r"^-?\d+$")
# Tax categories every Paddle account may use; the others need Paddle's approval first.
ALWAYS_APPROVED = ("standard",)


@dataclass(frozen=True)
class Pricing:
    """The Paddle account's tax settings, from the stand-in's Config."""

    tax_rates: dict[str, str]
    account_tax_mode: str
    approved_tax_categories: tuple[str, ...]

    def check_tax_category(self, category: str) -> None:
        if category not in (*ALWAYS_APPROVED, *self.approved_tax_categories):
            # The code is Paddle's (DOMAIN.md); the wording is ours (unverified).
            raise errors.PaddleError(
                400,
                "product_tax_category_not_approved",
                f"tax category {category} is not approved for this account",
                group="products",
            )


def tax_rate(*, address: dict | None, business: dict | None, rates: dict[str, str]) -> Decimal:
    """The rate (a fraction) Paddle would charge this buyer."""
    if address is None:
        return Decimal(0)
    country = address["country_code"]
    if business and business.get("tax_identifier") and country in EU_COUNTRIES:
        return Decimal(0)
    return Decimal(str(rates.get(country, "0"))) / 100


def price_lines(
    raw_lines: list[dict[str, Any]],
    *,
    rate: Decimal,
    account_tax_mode: str,
    discount: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], int]:
    """Each line's `totals` and `unit_totals`, filled in place; returns the discount applied.

    `raw_lines` carry `amount` (unit price, minor units), `quantity` and `tax_mode`.
    """
    gross = [line["amount"] * line["quantity"] for line in raw_lines]
    applied = discount_amount(discount, sum(gross))
    shares = _spread(applied, gross)
    for line, line_gross, share in zip(raw_lines, gross, shares, strict=True):
        mode = line["tax_mode"]
        if mode == "account_setting":
            mode = account_tax_mode
        line["tax_rate"] = _rate_text(rate)
        line["totals"] = _line_totals(line_gross, share, rate, mode)
        line["unit_totals"] = _line_totals(line["amount"], 0, rate, mode)
    return raw_lines, applied


def discount_amount(discount: dict[str, Any] | None, subtotal: int) -> int:
    """What a discount takes off `subtotal` (minor units), never more than all of it."""
    if not discount:
        return 0
    if discount["type"] == "percentage":
        off = _round(Decimal(subtotal) * Decimal(discount["amount"]) / 100)
    else:
        off = int(discount["amount"])
    return max(0, min(off, subtotal))


def summed(lines: list[dict[str, Any]]) -> dict[str, int]:
    return {k: sum(int(line["totals"][k]) for line in lines) for k in TOTALS}


def _line_totals(gross: int, discount: int, rate: Decimal, mode: str) -> dict[str, str]:
    if mode == "internal":
        # The price includes tax: Paddle carves the tax out of it.
        subtotal = gross - _carve(gross, rate)
        total = gross - discount
        tax = _carve(total, rate)
        discount = subtotal + tax - total
    else:
        subtotal = gross
        tax = _round((gross - discount) * rate)
        total = gross - discount + tax
    return {"subtotal": str(subtotal), "discount": str(discount), "tax": str(tax),
            "total": str(total)}  # fmt: skip


def _carve(amount: int, rate: Decimal) -> int:
    return _round(amount * rate / (1 + rate))


def _round(value: Decimal) -> int:
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _spread(amount: int, weights: list[int]) -> list[int]:
    """`amount` split in proportion to `weights`, in whole minor units (largest remainder)."""
    total = sum(weights)
    if not amount or not total:
        return [0] * len(weights)
    exact = [Decimal(amount) * w / total for w in weights]
    shares = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def _rate_text(rate: Decimal) -> str:
    return format(rate.normalize(), "f") if rate else "0"


def check_discount(discount: dict[str, Any], *, has_currency: bool) -> None:
    """Paddle's rules for a non-catalog discount (changelog 2025-09-17)."""
    field_errors = []
    kind, amount = discount.get("type"), str(discount.get("amount", ""))
    if kind not in ("flat", "flat_per_seat", "percentage"):
        field_errors.append(
            {"field": "discount.type", "message": "must be one of: flat, flat_per_seat, percentage"}
        )
    elif kind == "percentage":
        try:
            valid = Decimal("0.01") <= Decimal(amount) <= 100
        except ArithmeticError:
            valid = False
        if not valid:
            field_errors.append(
                {"field": "discount.amount", "message": "must be a percentage from 0.01 to 100"}
            )
    elif not _INTEGER.match(amount) or int(amount) < 1:
        field_errors.append(
            {
                "field": "discount.amount",
                "message": "must be a positive integer amount in the lowest denomination of "
                "the currency",
            }
        )
    elif not has_currency:
        field_errors.append(
            {
                "field": "currency_code",
                "message": "must be provided as part of the request when discount.type is flat",
            }
        )
    description = discount.get("description") or ""
    if not 1 <= len(description) <= 500:
        field_errors.append(
            {"field": "discount.description", "message": "length must be between 1 and 500"}
        )
    if field_errors:
        raise errors.invalid_field(field_errors)


def details(currency: str, line_items: list[dict[str, Any]]) -> dict[str, Any]:
    sums = summed(line_items)
    subtotal, discount, tax_total, total = (sums[k] for k in TOTALS)
    rates = sorted({li["tax_rate"] for li in line_items})
    return {
        "tax_rates_used": [
            {
                "tax_rate": rate,
                "totals": {
                    k: str(v)
                    for k, v in summed([li for li in line_items if li["tax_rate"] == rate]).items()
                },
            }
            for rate in rates
        ],
        "totals": {
            "subtotal": str(subtotal),
            "discount": str(discount),
            "tax": str(tax_total),
            "total": str(total),
            "credit": "0",
            "credit_to_balance": "0",
            "balance": str(total),
            "grand_total": str(total),
            # The SDK's TransactionTotals.from_dict requires this key.
            "grand_total_tax": str(tax_total),
            "fee": None,
            "earnings": None,
            "currency_code": currency,
        },
        "adjusted_totals": {
            "subtotal": str(subtotal),
            "tax": str(tax_total),
            "total": str(total),
            "grand_total": str(total),
            # Newer than the 2025-05 spec, but SDK 1.16's TransactionTotalsAdjusted requires both.
            "grand_total_tax": str(tax_total),
            "retained_fee": "0",
            "fee": "0",
            "earnings": "0",
            "currency_code": currency,
        },
        "payout_totals": None,
        "adjusted_payout_totals": None,
        "line_items": line_items,
    }
