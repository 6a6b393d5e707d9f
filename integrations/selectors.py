"""Reads about integrations: which ones a bill goes to, and why."""

from dataclasses import dataclass

from integrations.account_filter import account_filter_values, compile_filter
from integrations.models import EntityType, IntegrationConfiguration
from m3terdata.models import Bill, BillStatus


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
        why_not = _why_not(integration, bill, delivered_hashes.get(integration.id))
        decisions.append(
            BillDecision(
                integration=integration,
                send=why_not is None,
                reason=why_not or "Sent: the integration selects this bill.",
            )
        )
    return decisions


def _why_not(integration, bill, delivered_hash):
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
