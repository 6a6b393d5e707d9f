"""Reads about integrations: which ones a bill goes to, and why."""

from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery

from integrations.account_filter import account_filter_values, compile_filter
from integrations.models import EntityType, IntegrationConfiguration
from m3terdata.models import Account, Bill, BillStatus

# What account_filter_values reads from an Account, so filter checks load nothing else.
FILTER_ACCOUNT_FIELDS = ("m3ter_id", "name", "code", "currency", "address", "custom_fields")


@dataclass(frozen=True)
class BillDecision:
    integration: IntegrationConfiguration
    send: bool
    reason: str


def integration_account_selected(*, integration: IntegrationConfiguration, account) -> str | None:
    """None when the integration's account rules select the account, else why not."""
    if integration.account_ids and account.m3ter_id not in integration.account_ids:
        return "The account is not in Account Ids."
    if account.m3ter_id in integration.restricted_account_ids:
        return "The account is in Restricted Account Ids."
    if integration.account_filter and not compile_filter(integration.account_filter).matches(
        account_filter_values(account)
    ):
        return f"The Account Filter ({integration.account_filter}) does not match the account."
    return None


def integration_decisions_for_bill(*, bill: Bill, delivered_hashes: dict | None = None):
    """For every Bill integration, whether this version of the bill goes to it and why.

    delivered_hashes maps integration id → hash of the content last delivered successfully;
    it is read here when not given."""
    from runs.models import Delivery

    integrations = list(
        IntegrationConfiguration.objects.filter(entity_type=EntityType.BILL).order_by("name")
    )
    if delivered_hashes is None:
        delivered_hashes = dict(
            Delivery.objects.filter(bill_m3ter_id=bill.m3ter_id).values_list(
                "integration_id", "delivered_hash"
            )
        )
    decisions = []
    for integration in integrations:
        why_not = integration_bill_refusal(
            integration=integration, bill=bill, delivered_hash=delivered_hashes.get(integration.id)
        )
        decisions.append(
            BillDecision(
                integration=integration,
                send=why_not is None,
                reason=why_not or "Sent: the integration selects this bill.",
            )
        )
    return decisions


def integration_bill_refusal(*, integration, bill, delivered_hash: str | None) -> str | None:
    """Why this integration does not take this version of the bill, or None when it does.
    delivered_hash: the content hash last delivered to it (None when never delivered)."""
    if not integration.enabled:
        return "The integration is disabled."
    if not integration.connected:
        return "The integration has no credential attached (not connected to Paddle)."
    not_selected = integration_account_selected(integration=integration, account=bill.account)
    if not_selected:
        return not_selected
    if integration.only_send_bill_on_approval and bill.status != BillStatus.APPROVED:
        return "Only Send Bill On Approval is on and the bill is not approved yet."
    if delivered_hash and delivered_hash == bill.content_hash:
        return "The bill has not changed since it was last delivered."
    return None


def integration_list() -> QuerySet[IntegrationConfiguration]:
    """Integrations for the Configurations page, each with its latest run's status and time
    (one query for the whole page, not one per row)."""
    from runs.models import IntegrationRun

    latest_run = IntegrationRun.objects.filter(integration=OuterRef("pk")).order_by("-created_at")
    return IntegrationConfiguration.objects.select_related("credential").annotate(
        last_run_status=Subquery(latest_run.values("status")[:1]),
        last_run_at=Subquery(latest_run.values("created_at")[:1]),
    )


@dataclass(frozen=True)
class AccountChoice:
    id: str
    label: str


def account_label(account: Account) -> str:
    return f"{account.name} ({account.code})"


def account_search(*, query: str = "", offset: int = 0, limit: int = 20):
    """One page of accounts whose name, code or m3ter id contains `query`, as
    (choices, has_more); fetching one extra row answers has_more without a COUNT."""
    accounts = Account.objects.only("m3ter_id", "name", "code").order_by("name", "code", "pk")
    query = query.strip()
    if query:
        accounts = accounts.filter(
            Q(name__icontains=query) | Q(code__icontains=query) | Q(m3ter_id__icontains=query)
        )
    rows = list(accounts[offset : offset + limit + 1])
    choices = [AccountChoice(id=row.m3ter_id, label=account_label(row)) for row in rows[:limit]]
    return choices, len(rows) > limit


def account_choices(*, account_ids: list[str]) -> list[AccountChoice]:
    """The given ids in their given order, labelled; an id with no account keeps the id as label
    so a stale selection stays visible (and validation names it)."""
    labels = {
        account.m3ter_id: account_label(account)
        for account in Account.objects.only("m3ter_id", "name", "code").filter(
            m3ter_id__in=account_ids
        )
    }
    return [AccountChoice(id=i, label=labels.get(i, i)) for i in account_ids]


@dataclass(frozen=True)
class FilterMatches:
    matched: int
    total: int
    sample: list[AccountChoice]


def account_filter_matches(*, text: str, sample_size: int = 5) -> FilterMatches:
    """How many accounts an Account Filter selects, and the first few of them (by name).
    Raises AccountFilterError for a filter that does not parse."""
    account_filter = compile_filter(text)
    matched, total, sample = 0, 0, []
    accounts = Account.objects.only(*FILTER_ACCOUNT_FIELDS).order_by("name", "pk")
    for account in accounts.iterator(chunk_size=2000):
        total += 1
        if account_filter.matches(account_filter_values(account)):
            matched += 1
            if len(sample) < sample_size:
                sample.append(AccountChoice(id=account.m3ter_id, label=account_label(account)))
    return FilterMatches(matched=matched, total=total, sample=sample)


def integration_records(
    *, credential_id=None, entity_type: str | None = None, destination: str | None = None
) -> QuerySet[IntegrationConfiguration]:
    """Integrations with who made and last changed them, narrowed by any filter given (the REST
    API's lists)."""
    integrations = IntegrationConfiguration.objects.select_related("created_by", "updated_by")
    if credential_id is not None:
        integrations = integrations.filter(credential_id=credential_id)
    if entity_type is not None:
        integrations = integrations.filter(entity_type=entity_type)
    if destination is not None:
        integrations = integrations.filter(destination=destination)
    return integrations


def integration_get(*, integration_id) -> IntegrationConfiguration | None:
    """The integration with this id, or None. A malformed id raises ValueError or
    ValidationError, so callers can tell it from an unknown one."""
    return integration_records().filter(pk=integration_id).first()


def integration_exists(*, integration_id) -> bool:
    return IntegrationConfiguration.objects.filter(pk=integration_id).exists()
