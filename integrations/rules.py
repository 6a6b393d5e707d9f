"""The one owner of each rule about an integration taking a bill: can it send at all, does it
select this bill, has the bill changed since it was delivered. The selection, the worker, the
backfill, the bill page and the API ask here, so every screen gives the same answer in the same
words."""

import uuid
from dataclasses import dataclass

from integrations.account_filter import account_filter_values, compile_filter
from integrations.models import IntegrationConfiguration
from m3terdata.models import BillStatus


def integration_exists(*, integration_id) -> bool:
    return bool(integration_ids_existing(integration_ids=[integration_id]))


@dataclass(frozen=True)
class SendRefusal:
    """Why an integration cannot send anything now, and what a person does about it."""

    reason: str
    fix: str
    disabled: bool = False


def integration_send_refusal(*, integration: IntegrationConfiguration) -> SendRefusal | None:
    """Why the integration cannot send anything now, or None when it can."""
    name = integration.name
    if not integration.enabled:
        why = f": {integration.disabled_reason}" if integration.disabled_reason else "."
        return SendRefusal(
            reason=f"The integration {name!r} is disabled{why}",
            fix="Fix the cause and enable the integration on its page.",
            disabled=True,
        )
    if not integration.connected:
        return SendRefusal(
            reason=f"The integration {name!r} has no credential attached (not connected to "
            "Paddle).",
            fix="Attach a credential on the integration's page (Add Credential).",
        )
    credential = integration.credential
    if credential.destination != integration.destination:
        return SendRefusal(
            reason=f"The credential {credential.name!r} is for "
            f"{credential.get_destination_display()}, but the integration {name!r} sends to "
            f"{integration.get_destination_display()}.",
            fix="Attach a credential for the integration's destination (Update Credential).",
        )
    return None


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


def bill_changed_since_delivery(*, bill, delivered_hash: str | None) -> bool:
    """delivered_hash: the content hash last delivered (None when never delivered)."""
    return not (delivered_hash and delivered_hash == bill.content_hash)


def integration_bill_refusal(*, integration, bill, delivered_hash: str | None) -> str | None:
    """Why this integration does not take this version of the bill, or None when it does.
    delivered_hash: the content hash last delivered to it (None when never delivered)."""
    cannot_send = integration_send_refusal(integration=integration)
    if cannot_send:
        return cannot_send.reason
    not_selected = integration_account_selected(integration=integration, account=bill.account)
    if not_selected:
        return not_selected
    if integration.only_send_bill_on_approval and bill.status != BillStatus.APPROVED:
        return "Only Send Bill On Approval is on and the bill is not approved yet."
    if not bill_changed_since_delivery(bill=bill, delivered_hash=delivered_hash):
        return "The bill has not changed since it was last delivered."
    return None


def integration_ids_existing(*, integration_ids) -> set[str]:
    """Those of the given ids that name an integration of this hub, as strings; an id that is
    not a UUID names none."""
    wanted = set()
    for integration_id in integration_ids:
        try:
            wanted.add(uuid.UUID(str(integration_id)))
        except ValueError:
            continue
    return {
        str(pk)
        for pk in IntegrationConfiguration.objects.filter(pk__in=wanted).values_list(
            "pk", flat=True
        )
    }
