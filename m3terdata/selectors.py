"""Reads about the m3ter mirror for the bill pages."""

import datetime

from django.db.models import Q, QuerySet

from m3terdata.models import Account, Bill, ExternalMapping, LineItem

BILL_ROW_FIELDS = (
    "id",
    "m3ter_id",
    "version",
    "status",
    "locked",
    "bill_date",
    "start_date",
    "end_date",
    "currency",
    "total",
    "bill_job_id",
    "account__id",
    "account__m3ter_id",
    "account__code",
    "account__name",
)


def account_ids_matching(account: str) -> QuerySet[Account]:
    """The ids of the accounts whose m3ter id or code is `account`, or whose name contains it.
    Filtered on with `account_id__in`, this subquery on the (small) account table keeps the
    outer query on its own index."""
    return Account.objects.filter(
        Q(m3ter_id=account) | Q(code=account) | Q(name__icontains=account)
    ).values("id")


def bill_list(
    *,
    account: str = "",
    status: str = "",
    bill_job_id: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    bill_ids: list[str] | None = None,
) -> QuerySet[Bill]:
    """Bills, latest bill date first, narrowed by any filter given. `account` is an account's
    m3ter id or code; the dates bound the bill date (both included); `bill_ids` are m3ter ids."""
    bills = Bill.objects.select_related("account").only(*BILL_ROW_FIELDS)
    if account:
        bills = bills.filter(account_id__in=account_ids_matching(account))
    if status:
        bills = bills.filter(status=status)
    if bill_job_id:
        bills = bills.filter(bill_job_id=bill_job_id)
    if date_from:
        bills = bills.filter(bill_date__gte=date_from)
    if date_to:
        bills = bills.filter(bill_date__lte=date_to)
    if bill_ids:
        bills = bills.filter(m3ter_id__in=bill_ids)
    return bills.order_by("-bill_date", "m3ter_id")


def external_mapping_matching(*, values: dict) -> QuerySet[ExternalMapping]:
    """The mapping (at most one, by the unique constraints) of the same m3ter entity to the same
    external table for the same integration (or for every integration) as `values`."""
    return ExternalMapping.objects.filter(
        m3ter_entity=values["m3ter_entity"],
        m3ter_id=values["m3ter_id"],
        external_system=values["external_system"],
        external_table=values["external_table"],
        integration_id=values.get("integration_id"),
    )


def bill_detail(*, m3ter_id: str) -> Bill:
    """A bill with its account (its line items, possibly 100,000 of them, come a page at a time
    from bill_line_items). Raises Bill.DoesNotExist."""
    return Bill.objects.select_related("account").get(m3ter_id=m3ter_id)


def bill_line_items(*, bill: Bill) -> QuerySet[LineItem]:
    """A bill's line items in m3ter's order, to be paged."""
    return bill.line_items.order_by("sequence", "pk")


def external_mapping_records(
    *,
    m3ter_entity: str | None = None,
    m3ter_id: str | None = None,
    m3ter_ids: list[str] | None = None,
    external_system: str | None = None,
    external_table: str | None = None,
    external_id: str | None = None,
    integration_id=None,
) -> QuerySet[ExternalMapping]:
    """Mappings narrowed by any filter given (an empty m3ter_ids list narrows nothing)."""
    lookups = {
        "m3ter_entity": m3ter_entity,
        "m3ter_id": m3ter_id,
        "m3ter_id__in": m3ter_ids or None,
        "external_system": external_system,
        "external_table": external_table,
        "external_id": external_id,
        "integration_id": integration_id,
    }
    return ExternalMapping.objects.filter(
        **{lookup: value for lookup, value in lookups.items() if value is not None}
    )


def external_mapping_get(*, mapping_id) -> ExternalMapping | None:
    """The mapping with this id, or None. A malformed id raises ValueError or ValidationError,
    so callers can tell it from an unknown one."""
    return ExternalMapping.objects.filter(pk=mapping_id).first()


def account_records(
    *, m3ter_ids: list[str] | None = None, codes: list[str] | None = None
) -> QuerySet[Account]:
    """Accounts narrowed by any non-empty list of m3ter ids or codes given."""
    accounts = Account.objects.all()
    if m3ter_ids:
        accounts = accounts.filter(m3ter_id__in=m3ter_ids)
    if codes:
        accounts = accounts.filter(code__in=codes)
    return accounts


def account_get(*, m3ter_id: str) -> Account | None:
    return Account.objects.filter(m3ter_id=m3ter_id).first()


def account_exists(*, m3ter_id: str) -> bool:
    return Account.objects.filter(m3ter_id=m3ter_id).exists()


def bill_records(
    *,
    account_m3ter_id: str | None = None,
    status: str | None = None,
    locked: bool | None = None,
    m3ter_ids: list[str] | None = None,
    bill_job_id: str | None = None,
    bill_date: datetime.date | None = None,
    bill_date_from: datetime.date | None = None,
    bill_date_before: datetime.date | None = None,
    billing_frequency: str | None = None,
) -> QuerySet[Bill]:
    """Bills with their account and line items, narrowed by any filter given (`bill_date_from`
    included, `bill_date_before` not; an empty m3ter_ids list narrows nothing)."""
    lookups = {
        "account__m3ter_id": account_m3ter_id,
        "status": status,
        "locked": locked,
        "m3ter_id__in": m3ter_ids or None,
        "bill_job_id": bill_job_id,
        "bill_date": bill_date,
        "bill_date__gte": bill_date_from,
        "bill_date__lt": bill_date_before,
        "billing_frequency": billing_frequency,
    }
    return (
        Bill.objects.select_related("account")
        .prefetch_related("line_items")
        .filter(**{lookup: value for lookup, value in lookups.items() if value is not None})
    )


def bill_get(*, m3ter_id: str) -> Bill | None:
    """A bill with its account and line items, or None."""
    return bill_records().filter(m3ter_id=m3ter_id).first()


def bill_exists(*, m3ter_id: str) -> bool:
    return Bill.objects.filter(m3ter_id=m3ter_id).exists()
