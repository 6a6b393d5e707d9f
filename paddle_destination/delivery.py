"""Deliver one bill to Paddle as a draft invoice: the contract the run engine calls.

    result = invoice_deliver(integration=..., bill=..., known_transaction_id=None,
                             reconcile=False, on_transaction_created=store, log=run_log)

Order of work, so that a failure leaves nothing half-done that a retry cannot pick up:
1. The invoice is built from the bill first: an unsupported bill fails before any request.
2. The Paddle customer: from the account's external mapping (Use External Mapping Account
   Code), else the one remembered for this integration, else found or created by the account's
   e-mail and remembered (an ExternalMapping for this integration: sandbox and live are
   different Paddle accounts, and an integration sends to one of them).
3. The address: remembered, else an existing usable one of the customer, else created from the
   account's address and remembered. Paddle only accepts an invoice address with a country,
   first line, city, postal code and region; without one the invoice stays a draft.
   The business (B2B), when the account has a company name or tax number: see businesses.py.
4. The transaction: PATCHed when its id is known (every item replaced); with `reconcile`, one
   this integration made for this bill is looked for first (an earlier attempt may have made it
   and lost the answer) and adopted; otherwise POSTed. `on_transaction_created` is called the
   moment Paddle hands out an id, before anything else can fail.

Every step is logged through `log(level, message, data)`; `data` holds only a redacted summary
(method, path, status, request id, counts, totals), never keys or bodies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from paddle_billing import Client
from paddle_billing.Entities.Shared import CollectionMode, CountryCode, CustomData, Status
from paddle_billing.Entities.Shared import TransactionStatus as TxnStatus
from paddle_billing.Resources.Addresses.Operations import CreateAddress, ListAddresses
from paddle_billing.Resources.Customers.Operations import CreateCustomer, ListCustomers
from paddle_billing.Resources.Shared.Operations import OrderBy, Pager
from paddle_billing.Resources.Transactions.Operations import ListTransactions

from credentials.models import Destination
from paddle_destination.businesses import business_resolve
from paddle_destination.client import client_exchanges, paddle_client
from paddle_destination.errors import PaddleProblem, PaddleProblemKind, paddle_errors
from paddle_destination.invoice import Invoice, invoice_build
from paddle_destination.mappings import ACCOUNT_ENTITY, PADDLE_SYSTEM, product_mappings
from paddle_destination.mappings import account_mapping as _mapping
from paddle_destination.mappings import account_mapping_remember as _remember
from runs.models import LogLevel

CUSTOMER_TABLE = "Customer"
ADDRESS_TABLE = "Address"
MUTABLE_STATUSES = ("draft", "ready")
# What a transaction made for a bill can be in, canceled aside: a canceled invoice is replaced.
_RECONCILE_STATUSES = [
    TxnStatus.Draft,
    TxnStatus.Ready,
    TxnStatus.Billed,
    TxnStatus.Paid,
    TxnStatus.PastDue,
    TxnStatus.Completed,
]
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

Log = Callable[[str, str, dict[str, Any]], None]


@dataclass
class DeliveryResult:
    transaction_id: str
    status: str
    customer_id: str
    url: str  # the transaction in Paddle's dashboard
    created: bool
    # Why the invoice's total before tax is not the bill's (excluded lines); empty when equal.
    total_note: str = ""


def paddle_transaction_url(*, destination: str, transaction_id: str) -> str:
    """The transaction's page in the Paddle dashboard (`/transactions-v2/{id}` is the path
    Paddle Billing's dashboard uses for a transaction, invoices included)."""
    base = (
        settings.PADDLE_SANDBOX_DASHBOARD_URL
        if destination == Destination.PADDLE_SANDBOX
        else settings.PADDLE_DASHBOARD_URL
    )
    return f"{base.rstrip('/')}/transactions-v2/{transaction_id}"


def invoice_deliver(
    *,
    integration,
    bill,
    known_transaction_id: str | None,
    reconcile: bool,
    on_transaction_created: Callable[[str, str], None],
    log: Log,
    before_create: Callable[[], None] = lambda: None,
) -> DeliveryResult:
    """Create or update the bill's draft invoice in Paddle. Raises PaddleProblem."""
    line_items = list(bill.line_items.all())
    product_ids, unusable = product_mappings(
        integration=integration, product_ids=(li.product_id for li in line_items)
    )
    for mapping in unusable:
        log(
            LogLevel.WARNING,
            f"The external mapping of m3ter product {mapping.m3ter_id} to Paddle names "
            f"{mapping.external_id!r}, which is not a Paddle product id (pro_…): its lines are "
            "sent with the integration's tax category instead.",
            {"mapping_id": str(mapping.id)},
        )
    invoice = invoice_build(
        bill=bill, line_items=line_items, integration=integration, product_ids=product_ids
    )
    log(LogLevel.INFO, "Invoice prepared from the bill.", invoice.summary())
    if invoice.total_note:
        log(
            LogLevel.WARNING,
            invoice.total_note,
            {"difference_minor_units": invoice.bill_total - invoice.total},
        )
    rounding = invoice.rounding_note()
    if rounding:
        log(LogLevel.INFO, rounding, {})
    if integration.credential is None:
        raise PaddleProblem(
            PaddleProblemKind.AUTHENTICATION,
            f"The integration {integration.name!r} has no credential to call Paddle with.",
            hint="Attach a credential on the integration's page.",
        )
    paddle = _Conversation(paddle_client(credential=integration.credential), log)
    account = bill.account
    customer_id = _customer_id(paddle, integration=integration, account=account)
    address_id = _address_id(paddle, integration=integration, account=account, customer=customer_id)
    business_id = business_resolve(
        paddle, integration=integration, account=account, customer_id=customer_id
    )
    party = {"customer_id": customer_id, "address_id": address_id, "business_id": business_id}

    created = False
    transaction_id = known_transaction_id
    if transaction_id is None and reconcile:
        transaction_id = _adopt(paddle, invoice=invoice, customer_id=customer_id)
        if transaction_id is not None:
            on_transaction_created(transaction_id, customer_id)
    if transaction_id is None:
        before_create()
        transaction = _create(paddle, invoice, party, on_transaction_created)
        created = True
    else:
        transaction = _update(paddle, transaction_id, invoice, party)

    status = str(transaction.status)
    if status == "draft":
        log(
            LogLevel.INFO,
            f"Transaction {transaction.id} is a draft in Paddle: it becomes ready to issue "
            "once it has a customer address.",
            {"transaction_id": transaction.id},
        )
    return DeliveryResult(
        transaction_id=transaction.id,
        status=status,
        customer_id=customer_id,
        url=paddle_transaction_url(
            destination=integration.destination, transaction_id=transaction.id
        ),
        created=created,
        total_note=invoice.total_note,
    )


class _Conversation:
    """One delivery's calls to Paddle: each is translated into PaddleProblem and logged."""

    def __init__(self, client: Client, log: Log) -> None:
        self.client = client
        self.log = log
        self._logged = 0

    def call(self, action: str, request: Callable[[], Any], *, expected: tuple[str, ...] = ()):
        """Run `request` (one SDK call); `expected` are Paddle error codes the caller handles,
        logged as information rather than as a failure."""
        try:
            with paddle_errors(action):
                result = request()
        except PaddleProblem as problem:
            if problem.code in expected:
                message = f"Paddle: {problem.message} This is expected and handled."
                self.log(LogLevel.INFO, message, self._exchanges(problem.as_dict()))
            else:
                message = f"Paddle: {problem.message}"
                self.log(LogLevel.WARNING, message, self._exchanges(problem.as_dict()))
            raise
        self.log(LogLevel.INFO, f"Paddle: done {action}.", self._exchanges({}))
        return result

    def _exchanges(self, extra: dict[str, Any]) -> dict[str, Any]:
        exchanges = client_exchanges(self.client)
        new, self._logged = exchanges[self._logged :], len(exchanges)
        return {"requests": [e.as_dict() for e in new], **extra}


# --- customer -----------------------------------------------------------------------------------


def _customer_id(paddle: _Conversation, *, integration, account) -> str:
    if integration.use_external_mapping_account_code:
        return _mapped_customer_id(paddle, integration=integration, account=account)
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
    customer_id = _customer_create_or_find(paddle, account=account)
    _remember(
        account=account, table=CUSTOMER_TABLE, integration=integration, external_id=customer_id
    )
    return customer_id


def _mapped_customer_id(paddle: _Conversation, *, integration, account) -> str:
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
    paddle.log(
        LogLevel.INFO,
        f"Customer {mapping.external_id} from the account's external mapping.",
        {"customer_id": mapping.external_id, "mapping_id": str(mapping.id)},
    )
    return mapping.external_id


def _customer_create_or_find(paddle: _Conversation, *, account) -> str:
    operation = CreateCustomer(
        email=account.email,
        name=account.name or account.code,
        custom_data=CustomData({"m3ter_account_id": account.m3ter_id, "m3ter_code": account.code}),
    )
    try:
        return paddle.call(
            "creating the customer",
            lambda: paddle.client.customers.create(operation),
            expected=("customer_already_exists",),
        ).id
    except PaddleProblem as problem:
        if problem.code != "customer_already_exists":
            raise
        found = _CUSTOMER_ID.search(problem.message)
        if found:
            return found.group(0)
        conflict = problem
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


# --- address ------------------------------------------------------------------------------------


def _address_id(paddle: _Conversation, *, integration, account, customer: str) -> str | None:
    mapping = _mapping(
        account=account, table=ADDRESS_TABLE, integration=integration, include_global=False
    )
    if mapping is not None:
        return mapping.external_id
    values = {key: _address_text(value) for key, value in (account.address or {}).items()}
    country = _country_code(values.get("country"))
    missing = [label for key, label in _INVOICE_ADDRESS_FIELDS.items() if not values.get(key)]
    if country is None or missing:
        given = values.get("country") or None
        if country is None:
            # Paddle refuses an address in a country it does not sell to, as it does one
            # without a country.
            missing.insert(0, f"country Paddle supports (given: {given})" if given else "country")
        paddle.log(
            LogLevel.WARNING,
            f"The account's address has no {', '.join(missing)}, which Paddle needs on an "
            "invoice address: the invoice stays a draft until the address is completed in "
            "m3ter and the bill is sent again.",
            {"missing": missing, "country_given": given},
        )
        return None
    address_id = _usable_address(paddle, customer) or _address_create(
        paddle, customer=customer, values=values, country=country
    )
    _remember(account=account, table=ADDRESS_TABLE, integration=integration, external_id=address_id)
    return address_id


def _usable_address(paddle: _Conversation, customer: str) -> str | None:
    """An active address of the customer that Paddle accepts on an invoice, if there is one
    (a customer found by e-mail, or mapped, may already have it)."""
    addresses = paddle.call(
        "listing the customer's addresses",
        lambda: paddle.client.addresses.list(customer, ListAddresses(statuses=[Status.Active])),
    )
    for address in addresses:
        if all(
            (address.country_code, address.first_line, address.city, address.postal_code,
             address.region)
        ):  # fmt: skip
            return address.id
    return None


def _address_create(paddle: _Conversation, *, customer: str, values: dict, country: str) -> str:
    second = " ".join(v for v in (values.get(f"addressLine{n}") for n in (2, 3, 4)) if v)
    operation = CreateAddress(
        country_code=CountryCode(country),
        first_line=values["addressLine1"],
        city=values["locality"],
        postal_code=values["postCode"],
        region=values["region"],
    )
    if second:
        operation.second_line = second
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


# --- transaction --------------------------------------------------------------------------------


def _adopt(paddle: _Conversation, *, invoice: Invoice, customer_id: str) -> str | None:
    """The id of a transaction this integration already made for this bill, if any.

    Paddle cannot filter on custom_data, so the customer's manual transactions are listed
    (newest first, every page) and matched on the bill and integration ids we put there.
    """
    listing = ListTransactions(
        pager=Pager(order_by=OrderBy.id_descending(), per_page=30),
        customer_ids=[customer_id],
        collection_mode=CollectionMode.Manual,
        statuses=_RECONCILE_STATUSES,
    )
    transactions = paddle.call(
        "looking for a transaction made earlier for this bill",
        lambda: list(paddle.client.transactions.list(listing)),
    )
    ours = [
        t
        for t in transactions
        if t.custom_data is not None
        and isinstance(t.custom_data.data, dict)
        and t.custom_data.data.get("m3ter_bill_id") == invoice.bill_id
        and t.custom_data.data.get("integration_id") == invoice.custom_data["integration_id"]
    ]
    if not ours:
        paddle.log(
            LogLevel.INFO,
            "No transaction from an earlier attempt: a new one is created.",
            {"scanned": len(transactions)},
        )
        return None
    editable = [t for t in ours if str(t.status) in MUTABLE_STATUSES]
    chosen = (editable or ours)[0]
    paddle.log(
        LogLevel.INFO,
        f"Found transaction {chosen.id} ({chosen.status}) made for this bill by an earlier "
        "attempt: it is updated instead of creating another.",
        {"transaction_id": chosen.id, "status": str(chosen.status), "matches": len(ours)},
    )
    return chosen.id


def _create(paddle, invoice, party, on_transaction_created):
    customer_id = party["customer_id"]
    operation = invoice.create_operation(**party)
    resource = paddle.client.transactions
    resource.response = None
    try:
        transaction = paddle.call("creating the transaction", lambda: resource.create(operation))
    except PaddleProblem:
        raise
    except Exception:
        # Paddle made the transaction but its answer did not parse: keep the id all the same,
        # or the next attempt would make a second invoice.
        made = _id_from_raw(resource.response)
        if made:
            on_transaction_created(made, customer_id)
        raise
    on_transaction_created(transaction.id, customer_id)
    return transaction


def _update(paddle, transaction_id, invoice, party):
    operation = invoice.update_operation(**party)
    try:
        return paddle.call(
            f"updating transaction {transaction_id}",
            lambda: paddle.client.transactions.update(transaction_id, operation),
            expected=("transaction_immutable",),
        )
    except PaddleProblem as problem:
        if problem.kind == PaddleProblemKind.IMMUTABLE:
            _explain_immutable(paddle, transaction_id, problem)
        raise


def _explain_immutable(paddle: _Conversation, transaction_id: str, problem: PaddleProblem):
    """Say what the transaction became (billed, paid, canceled…) in the problem's message."""
    try:
        status = str(
            paddle.call(
                f"reading transaction {transaction_id}",
                lambda: paddle.client.transactions.get(transaction_id),
            ).status
        )
    except PaddleProblem:
        status = "no longer a draft"
    problem.message = (
        f"Transaction {transaction_id} is {status} in Paddle, so it can no longer change and "
        f"this version of the bill was not applied. {problem.message}"
    )


def _id_from_raw(response) -> str | None:
    try:
        return response.json()["data"]["id"] if response is not None and response.ok else None
    except (ValueError, KeyError, TypeError):
        return None
