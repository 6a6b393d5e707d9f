"""The Paddle customer and address a bill's invoice names, at the fewest requests Paddle allows.

- The customer: the account's external mapping (Use External Mapping Account Code), else the
  one remembered for this integration, else created from the account with no look-up first; when
  Paddle answers `customer_already_exists`, the customer its message names. A customer the hub
  did not create is made fit for an invoice before use: reactivated if archived, named after the
  account if nameless.
- The address: the account's current m3ter address. The one recorded for the account is used
  while the account's address is what it held; when the m3ter address changes, that Paddle
  address is updated. A customer the hub did not create may already have the account's exact
  address (used, reactivated if archived); otherwise one is created. Never "any complete address
  the customer has". Paddle only accepts an invoice address with a country, first line, city,
  postal code and region; without one the invoice stays a draft.

What has been made sure of is kept in PaddleAccountLink, so a bill for a known customer costs
no request here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from paddle_billing.Entities.Shared import CountryCode, CustomData, Status
from paddle_billing.Resources.Addresses.Operations import (
    CreateAddress,
    ListAddresses,
    UpdateAddress,
)
from paddle_billing.Resources.Customers.Operations import (
    CreateCustomer,
    ListCustomers,
    UpdateCustomer,
)

from paddle_destination.conversation import Conversation, Log
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.mappings import ACCOUNT_ENTITY, PADDLE_SYSTEM
from paddle_destination.mappings import account_mapping as _mapping
from paddle_destination.mappings import account_mapping_remember as _remember
from paddle_destination.models import PaddleAccountLink
from runs.models import LogLevel

CUSTOMER_TABLE = "Customer"
ADDRESS_TABLE = "Address"
_CUSTOMER_ID = re.compile(r"ctm_[a-z\d]{26}")
# The address fields Paddle requires on a manually-collected transaction's address, as m3ter
# names them (transaction_address_not_suitable_for_collection_mode).
_INVOICE_ADDRESS_FIELDS = {
    "addressLine1": "first line",
    "locality": "city",
    "postCode": "postal code",
    "region": "region",
}
# Names people write instead of the ISO 3166-1 code Paddle wants.
_COUNTRY_ALIASES = {"UK": "GB"}
# The countries Paddle accepts on an address (the SDK's CountryCode members: the spec's
# country_code_supported list; the SDK itself would pass any code through).
_SUPPORTED_COUNTRIES = frozenset(
    name for name, value in vars(CountryCode).items() if isinstance(value, CountryCode)
)


def account_link(*, integration, account) -> PaddleAccountLink:
    link = PaddleAccountLink.objects.filter(
        integration=integration, account_m3ter_id=account.m3ter_id
    ).first()
    return link or PaddleAccountLink(integration=integration, account_m3ter_id=account.m3ter_id)


_UNRESOLVED = object()


class Parties:
    """The customer and address a bill's transaction names, each resolved on first use.

    What the account's PaddleAccountLink vouches for is taken without asking Paddle; anything
    else is checked (named, active, the account's current address) and recorded. If Paddle then
    refuses what the link vouched for (archived or changed in Paddle since), both are checked
    again and the request is sent once more."""

    def __init__(self, paddle: Conversation, *, integration, account, link: PaddleAccountLink):
        self.paddle = paddle
        self.integration = integration
        self.account = account
        self.link = link
        self._customer: str | None = None
        self.new_customer = False  # created by this delivery: it has no addresses yet
        self._address: str | None | object = _UNRESOLVED
        self.vouched = True  # nothing was checked in Paddle during this delivery

    def customer_id(self) -> str:
        if self._customer is None:
            self._customer, self.new_customer = _customer_id(self)
        return self._customer

    def address_id(self) -> str | None:
        if self._address is _UNRESOLVED:
            self._address = _address_id(self, customer=self.customer_id())
        return self._address

    def retrying_once(self, send: Callable[[str, str | None], Any]):
        try:
            return send(self.customer_id(), self.address_id())
        except PaddleProblem as problem:
            if not (self.vouched and self.link.pk and _about_customer_or_address(problem)):
                raise
        self.paddle.log(
            LogLevel.INFO,
            "Paddle refused the customer or address remembered for this account: both are "
            "checked again in Paddle and the request is sent once more.",
            {"customer_id": self.link.customer_id, "address_id": self.link.address_id},
        )
        self.link.customer_id = self.link.address_id = self.link.address_digest = ""
        self._customer, self._address = None, _UNRESOLVED
        return send(self.customer_id(), self.address_id())

    def remember(self, **fields) -> None:
        self.vouched = False
        for name, value in fields.items():
            setattr(self.link, name, value)
        # Two workers may deliver the first bills of one account at once: the last one to
        # check is recorded, whichever made the row.
        values = {f: getattr(self.link, f) for f in ("customer_id", "address_id", "address_digest")}
        self.link, _ = PaddleAccountLink.objects.update_or_create(
            integration=self.integration, account_m3ter_id=self.account.m3ter_id, defaults=values
        )


def _about_customer_or_address(problem: PaddleProblem) -> bool:
    return problem.code in (
        "transaction_customer_not_suitable_for_collection_mode",
        "transaction_address_not_suitable_for_collection_mode",
    ) or any(e["field"] in ("customer_id", "address_id") for e in problem.field_errors)


def known_customer_id(*, integration, account, log: Log) -> str | None:
    """The customer the account is mapped to, without asking Paddle; None when the integration
    may create it. Raises PaddleProblem(MISSING_MAPPING)."""
    if integration.use_external_mapping_account_code:
        return _mapped_customer_id(integration=integration, account=account, log=log)
    mapping = _mapping(
        account=account, table=CUSTOMER_TABLE, integration=integration, include_global=False
    )
    if mapping is not None:
        return mapping.external_id
    if not account.email:
        raise PaddleProblem(
            PaddleProblemKind.MISSING_MAPPING,
            f"Account {account.name!r} ({account.m3ter_id}) has no e-mail address, and Paddle "
            "needs one to create the customer.",
            hint="Add an e-mail address to the account in m3ter, or map the account to an "
            "existing Paddle customer (external mapping: entity Account, system Paddle, table "
            "Customer) and turn on Use External Mapping Account Code.",
        )
    return None


def _customer_id(parties: Parties) -> tuple[str, bool]:
    """The account's customer, and whether it was created just now."""
    paddle, account, integration = parties.paddle, parties.account, parties.integration
    known = known_customer_id(integration=integration, account=account, log=paddle.log)
    if known is not None and parties.link.vouches_for_customer(known):
        return known, False
    if known is not None:
        _customer_ready(paddle, customer_id=known, account=account)
        created = False
    else:
        known, created = _customer_create_or_find(paddle, account=account)
        _remember(account=account, table=CUSTOMER_TABLE, integration=integration, external_id=known)
    if known != parties.link.customer_id:
        parties.remember(customer_id=known, address_id="", address_digest="")
    return known, created


def _mapped_customer_id(*, integration, account, log: Log) -> str:
    mapping = _mapping(
        account=account, table=CUSTOMER_TABLE, integration=integration, include_global=True
    )
    wanted = (
        f"an external mapping with m3ter entity {ACCOUNT_ENTITY}, m3ter id {account.m3ter_id}, "
        f"external system {PADDLE_SYSTEM}, external table {CUSTOMER_TABLE} and as external id "
        "the Paddle customer id (ctm_…), for this integration or for all integrations"
    )
    if mapping is None:
        raise PaddleProblem(
            PaddleProblemKind.MISSING_MAPPING,
            f"Account {account.name!r} ({account.m3ter_id}) has no external mapping to a Paddle "
            "customer, and the integration uses external mappings for accounts.",
            hint=f"Create {wanted}; or turn off Use External Mapping Account Code to let the "
            "integration find or create the customer by e-mail.",
        )
    if not _CUSTOMER_ID.fullmatch(mapping.external_id):
        raise PaddleProblem(
            PaddleProblemKind.MISSING_MAPPING,
            f"Account {account.name!r} ({account.m3ter_id}) is mapped to {mapping.external_id!r}, "
            "which is not a Paddle customer id (ctm_ followed by 26 letters and digits).",
            hint=f"Correct the mapping: {wanted}.",
        )
    log(
        LogLevel.INFO,
        f"Customer {mapping.external_id} from the account's external mapping.",
        {"customer_id": mapping.external_id, "mapping_id": str(mapping.id)},
    )
    return mapping.external_id


def _customer_create_or_find(paddle: Conversation, *, account) -> tuple[str, bool]:
    """A new customer for the account, with no look-up first; or, when Paddle answers that the
    e-mail is taken, the existing one it names, made ready for an invoice."""
    operation = CreateCustomer(
        email=account.email,
        name=_account_name(account),
        custom_data=CustomData({"m3ter_account_id": account.m3ter_id, "m3ter_code": account.code}),
    )
    try:
        customer = paddle.call(
            "creating the customer",
            lambda: paddle.client.customers.create(operation),
            expected=("customer_already_exists",),
        )
        return customer.id, True
    except PaddleProblem as problem:
        if problem.code != "customer_already_exists":
            raise
        found = _CUSTOMER_ID.search(problem.message)
        customer_id = found.group(0) if found else _customer_by_email(paddle, account, problem)
    _customer_ready(paddle, customer_id=customer_id, account=account)
    return customer_id, False


def _customer_by_email(paddle: Conversation, account, conflict: PaddleProblem) -> str:
    # Paddle's detail named no id: look the customer up by e-mail (archived ones too, since the
    # e-mail conflict counts them).
    customers = paddle.call(
        "looking up the customer by e-mail",
        lambda: paddle.client.customers.list(
            ListCustomers(emails=[account.email], statuses=[Status.Active, Status.Archived])
        ),
    )
    for customer in customers:
        return customer.id
    raise conflict


def _customer_ready(paddle: Conversation, *, customer_id: str, account) -> None:
    """Make a customer the hub did not create fit for an invoice: reactivated if archived,
    named after the account if nameless (Paddle refuses an invoice for a nameless customer)."""
    customer = paddle.call(
        f"reading customer {customer_id}", lambda: paddle.client.customers.get(customer_id)
    )
    changes, done = UpdateCustomer(), []
    if customer.status != Status.Active:
        changes.status = Status.Active
        done.append("reactivated (it was archived in Paddle)")
    if not (customer.name or "").strip():
        changes.name = _account_name(account)
        done.append("given the account's name (it had none)")
    if not done:
        paddle.log(
            LogLevel.INFO,
            f"Customer {customer_id} is active and named: used as it is.",
            {"customer_id": customer_id},
        )
        return
    paddle.call(
        f"updating customer {customer_id}",
        lambda: paddle.client.customers.update(customer_id, changes),
    )
    paddle.log(
        LogLevel.INFO,
        f"Customer {customer_id} was {' and '.join(done)}.",
        {"customer_id": customer_id},
    )


def _account_name(account) -> str:
    return account.name or account.code


def _address_id(parties: Parties, *, customer: str) -> str | None:
    """The Paddle address holding the account's current address: the one recorded when still
    current; else the recorded one updated, one of the customer's that matches (reactivated if
    archived), or a new one; None when the account's address cannot be an invoice address."""
    paddle, account, integration = parties.paddle, parties.account, parties.integration
    fields = invoice_address(account, log=paddle.log)
    if fields is None:
        return None
    digest = address_digest(fields)
    known = remembered_address_id(integration=integration, account=account)
    if known and parties.link.vouches_for_address(known, digest):
        return known
    address_id = known and _address_update(paddle, customer=customer, address=known, fields=fields)
    if not address_id:
        if not parties.new_customer:
            address_id = _matching_address(paddle, customer, fields)
        address_id = address_id or _address_create(paddle, customer=customer, fields=fields)
        _remember(
            account=account, table=ADDRESS_TABLE, integration=integration, external_id=address_id
        )
    parties.remember(address_id=address_id, address_digest=digest)
    return address_id


def remembered_address_id(*, integration, account) -> str | None:
    """The Paddle address last used for the account's invoices under this integration."""
    mapping = _mapping(
        account=account, table=ADDRESS_TABLE, integration=integration, include_global=False
    )
    return mapping.external_id if mapping is not None else None


def address_digest(fields: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def invoice_address(account, *, log: Log) -> dict[str, str] | None:
    """The account's address as Paddle's address fields, or None (logged) when it lacks what
    Paddle needs on an invoice address."""
    values = {key: _address_text(value) for key, value in (account.address or {}).items()}
    country = _country_code(values.get("country"))
    missing = [label for key, label in _INVOICE_ADDRESS_FIELDS.items() if not values.get(key)]
    if country is None or missing:
        given = values.get("country") or None
        if country is None:
            # Paddle refuses an address in a country it does not sell to, as it does one
            # without a country.
            missing.insert(0, f"country Paddle supports (given: {given})" if given else "country")
        log(
            LogLevel.WARNING,
            f"The account's address has no {', '.join(missing)}, which Paddle needs on an "
            "invoice address: the invoice stays a draft until the address is completed in "
            "m3ter and the bill is sent again.",
            {"missing": missing, "country_given": given},
        )
        return None
    second = " ".join(v for v in (values.get(f"addressLine{n}") for n in (2, 3, 4)) if v)
    return {
        "country_code": country,
        "first_line": values["addressLine1"],
        "second_line": second,
        "city": values["locality"],
        "postal_code": values["postCode"],
        "region": values["region"],
    }


def _address_update(paddle: Conversation, *, customer: str, address: str, fields) -> str | None:
    """Bring the recorded address to the account's current one (reactivating it if it was
    archived); None when Paddle no longer has it under this customer."""
    operation = UpdateAddress(
        country_code=CountryCode(fields["country_code"]),
        first_line=fields["first_line"],
        second_line=fields["second_line"] or None,
        city=fields["city"],
        postal_code=fields["postal_code"],
        region=fields["region"],
        status=Status.Active,
    )
    try:
        paddle.call(
            f"updating address {address} to the account's current address",
            lambda: paddle.client.addresses.update(customer, address, operation),
            expected=("not_found",),
        )
    except PaddleProblem as problem:
        if problem.kind != PaddleProblemKind.NOT_FOUND:
            raise
        return None
    paddle.log(
        LogLevel.INFO,
        f"Address {address} now holds the account's current address.",
        {"address_id": address},
    )
    return address


def _matching_address(paddle: Conversation, customer: str, fields) -> str | None:
    """An address of a customer the hub did not create that is exactly the account's address
    (reactivated if archived); never just any complete address it happens to have."""
    addresses = paddle.call(
        "listing the customer's addresses",
        lambda: paddle.client.addresses.list(
            customer, ListAddresses(statuses=[Status.Active, Status.Archived])
        ),
    )
    for address in addresses:
        held = {
            "country_code": str(address.country_code),
            "first_line": address.first_line or "",
            "second_line": address.second_line or "",
            "city": address.city or "",
            "postal_code": address.postal_code or "",
            "region": address.region or "",
        }
        if held != fields:
            continue
        if address.status == Status.Active:
            paddle.log(
                LogLevel.INFO,
                f"Address {address.id} of the customer is the account's address: used.",
                {"address_id": address.id},
            )
            return address.id
        return _address_update(paddle, customer=customer, address=address.id, fields=fields)
    return None


def _address_create(paddle: Conversation, *, customer: str, fields) -> str:
    operation = CreateAddress(
        country_code=CountryCode(fields["country_code"]),
        first_line=fields["first_line"],
        city=fields["city"],
        postal_code=fields["postal_code"],
        region=fields["region"],
    )
    if fields["second_line"]:
        operation.second_line = fields["second_line"]
    return paddle.call(
        "creating the customer's address",
        lambda: paddle.client.addresses.create(customer, operation),
    ).id


def _address_text(value) -> str:
    """m3ter's address values as the strings Paddle wants (a post code may come as a number);
    blank counts as missing."""
    return "" if value is None else str(value).strip()


def _country_code(value: str | None) -> str | None:
    """The ISO code Paddle accepts for `value`, or None when Paddle does not support it."""
    code = (value or "").strip().upper()
    code = _COUNTRY_ALIASES.get(code, code)
    return code if code in _SUPPORTED_COUNTRIES else None
