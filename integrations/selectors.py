"""Reads about integrations: which ones a bill goes to, and why."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from integrations.account_filter import account_filter_values, compile_filter
from integrations.models import (
    EntityType,
    IntegrationConfiguration,
    IntegrationEvent,
    IntegrationEventState,
)
from integrations.rules import integration_bill_refusal
from m3terdata.models import Account, Bill

# What account_filter_values reads from an Account, so filter checks load nothing else.
FILTER_ACCOUNT_FIELDS = ("m3ter_id", "name", "code", "currency", "address", "custom_fields")


@dataclass(frozen=True)
class BillDecision:
    integration: IntegrationConfiguration
    send: bool
    reason: str


def integration_decisions_for_bill(*, bill: Bill, delivered_hashes: dict):
    """For every Bill integration, whether this version of the bill goes to it and why.

    delivered_hashes maps integration id → hash of the content last delivered successfully
    (the runs side keeps deliveries; {} to ignore them)."""
    integrations = list(
        IntegrationConfiguration.objects.filter(entity_type=EntityType.BILL)
        .select_related("credential")
        .order_by("name")
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
    integrations = IntegrationConfiguration.objects.select_related(
        "created_by", "updated_by"
    ).prefetch_related("users_to_notify")
    if credential_id is not None:
        integrations = integrations.filter(credential_id=credential_id)
    if entity_type is not None:
        integrations = integrations.filter(entity_type=entity_type)
    if destination is not None:
        integrations = integrations.filter(destination=destination)
    return integrations


def integration_for_entity(
    *, entity_type: str, destination: str | None = None, credential_id=None
) -> IntegrationConfiguration | None:
    """m3ter's one configuration for an entity type: the enabled one changed last, else the
    disabled one changed last."""
    return (
        integration_records(
            entity_type=entity_type, destination=destination, credential_id=credential_id
        )
        .order_by("-enabled", "-updated_at", "-pk")
        .first()
    )


def integration_get(*, integration_id) -> IntegrationConfiguration | None:
    """The integration with this id, or None. A malformed id raises ValueError or
    ValidationError, so callers can tell it from an unknown one."""
    return integration_records().filter(pk=integration_id).first()


def integration_events(
    *, include_actioned: bool = False, name: str | None = None, integration_id=None
) -> QuerySet[IntegrationEvent]:
    """Integration events, newest first; open ones only unless include_actioned."""
    events = IntegrationEvent.objects.select_related("integration", "actioned_by")
    if not include_actioned:
        events = events.filter(state=IntegrationEventState.NOT_ACTIONED)
    if name:
        events = events.filter(name=name)
    if integration_id:
        events = events.filter(integration_id=integration_id)
    return events


def integration_event_get(*, event_id) -> IntegrationEvent | None:
    return IntegrationEvent.objects.select_related("integration").filter(pk=event_id).first()


def integration_events_open_count() -> int:
    return IntegrationEvent.objects.filter(state=IntegrationEventState.NOT_ACTIONED).count()


def integration_notification_usernames(*, integration: IntegrationConfiguration) -> list[str]:
    """Integration disabled notification users, by username."""
    return sorted(user.username for user in integration.users_to_notify.all())
