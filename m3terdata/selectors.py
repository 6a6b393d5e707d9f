"""Reads about the m3ter mirror for the bill pages."""

import datetime

from django.db.models import Q, QuerySet

from m3terdata.models import Account, Bill, ExternalMapping

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
    """The ids of the accounts whose m3ter id or code is `account`. Filtered on with
    `account_id__in`, this subquery on the (small, indexed) account table keeps the outer query
    on its own index."""
    return Account.objects.filter(Q(m3ter_id=account) | Q(code=account)).values("id")


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
    """A bill with its account and line items (in m3ter's order). Raises Bill.DoesNotExist."""
    return (
        Bill.objects.select_related("account").prefetch_related("line_items").get(m3ter_id=m3ter_id)
    )
