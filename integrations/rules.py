"""The one owner of each rule about an integration taking a bill: can it send at all, does it
select this bill, has the bill changed since it was delivered. The selection, the worker, the
backfill, the bill page and the API ask here, so every screen gives the same answer in the same
words."""

import uuid
from dataclasses import dataclass

from django.db import models

from integrations.account_filter import account_filter_values, compile_filter
from integrations.models import IntegrationConfiguration
from m3terdata.models import BillStatus
from m3terpaddle.text import sentence, sentences


def integration_exists(*, integration_id) -> bool:
    return bool(integration_ids_existing(integration_ids=[integration_id]))


@dataclass(frozen=True)
class SendRefusal:
    """Why an integration cannot send anything now, and what a person does about it."""

    reason: str
    fix: str
    disabled: bool = False

    @property
    def text(self) -> str:
        """The reason, then the fix."""
        return sentences(self.reason, self.fix)


def integration_send_refusal(*, integration: IntegrationConfiguration) -> SendRefusal | None:
    """Why the integration cannot send anything now, or None when it can."""
    name = integration.name
    if not integration.enabled:
        why = f": {integration.disabled_reason}" if integration.disabled_reason else ""
        return SendRefusal(
            reason=sentence(f"The integration {name!r} is disabled{why}"),
            fix=(
                "Attach a working Paddle API key (Update Credential), then enable the integration "
                "on its page and Retry the runs that failed."
                if integration.consecutive_auth_failures
                else "Fix the cause and enable the integration on its page."
            ),
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


def integration_approval_refusal(*, integration, bill) -> str | None:
    if integration.only_send_bill_on_approval and bill.status != BillStatus.APPROVED:
        return "Only Send Bill On Approval is on and the bill is not approved yet."
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
    not_approved = integration_approval_refusal(integration=integration, bill=bill)
    if not_approved:
        return not_approved
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


class BillIntegrationState(models.TextChoices):
    """Where one bill stands with one integration, as every page words it."""

    DELIVERED = "DELIVERED", "Delivered"
    CHANGED = "CHANGED", "Changed since delivery"
    NOT_DELIVERED = "NOT_DELIVERED", "Not delivered yet"
    NOT_SELECTED = "NOT_SELECTED", "Not selected"
    CANNOT_SEND = "CANNOT_SEND", "Cannot send"
    DISABLED = "DISABLED", "Integration disabled"


class BillIntegrationAction(models.TextChoices):
    SEND_AGAIN = "SEND_AGAIN", "Send again"
    FIX_INTEGRATION = "FIX_INTEGRATION", "Fix the integration"
    NONE = "", "Nothing to do"


@dataclass(frozen=True)
class BillIntegrationStatus:
    state: str
    reason: str
    action: str

    @property
    def label(self) -> str:
        return BillIntegrationState(self.state).label

    @property
    def tone(self) -> str:
        return BILL_STATE_TONES[self.state]


BILL_STATE_TONES = {
    BillIntegrationState.DELIVERED: "success",
    BillIntegrationState.CHANGED: "info",
    BillIntegrationState.NOT_DELIVERED: "warning",
    BillIntegrationState.NOT_SELECTED: "secondary",
    BillIntegrationState.CANNOT_SEND: "danger",
    BillIntegrationState.DISABLED: "danger",
}


def integration_bill_status(
    *,
    integration,
    bill,
    transaction_id: str | None,
    delivered_hash: str | None,
    runs_made: bool = True,
) -> BillIntegrationStatus:
    """The one status, reason and next action of a bill with an integration, for the bill page
    and every list that shows it. transaction_id and delivered_hash: what the integration's
    delivery of the bill holds (None when it has none); runs_made: whether the integration has
    made any run for the bill."""
    cannot_send = integration_send_refusal(integration=integration)
    if cannot_send:
        return BillIntegrationStatus(
            state=BillIntegrationState.DISABLED
            if cannot_send.disabled
            else BillIntegrationState.CANNOT_SEND,
            reason=cannot_send.text,
            action=BillIntegrationAction.FIX_INTEGRATION,
        )
    not_selected = integration_account_selected(
        integration=integration, account=bill.account
    ) or integration_approval_refusal(integration=integration, bill=bill)
    if not_selected:
        return BillIntegrationStatus(
            state=BillIntegrationState.NOT_SELECTED,
            reason=not_selected,
            action=BillIntegrationAction.NONE,
        )
    if not transaction_id:
        why = (
            "its runs below say why."
            if runs_made
            # An integration only takes the bill events that come after it was set up.
            else "no run has sent it: the bill arrived before the integration could take it. "
            "Send again delivers it."
        )
        return BillIntegrationStatus(
            state=BillIntegrationState.NOT_DELIVERED,
            reason=f"The integration selects this bill, but it has not reached Paddle yet; {why}",
            action=BillIntegrationAction.SEND_AGAIN,
        )
    if bill_changed_since_delivery(bill=bill, delivered_hash=delivered_hash):
        return BillIntegrationStatus(
            state=BillIntegrationState.CHANGED,
            reason=f"The bill changed after it was delivered to Paddle transaction "
            f"{transaction_id}; sending it again updates that transaction.",
            action=BillIntegrationAction.SEND_AGAIN,
        )
    return BillIntegrationStatus(
        state=BillIntegrationState.DELIVERED,
        reason=f"Paddle transaction {transaction_id} holds this version of the bill.",
        action=BillIntegrationAction.SEND_AGAIN,
    )


class IntegrationStateName(models.TextChoices):
    """How an integration stands. m3ter's console writes an integration's connection in
    capitals (CONNECTED); the hub's other states beside it are written the same way."""

    CONNECTED = "CONNECTED", "CONNECTED"
    NOT_CONNECTED = "NOT_CONNECTED", "NOT CONNECTED"
    WRONG_CREDENTIAL = "WRONG_CREDENTIAL", "WRONG CREDENTIAL"
    DISABLED = "DISABLED", "DISABLED"


INTEGRATION_STATE_TONES = {
    IntegrationStateName.CONNECTED: "success",
    IntegrationStateName.NOT_CONNECTED: "warning",
    IntegrationStateName.WRONG_CREDENTIAL: "warning",
    IntegrationStateName.DISABLED: "danger",
}


@dataclass(frozen=True)
class IntegrationState:
    """How an integration stands, worded the same on the list, its page and the bill page."""

    name: str
    reason: str = ""
    fix: str = ""

    @property
    def label(self) -> str:
        return IntegrationStateName(self.name).label

    @property
    def tone(self) -> str:
        return INTEGRATION_STATE_TONES[self.name]


def integration_state(*, integration: IntegrationConfiguration) -> IntegrationState:
    """DISABLED, NOT CONNECTED, WRONG CREDENTIAL or CONNECTED, with why and what to do."""
    cannot_send = integration_send_refusal(integration=integration)
    if cannot_send is None:
        return IntegrationState(name=IntegrationStateName.CONNECTED)
    if cannot_send.disabled:
        name = IntegrationStateName.DISABLED
    elif not integration.connected:
        name = IntegrationStateName.NOT_CONNECTED
    else:
        name = IntegrationStateName.WRONG_CREDENTIAL
    return IntegrationState(name=name, reason=cannot_send.reason, fix=cannot_send.fix)
