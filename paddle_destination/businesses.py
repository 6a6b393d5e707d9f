"""The buyer's business in Paddle (B2B): made from the account's custom fields, so that Paddle
taxes a company as a company (with its tax number, e.g. EU reverse charge) and prints its name,
tax number and company number on the invoice.

Which custom fields hold the company name, tax number and company number is per integration
(Company Name Field, Tax Number Field, Company Number Field; by default `companyName`,
`taxNumber`, `companyNumber`). An account with neither a company name nor a tax number is a
consumer: no business. The business is remembered as an external mapping (Account → Paddle
Business) with a digest of what was sent (SentBusiness), so a known business costs no request
and one whose values changed in m3ter is updated (PATCH) before the invoice is sent.
"""

from __future__ import annotations

import hashlib
import json

from paddle_billing.Entities.Shared import CustomData, Status
from paddle_billing.Resources.Businesses.Operations import (
    CreateBusiness,
    ListBusinesses,
    UpdateBusiness,
)

from paddle_destination.mappings import account_mapping, account_mapping_remember
from paddle_destination.models import SentBusiness
from runs.models import LogLevel

BUSINESS_TABLE = "Business"
NAME_MAX = 255  # Paddle: business name 1–255 (tax_identifier and company_number likewise)


def business_values(*, account, integration) -> dict[str, str] | None:
    """The business as Paddle should hold it, from the account's custom fields; None for a
    consumer (no company name and no tax number)."""
    fields = account.custom_fields or {}

    def read(name: str) -> str:
        value = fields.get(name) if name else None
        return " ".join(str(value).split())[:NAME_MAX] if value is not None else ""

    name = read(integration.business_name_field)
    tax_identifier = read(integration.tax_number_field)
    if not name and not tax_identifier:
        return None
    return {
        # Paddle needs a name; a buyer known only by its tax number goes by the account's.
        "name": name or account.name[:NAME_MAX] or account.code[:NAME_MAX],
        "tax_identifier": tax_identifier,
        "company_number": read(integration.company_number_field),
    }


def business_resolve(
    paddle, *, integration, account, customer_id: str, new_customer: bool = False
) -> str | None:
    """The Paddle business id for this account's invoice, made or brought up to date; None for
    a consumer. `paddle` is the delivery's conversation (calls logged, errors translated).
    `new_customer`: the customer was created by this delivery, so it has no business to look
    up."""
    values = business_values(account=account, integration=integration)
    if values is None:
        return None
    digest = _digest(values)
    mapping = account_mapping(
        account=account, table=BUSINESS_TABLE, integration=integration, include_global=False
    )
    sent = None
    if mapping is not None:
        sent = SentBusiness.objects.filter(business_id=mapping.external_id).first()
    # A business belongs to one customer: when the account's customer changed, the mapped
    # business cannot go on its invoices.
    if mapping is not None and (sent is None or sent.customer_id == customer_id):
        business_id = mapping.external_id
        if sent is None or sent.digest != digest:
            _update(paddle, customer_id, business_id, values)
    else:
        business_id = None if new_customer else _existing(paddle, customer_id, values)
        if business_id is None:
            business_id = _create(paddle, customer_id, values, account)
        else:
            _update(paddle, customer_id, business_id, values)
        account_mapping_remember(
            account=account, table=BUSINESS_TABLE, integration=integration, external_id=business_id
        )
    SentBusiness.objects.update_or_create(
        business_id=business_id, defaults={"digest": digest, "customer_id": customer_id}
    )
    return business_id


def known_business_id(*, integration, account, customer_id: str | None) -> str | None:
    """The business the account's invoice names, when the hub has sent it to this customer as
    the account's custom fields now hold it: no request. None otherwise (a consumer included)."""
    values = business_values(account=account, integration=integration)
    if values is None or customer_id is None:
        return None
    mapping = account_mapping(
        account=account, table=BUSINESS_TABLE, integration=integration, include_global=False
    )
    if mapping is None:
        return None
    sent = SentBusiness.objects.filter(
        business_id=mapping.external_id, customer_id=customer_id, digest=_digest(values)
    ).first()
    return mapping.external_id if sent is not None else None


def _existing(paddle, customer_id: str, values: dict[str, str]) -> str | None:
    """An active business of the customer with the same tax number (or, without one, the same
    name): a customer found by e-mail may already have it."""
    businesses = paddle.call(
        "listing the customer's businesses",
        lambda: list(
            paddle.client.businesses.list(customer_id, ListBusinesses(statuses=[Status.Active]))
        ),
    )
    for business in businesses:
        if values["tax_identifier"]:
            if (business.tax_identifier or "") == values["tax_identifier"]:
                return business.id
        elif business.name.casefold() == values["name"].casefold():
            return business.id
    return None


def _create(paddle, customer_id: str, values: dict[str, str], account) -> str:
    operation = CreateBusiness(
        name=values["name"], custom_data=CustomData({"m3ter_account_id": account.m3ter_id})
    )
    if values["tax_identifier"]:
        operation.tax_identifier = values["tax_identifier"]
    if values["company_number"]:
        operation.company_number = values["company_number"]
    business = paddle.call(
        "creating the customer's business",
        lambda: paddle.client.businesses.create(customer_id, operation),
    )
    paddle.log(
        LogLevel.INFO,
        f"Business {business.id} created for the account's company in Paddle.",
        {"business_id": business.id, "with_tax_number": bool(values["tax_identifier"])},
    )
    return business.id


def _update(paddle, customer_id: str, business_id: str, values: dict[str, str]) -> None:
    operation = UpdateBusiness(
        name=values["name"],
        tax_identifier=values["tax_identifier"] or None,
        company_number=values["company_number"] or None,
    )
    paddle.call(
        f"updating business {business_id} to the account's current company details",
        lambda: paddle.client.businesses.update(customer_id, business_id, operation),
    )


def _digest(values: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
