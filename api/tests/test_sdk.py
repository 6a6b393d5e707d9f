"""m3ter's own Python SDK, pointed at the hub's live test server: a client none of us wrote.

The SDK asks for a bearer token with the key id and secret (HTTP Basic, JSON body), sends the
org id in every path, pages with nextToken, and raises ConflictError on a 409."""

import httpx
import m3ter
import pytest

from api.tests.conftest import ORG_ID
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.models import IntegrationConfiguration
from m3terdata.models import ExternalMapping
from m3terdata.tests.factories import AccountFactory, BillFactory, LineItemFactory
from runs.models import InvoiceStatus
from runs.tests.factories import DeliveryFactory


@pytest.fixture
def sdk(live_server, make_service_user):
    api_key, secret = make_service_user(name="sdk")
    client = m3ter.M3ter(
        api_key=api_key.key_id,
        api_secret=secret,
        org_id=ORG_ID,
        base_url=live_server.url,
        max_retries=0,
        timeout=20,
        # No keep-alive: a live-server thread still holding a connection open after the test
        # would close the shared test database from the wrong thread.
        default_headers={"Connection": "close"},
    )
    yield client
    client.close()


def test_the_sdk_manages_an_integration_configuration(sdk):
    account = AccountFactory()
    configs = sdk.integration_configurations

    created = configs.create(
        destination="PADDLE_SANDBOX",
        entity_type="Bill",
        name="Sent by the m3ter SDK",
        config_data={"accountIds": [account.m3ter_id], "accountFilter": "currency == USD"},
    )
    assert created.version == 1
    assert created.config_data["accountFilter"] == "currency == USD"
    assert created.authorized is False
    configs.create(destination="PADDLE", entity_type="Bill", name="Second")

    listed = list(configs.list(page_size=1))  # the SDK follows nextToken from page to page
    assert sorted(item.name for item in listed) == ["Second", "Sent by the m3ter SDK"]

    updated = configs.update(
        created.id,
        destination="PADDLE_SANDBOX",
        entity_type="Bill",
        name="Renamed by the SDK",
        version=created.version,
    )
    assert updated.version == created.version + 1
    with pytest.raises(m3ter.ConflictError) as stale:
        configs.update(
            created.id, destination="PADDLE", entity_type="Bill", version=created.version
        )
    assert "version" in stale.value.body["message"]

    sdk.post(
        f"/organizations/{ORG_ID}/integrationconfigs/{created.id}/disable", cast_to=httpx.Response
    )
    assert IntegrationConfiguration.objects.get(pk=created.id).enabled is False
    enabled = configs.enable(created.id)
    assert enabled.enabled is True

    fetched = configs.retrieve(created.id)
    assert fetched.id == created.id
    by_entity = configs.get_by_entity("Bill")  # one object, the enabled one changed last
    assert by_entity.id == created.id

    configs.delete(created.id)
    with pytest.raises(m3ter.NotFoundError):
        configs.retrieve(created.id)
    assert IntegrationConfiguration.objects.get().name == "Second"


def test_the_sdk_creates_and_looks_up_external_mappings(sdk):
    integration = sdk.integration_configurations.create(
        destination="PADDLE_SANDBOX", entity_type="Bill", name="Mapped"
    )
    mappings = sdk.external_mappings

    created = mappings.create(
        m3ter_entity="Account",
        m3ter_id="acc-42",
        external_system="Paddle",
        external_table="Customer",
        external_id="ctm_01hsdk",
        integration_config_id=integration.id,
    )
    assert created.version == 1
    assert created.integration_config_id == integration.id

    by_m3ter = list(mappings.list_by_m3ter_entity("acc-42", entity="Account"))
    by_external = list(
        mappings.list_by_external_entity("ctm_01hsdk", system="Paddle", external_table="Customer")
    )
    by_ids = list(mappings.list(m3ter_ids=["acc-42", "acc-0"]))
    assert [m.id for m in by_m3ter] == [created.id]
    assert [m.id for m in by_external] == [created.id]
    assert [m.id for m in by_ids] == [created.id]

    updated = mappings.update(
        created.id,
        m3ter_entity="Account",
        m3ter_id="acc-42",
        external_system="Paddle",
        external_table="Customer",
        external_id="ctm_01hnew",
        version=created.version,
    )
    assert (updated.external_id, updated.version) == ("ctm_01hnew", 2)
    assert mappings.retrieve(created.id).external_id == "ctm_01hnew"
    with pytest.raises(m3ter.BadRequestError) as missing:
        mappings.create(
            m3ter_entity="Account", m3ter_id="", external_system="Paddle",
            external_table="Customer", external_id="x",
        )  # fmt: skip
    assert missing.value.body["errors"][0]["field"] == "m3terId"

    mappings.delete(created.id)
    assert not ExternalMapping.objects.exists()


def test_the_sdk_reads_and_writes_accounts(sdk):
    created = sdk.accounts.create(code="sdk-co", email_address="ap@sdk.test", name="SDK Co")
    listed = list(sdk.accounts.list(ids=[created.id]))
    assert [a.code for a in listed] == ["sdk-co"]
    assert sdk.accounts.retrieve(created.id).email_address == "ap@sdk.test"


def test_a_wrong_secret_fails_in_the_sdk_as_an_authentication_error(live_server, make_service_user):
    api_key, _ = make_service_user(name="sdk")
    client = m3ter.M3ter(
        api_key=api_key.key_id, api_secret="wrong", org_id=ORG_ID, base_url=live_server.url,
        max_retries=0, default_headers={"Connection": "close"},
    )  # fmt: skip
    with pytest.raises(m3ter.AuthenticationError):
        client.integration_configurations.list()


def test_the_sdk_sees_versions_move_by_one(sdk):
    credential = IntegrationCredentialFactory(destination="PADDLE_SANDBOX")
    configs = sdk.integration_configurations
    connected = configs.create(
        destination="PADDLE_SANDBOX",
        entity_type="Bill",
        name="Connected",
        integration_credentials_id=str(credential.id),
    )
    assert (connected.version, connected.authorized, connected.trigger_type) == (1, True, "EVENT")
    detached = configs.update(
        connected.id,
        destination="PADDLE_SANDBOX",
        entity_type="Bill",
        name="Connected",
        version=1,
        integration_credentials_id=None,
    )
    assert detached.version == 2
    with pytest.raises(m3ter.BadRequestError) as unnamed:
        configs.create(destination="PADDLE_SANDBOX", entity_type="Bill")
    assert unnamed.value.body["errors"][0]["field"] == "name"


def test_the_sdk_updates_accounts_with_m3ters_optimistic_locking(sdk):
    created = sdk.accounts.create(code="lock-co", email_address="ap@lock.test", name="Lock Co")
    assert (created.version, created.created_by, created.dt_created is not None) == (
        1,
        "sdk",
        True,
    )
    kept = {
        "address": {"address_line1": "1 Main St", "locality": "Leeds", "country": "GB"},
        "currency": "GBP",
        "custom_fields": {"tier": "gold", "seats": 12},
        "days_before_bill_due": 14,
        "parent_account_id": "acc-parent",
        "purchase_order_number": "PO-7",
    }
    updated = sdk.accounts.update(
        created.id, code="lock-co", email_address="ap@lock.test", name="Lock Inc", version=1,
        **kept,
    )  # fmt: skip
    assert (updated.name, updated.version) == ("Lock Inc", 2)
    read = sdk.accounts.retrieve(created.id)
    assert (read.currency, read.custom_fields, read.days_before_bill_due) == (
        "GBP",
        kept["custom_fields"],
        14,
    )
    assert (read.parent_account_id, read.purchase_order_number) == ("acc-parent", "PO-7")
    assert (read.address.locality, read.address.country) == ("Leeds", "GB")
    with pytest.raises(m3ter.ConflictError):
        sdk.accounts.update(
            created.id, code="lock-co", email_address="ap@lock.test", name="Stale", version=1
        )
    with pytest.raises(m3ter.ConflictError) as duplicate:
        sdk.accounts.create(code="lock-co", email_address="b@lock.test", name="Twin")
    assert "lock-co" in duplicate.value.body["message"]


def test_the_sdk_reads_bills_with_m3ters_fields_and_filters(sdk):
    line = LineItemFactory(bill=BillFactory(locked=True, billing_frequency="MONTHLY"))
    unlocked = BillFactory(locked=False, billing_frequency="ANNUALLY")
    bills = sdk.bills

    bill = bills.retrieve(line.bill.m3ter_id)
    item = bill.line_items[0]
    assert (item.currency, item.conversion_rate) == ("USD", 1)
    assert item.converted_subtotal == item.subtotal == 12.5
    assert item.average_unit_price == 0.0125
    assert bill.dt_created is not None

    assert [b.id for b in bills.list(locked=False)] == [unlocked.m3ter_id]
    assert len(list(bills.list(locked=True))) == 2
    assert [b.id for b in bills.list(billing_frequency="MONTHLY")] == [line.bill.m3ter_id]
    assert all(not b.line_items for b in bills.list(exclude_line_items=True))


def test_the_sdk_reads_bills_that_carry_their_paddle_invoices(sdk):
    bill = LineItemFactory().bill
    DeliveryFactory(
        bill_m3ter_id=bill.m3ter_id, invoice_status=InvoiceStatus.PAID, invoice_number="325-9"
    )

    read = sdk.bills.retrieve(bill.m3ter_id)
    (listed,) = sdk.bills.list()

    assert (read.id, read.line_items[0].subtotal) == (bill.m3ter_id, 12.5)
    for answer in (read, listed):
        # m3ter's models keep fields they do not know (the hub's additions) as extras.
        (invoice,) = answer.model_extra["paddleInvoices"]
        assert (invoice["invoiceStatus"], invoice["invoiceNumber"]) == ("PAID", "325-9")


def test_the_sdk_is_told_what_the_hub_does_not_offer(sdk):
    with pytest.raises(m3ter.NotFoundError) as search:
        sdk.bills.search(search_query="accountId:acc-1")
    assert "does not offer" in search.value.body["message"]
    with pytest.raises(m3ter.NotFoundError) as accounts:
        sdk.accounts.search()
    assert accounts.value.body["code"] == "not_offered"
    with pytest.raises(m3ter.NotFoundError) as unknown:
        sdk.get(f"/organizations/{ORG_ID}/plans", cast_to=httpx.Response)
    assert unknown.value.body["code"] == "not_found"
