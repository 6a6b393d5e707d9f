"""Preview in Paddle: what Paddle would compute for a bill's invoice — items, discount, tax and
total — without creating anything.

The body is the one delivery would POST (the same invoice_prepare and create_operation), cut to
the fields `POST /transactions/preview` takes. Nothing is written, here or in Paddle: a customer
the hub has not made yet is not made for a preview, so Paddle computes tax from the account's
country and postal code instead; an account whose customer and current address are already in
Paddle is previewed with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from paddle_billing import Client

from paddle_destination.businesses import business_values, known_business_id
from paddle_destination.delivery import integration_client, invoice_prepare
from paddle_destination.errors import paddle_errors
from paddle_destination.invoice import MINOR_UNIT_DIGITS
from paddle_destination.parties import (
    account_link,
    address_digest,
    invoice_address,
    known_customer_id,
    remembered_address_id,
)
from runs.models import LogLevel

# The create body's fields that POST /transactions/preview takes too (the rest — collection
# mode, billing details, billing period, custom data — changes no total).
_PREVIEWED = ("items", "currency_code", "discount", "business_id")


@dataclass(frozen=True)
class PreviewLine:
    name: str
    quantity: int
    tax_rate: str  # as Paddle gives it, e.g. "0.2"
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class InvoicePreview:
    currency: str
    lines: list[PreviewLine]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    # Whom Paddle computed for: a customer and address already in Paddle, or the account's
    # country (and postal code) when the customer is not made yet.
    customer_id: str | None
    address_id: str | None
    location: str
    # What delivery would warn about: an address Paddle cannot invoice, a period left out.
    notes: list[str] = field(default_factory=list)


def invoice_preview(*, integration, bill) -> InvoicePreview:
    """Paddle's totals for the invoice `integration` would make of `bill`. Raises PaddleProblem
    (the bill cannot be sent, or Paddle refused the preview)."""
    notes: list[str] = []

    def note(level, message, data):
        if level != LogLevel.INFO:
            notes.append(message)

    invoice = invoice_prepare(bill=bill, integration=integration, log=note)
    client = integration_client(integration)
    account = bill.account
    customer_id = known_customer_id(integration=integration, account=account, log=note)
    fields = invoice_address(account, log=note)
    link = account_link(integration=integration, account=account)
    address_id = remembered_address_id(integration=integration, account=account)
    vouched = (
        customer_id is not None
        and link.vouches_for_customer(customer_id)
        and fields is not None
        and link.vouches_for_address(address_id, address_digest(fields))
    )
    business_id = None
    if vouched:
        business_id = known_business_id(
            integration=integration, account=account, customer_id=customer_id
        )
    if business_id is None and business_values(account=account, integration=integration):
        notes.append(
            "The account's company is not in Paddle as it now stands in m3ter (it is made or "
            "updated when the bill is sent): the preview computes tax as for a consumer."
        )
    operation = invoice.create_operation(
        customer_id=customer_id, address_id=None, business_id=business_id
    )
    body = json.loads(Client.serialize_json_payload(operation))
    payload: dict[str, Any] = {key: body[key] for key in _PREVIEWED if key in body}
    if vouched:
        payload.update(customer_id=customer_id, address_id=address_id)
        location = f"customer {customer_id}, address {address_id}"
    elif fields is not None:
        payload["address"] = {
            "country_code": fields["country_code"],
            "postal_code": fields["postal_code"],
        }
        location = f"{fields['country_code']} {fields['postal_code']} (the account's address)"
    else:
        location = "no address: Paddle computes no tax"
    with paddle_errors("previewing the invoice"):
        data = client.post_raw("/transactions/preview", payload).json()["data"]
    return _preview(
        data, customer_id if vouched else None, payload.get("address_id"), location, notes
    )


def _preview(data, customer_id, address_id, location, notes) -> InvoicePreview:
    currency = data["currency_code"]
    scale = Decimal(10) ** MINOR_UNIT_DIGITS.get(currency, 2)

    def money(value) -> Decimal:
        return Decimal(value or 0) / scale

    details = data["details"]
    lines = [
        PreviewLine(
            name=item["price"].get("name") or item["price"].get("description") or "",
            quantity=line["quantity"],
            tax_rate=line.get("tax_rate") or "0",
            subtotal=money(line["totals"]["subtotal"]),
            discount=money(line["totals"]["discount"]),
            tax=money(line["totals"]["tax"]),
            total=money(line["totals"]["total"]),
        )
        for item, line in zip(data["items"], details["line_items"], strict=True)
    ]
    totals = details["totals"]
    return InvoicePreview(
        currency=currency,
        lines=lines,
        subtotal=money(totals["subtotal"]),
        discount=money(totals["discount"]),
        tax=money(totals["tax"]),
        total=money(totals["total"]),
        customer_id=customer_id,
        address_id=address_id,
        location=location,
        notes=notes,
    )
