"""Deliver one bill to Paddle as a draft invoice: the contract the run engine calls.

    result = invoice_deliver(integration=..., bill=..., known_transaction_id=None,
                             reconcile=False, on_transaction_created=store, log=run_log)

Order of work, so that a failure leaves nothing half-done that a retry cannot pick up:
1. The invoice is built from the bill first: an unsupported bill fails before any request.
2. The Paddle customer and address (paddle_destination.parties), each resolved when the
   transaction needs it: remembered ones cost no request. The business (B2B), when the account
   has a company name or tax number: see businesses.py.
3. Zero-total bills are not sent, and a billing period starting in the future is left out.
4. The transaction: PATCHed when its id is known (every item replaced); with `reconcile`, one
   this integration made for this bill is looked for first (an earlier attempt may have made it
   and lost the answer) and adopted; otherwise POSTed. `on_transaction_created` is called the
   moment Paddle hands out an id, before anything else can fail.

Every step is logged through `log(level, message, data)`; `data` holds only a redacted summary
(method, path, status, request id, counts, totals), never keys or bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.conf import settings
from django.utils import timezone
from paddle_billing import Client
from paddle_billing.Entities.Shared import CollectionMode
from paddle_billing.Entities.Shared import TransactionStatus as TxnStatus
from paddle_billing.Resources.Shared.Operations import OrderBy, Pager
from paddle_billing.Resources.Transactions.Operations import ListTransactions

from credentials.models import Destination
from m3terpaddle.text import sentences
from paddle_destination.businesses import business_resolve
from paddle_destination.client import paddle_client
from paddle_destination.conversation import Conversation, Log
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.invoice import Invoice, invoice_build
from paddle_destination.mappings import product_mappings
from paddle_destination.parties import Parties, account_link
from runs.models import LogLevel

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


def invoice_prepare(*, bill, integration, log: Log) -> Invoice:
    """The invoice the hub sends for `bill`, with Paddle's preconditions on its data applied
    (the one builder for delivery and preview). Raises PaddleProblem(UNSUPPORTED_BILL)."""
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
    if invoice.billing_period and invoice.billing_period[0] > timezone.now():
        # Paddle refuses a period that starts later than now; clamping would state a period
        # the bill does not have, so the invoice goes without one.
        starts = invoice.billing_period[0].date().isoformat()
        log(
            LogLevel.WARNING,
            f"The bill's period starts on {starts}, in the future, and Paddle refuses a billing "
            "period that starts later than now: the invoice is sent without a billing period.",
            {"billing_period_starts": starts},
        )
        invoice = replace(invoice, billing_period=None)
    return invoice


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
    invoice = invoice_prepare(bill=bill, integration=integration, log=log)
    if invoice.total == 0 and known_transaction_id is None:
        raise PaddleProblem(
            PaddleProblemKind.UNSUPPORTED_BILL,
            f"Bill {bill.m3ter_id} totals zero, so no invoice was made in Paddle: Paddle makes no "
            "invoice PDF for a zero-value transaction.",
            hint="Nothing to do. If the bill is recalculated to a non-zero total, it is sent "
            "then; a bill already sent that drops to zero updates its draft.",
        )
    paddle = Conversation(integration_client(integration), log)
    link = account_link(integration=integration, account=bill.account)
    parties = Parties(paddle, integration=integration, account=bill.account, link=link)

    created = False
    transaction_id = known_transaction_id
    if transaction_id is None and reconcile:
        transaction_id = _adopt(paddle, invoice=invoice, customer_id=parties.customer_id())
        if transaction_id is not None:
            on_transaction_created(transaction_id, parties.customer_id())

    def party(customer_id, address_id) -> dict:
        business_id = business_resolve(
            paddle,
            integration=integration,
            account=bill.account,
            customer_id=customer_id,
            new_customer=parties.new_customer,
        )
        return {"customer_id": customer_id, "address_id": address_id, "business_id": business_id}

    if transaction_id is None:

        def create(customer_id, address_id):
            names = party(customer_id, address_id)
            before_create()
            return _create(paddle, invoice, names, on_transaction_created)

        transaction = parties.retrying_once(create)
        created = True
    else:
        transaction = parties.retrying_once(
            lambda customer_id, address_id: _update(
                paddle, transaction_id, invoice, party(customer_id, address_id)
            )
        )

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
        customer_id=parties.customer_id(),
        url=paddle_transaction_url(
            destination=integration.destination, transaction_id=transaction.id
        ),
        created=created,
        total_note=invoice.total_note,
    )


def integration_client(integration) -> Client:
    """The SDK client of the integration's credential. Raises PaddleProblem(AUTHENTICATION)
    when it has none."""
    if integration.credential is None:
        raise PaddleProblem(
            PaddleProblemKind.AUTHENTICATION,
            f"The integration {integration.name!r} has no credential to call Paddle with.",
            hint="Attach a credential on the integration's page.",
        )
    return paddle_client(credential=integration.credential)


# --- transaction --------------------------------------------------------------------------------


def _adopt(paddle: Conversation, *, invoice: Invoice, customer_id: str) -> str | None:
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


def _explain_immutable(paddle: Conversation, transaction_id: str, problem: PaddleProblem):
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
    problem.message = sentences(
        f"Transaction {transaction_id} is {status} in Paddle, so it can no longer change and "
        "this version of the bill was not applied",
        problem.message,
    )


def _id_from_raw(response) -> str | None:
    try:
        return response.json()["data"]["id"] if response is not None and response.ok else None
    except (ValueError, KeyError, TypeError):
        return None
