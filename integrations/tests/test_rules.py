"""integration_bill_status: one status, one reason and one action per bill and integration."""

import pytest

from credentials.tests.factories import IntegrationCredentialFactory
from integrations.rules import BillIntegrationAction, BillIntegrationState, integration_bill_status
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.models import BillStatus
from m3terdata.tests.factories import BillFactory

pytestmark = pytest.mark.django_db


def connected(**fields):
    return IntegrationConfigurationFactory(credential=IntegrationCredentialFactory(), **fields)


@pytest.mark.parametrize(
    "integration_fields, transaction_id, delivered_hash, state, action",
    [
        ({}, "txn_1", "h1", BillIntegrationState.DELIVERED, BillIntegrationAction.SEND_AGAIN),
        ({}, "txn_1", "old", BillIntegrationState.CHANGED, BillIntegrationAction.SEND_AGAIN),
        ({}, None, None, BillIntegrationState.NOT_DELIVERED, BillIntegrationAction.SEND_AGAIN),
        (
            {"only_send_bill_on_approval": True},
            None,
            None,
            BillIntegrationState.NOT_SELECTED,
            BillIntegrationAction.NONE,
        ),
        (
            {"enabled": False},
            "txn_1",
            "h1",
            BillIntegrationState.DISABLED,
            BillIntegrationAction.FIX_INTEGRATION,
        ),
    ],
)
def test_each_situation_has_one_status_and_one_action(
    integration_fields, transaction_id, delivered_hash, state, action
):
    bill = BillFactory(content_hash="h1", status=BillStatus.PENDING)

    status = integration_bill_status(
        integration=connected(**integration_fields),
        bill=bill,
        transaction_id=transaction_id,
        delivered_hash=delivered_hash,
    )

    assert (status.state, status.action) == (state, action)
    assert status.reason and status.label == BillIntegrationState(state).label


def test_not_connected_cannot_send_and_says_how_to_fix():
    status = integration_bill_status(
        integration=IntegrationConfigurationFactory(),
        bill=BillFactory(),
        transaction_id=None,
        delivered_hash=None,
    )

    assert status.state == BillIntegrationState.CANNOT_SEND
    assert "Add Credential" in status.reason


def test_a_selected_bill_no_run_has_sent_says_send_again_delivers_it_not_that_runs_say_why():
    arguments = dict(
        integration=connected(), bill=BillFactory(), transaction_id=None, delivered_hash=None
    )

    never_run = integration_bill_status(**arguments, runs_made=False)
    failed_runs = integration_bill_status(**arguments, runs_made=True)

    assert never_run.state == failed_runs.state == BillIntegrationState.NOT_DELIVERED
    assert "runs below" not in never_run.reason
    assert "arrived before the integration could take it" in never_run.reason
    assert never_run.reason.endswith("Send again delivers it.")
    assert failed_runs.reason.endswith("its runs below say why.")
