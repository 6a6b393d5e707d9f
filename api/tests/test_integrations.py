import uuid

import pytest
from django.contrib.auth.models import User

from api.tests.conftest import assert_error, org_url
from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.models import IntegrationConfiguration
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

LIST = org_url("integrationconfigs")


def detail(integration_id, suffix=""):
    return org_url(f"integrationconfigs/{integration_id}{suffix}")


def test_create_stores_the_stage_three_options_and_answers_in_m3ters_shape(api):
    account = AccountFactory()
    credential = IntegrationCredentialFactory(destination=Destination.PADDLE_SANDBOX)

    response = api.post(
        LIST,
        {
            "name": "Paddle sandbox",
            "entityType": "Bill",
            "destination": "PADDLE_SANDBOX",
            "integrationCredentialsId": str(credential.id),
            "configData": {
                "accountIds": [account.m3ter_id],
                "onlySendBillOnApproval": True,
                "excludedLineItemTypes": ["MINIMUM_SPEND"],
                "sortLineItemsBy": "SUBTOTAL",
                "accountFilter": "address.country == US",
            },
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    integration = IntegrationConfiguration.objects.get(pk=body["id"])
    assert integration.account_filter == "address.country == US"
    assert integration.credential == credential
    assert body["entityType"] == "Bill"
    assert body["destination"] == "PADDLE_SANDBOX"
    assert body["authorized"] is True
    assert body["enabled"] is True
    assert body["integrationCredentialsId"] == str(credential.id)
    assert body["destinationId"] == str(credential.id)
    assert body["createdBy"] == "automation"
    assert body["configData"] == {
        "accountIds": [account.m3ter_id],
        "restrictedAccountIds": [],
        "onlySendBillOnApproval": True,
        "useExternalMappingAccountCode": False,
        "excludedLineItemTypes": ["MINIMUM_SPEND"],
        "sortLineItemsBy": "SUBTOTAL",
        "accountFilter": "address.country == US",
        "taxMode": "EXTERNAL",
        "taxCategory": "standard",
        "negativeLineItems": "REFUSE",
        "businessNameField": "companyName",
        "taxNumberField": "taxNumber",
        "companyNumberField": "companyNumber",
        "integrationDisabledNotificationUsers": [],
    }
    assert {"dtCreated", "dtLastModified", "version", "lastModifiedBy"} <= set(body)


def test_config_data_carries_the_invoice_options(api):
    response = api.post(
        LIST,
        {
            "name": "B2B",
            "entityType": "Bill",
            "destination": "PADDLE",
            "configData": {
                "taxMode": "INTERNAL",
                "taxCategory": "saas",
                "negativeLineItems": "CREDIT",
                "businessNameField": "legalName",
                "taxNumberField": "",
            },
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    integration = IntegrationConfiguration.objects.get(pk=response.json()["id"])
    assert (integration.tax_mode, integration.tax_category) == ("INTERNAL", "saas")
    assert integration.negative_line_items == "CREDIT"
    assert (integration.business_name_field, integration.tax_number_field) == ("legalName", "")
    assert integration.company_number_field == "companyNumber"
    assert response.json()["configData"]["taxMode"] == "INTERNAL"


def test_invoice_options_outside_the_choices_are_field_errors(api):
    response = api.post(
        LIST,
        {
            "name": "x",
            "entityType": "Bill",
            "destination": "PADDLE",
            "configData": {"taxMode": "NET", "negativeLineItems": "IGNORE"},
        },
        format="json",
    )

    assert response.status_code == 400
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "EXTERNAL, INTERNAL, ACCOUNT_SETTING" in fields["configData.taxMode"]
    assert "REFUSE, CREDIT" in fields["configData.negativeLineItems"]


def test_list_pages_with_page_size_and_next_token(api):
    IntegrationConfigurationFactory.create_batch(5)

    first = api.get(LIST, {"pageSize": 2}).json()
    second = api.get(LIST, {"pageSize": 2, "nextToken": first["nextToken"]}).json()
    third = api.get(LIST, {"pageSize": 2, "nextToken": second["nextToken"]}).json()

    ids = [item["id"] for page in (first, second, third) for item in page["data"]]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert "nextToken" not in third


def test_list_filters_by_destination_id(api):
    credential = IntegrationCredentialFactory()
    wanted = IntegrationConfigurationFactory(credential=credential)
    IntegrationConfigurationFactory()

    body = api.get(LIST, {"destinationId": str(credential.id)}).json()

    assert [item["id"] for item in body["data"]] == [str(wanted.id)]


@pytest.mark.parametrize("page_size", ["0", "201", "many"])
def test_a_page_size_out_of_range_is_refused(api, page_size):
    assert_error(api.get(LIST, {"pageSize": page_size}), 400, field="pageSize")


@pytest.mark.parametrize("token", ["nonsense", "cD0yMDI2LW5vdC1hLWRhdGU=", "%%%"])
def test_a_forged_next_token_is_refused(api, token):
    IntegrationConfigurationFactory()
    assert_error(api.get(LIST, {"nextToken": token}), 400, field="nextToken")


def test_get_one(api):
    integration = IntegrationConfigurationFactory(name="Main")
    body = api.get(detail(integration.id)).json()
    assert body["id"] == str(integration.id)
    assert body["name"] == "Main"
    assert body["authorized"] is False


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "5f0c6f7e-0000-4000-8000-000000000000"])
def test_an_unknown_or_malformed_id_is_a_404(api, bad_id):
    assert_error(api.get(detail(bad_id)), 404, contains=bad_id)


def test_update_checks_the_version_and_counts_it_up(api):
    integration = IntegrationConfigurationFactory(name="Old name")
    payload = {"name": "New name", "entityType": "Bill", "destination": "PADDLE_SANDBOX"}

    updated = api.put(detail(integration.id), {**payload, "version": 1}, format="json")
    stale = api.put(
        detail(integration.id), {**payload, "name": "Lost", "version": 1}, format="json"
    )

    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    body = assert_error(stale, 409, contains="version 2")
    assert body["code"] == "conflict"
    assert stale["x-should-retry"] == "false"
    integration.refresh_from_db()
    assert integration.name == "New name"


def test_update_without_a_version_is_refused(api):
    integration = IntegrationConfigurationFactory()
    response = api.put(
        detail(integration.id),
        {"entityType": "Bill", "destination": "PADDLE_SANDBOX"},
        format="json",
    )
    assert_error(response, 400, field="version")


def test_config_data_sent_on_update_replaces_every_option(api):
    integration = IntegrationConfigurationFactory(
        account_filter="currency == USD", only_send_bill_on_approval=True
    )
    response = api.put(
        detail(integration.id),
        {
            "entityType": "Bill",
            "destination": "PADDLE_SANDBOX",
            "version": integration.version,
            "configData": {"sortLineItemsBy": "AGGREGATION_ID"},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    integration.refresh_from_db()
    assert integration.sort_line_items_by == "AGGREGATION_ID"
    assert integration.account_filter == ""
    assert integration.only_send_bill_on_approval is False
    assert integration.name == response.json()["name"]


def test_creating_with_a_credential_is_version_1(api):
    credential = IntegrationCredentialFactory(destination=Destination.PADDLE_SANDBOX)
    body = api.post(
        LIST,
        {
            "name": "Connected at once",
            "entityType": "Bill",
            "destination": "PADDLE_SANDBOX",
            "integrationCredentialsId": str(credential.id),
        },
        format="json",
    ).json()
    assert (body["version"], body["authorized"], body["triggerType"]) == (1, True, "EVENT")


def test_integration_credentials_id_attaches_and_null_detaches(api):
    integration = IntegrationConfigurationFactory()
    credential = IntegrationCredentialFactory()
    base = {"entityType": "Bill", "destination": "PADDLE_SANDBOX"}

    attached = api.put(
        detail(integration.id),
        {**base, "version": integration.version, "integrationCredentialsId": str(credential.id)},
        format="json",
    ).json()
    detached = api.put(
        detail(integration.id),
        {**base, "version": attached["version"], "integrationCredentialsId": None},
        format="json",
    ).json()

    assert attached["authorized"] is True
    assert attached["integrationCredentialsId"] == str(credential.id)
    # One write, one version, as m3ter counts them.
    assert attached["version"] == integration.version + 1
    assert detached["version"] == attached["version"] + 1
    assert detached["authorized"] is False
    assert detached["integrationCredentialsId"] is None


def test_changing_destination_and_credential_together_works(api):
    sandbox_key = IntegrationCredentialFactory(destination=Destination.PADDLE_SANDBOX)
    live_key = IntegrationCredentialFactory(destination=Destination.PADDLE)
    integration = IntegrationConfigurationFactory(credential=sandbox_key)

    response = api.put(
        detail(integration.id),
        {
            "entityType": "Bill",
            "destination": "PADDLE",
            "version": integration.version,
            "integrationCredentialsId": str(live_key.id),
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    integration.refresh_from_db()
    assert (integration.destination, integration.credential) == ("PADDLE", live_key)


def test_a_credential_for_the_other_destination_is_a_field_error(api):
    live_key = IntegrationCredentialFactory(destination=Destination.PADDLE)
    response = api.post(
        LIST,
        {
            "name": "Sandbox",
            "entityType": "Bill",
            "destination": "PADDLE_SANDBOX",
            "integrationCredentialsId": str(live_key.id),
        },
        format="json",
    )
    assert_error(response, 400, field="integrationCredentialsId", contains="Paddle (Sandbox Mode)")
    assert not IntegrationConfiguration.objects.exists()


def test_an_unknown_credential_is_a_field_error(api):
    response = api.post(
        LIST,
        {
            "name": "Sandbox",
            "entityType": "Bill",
            "destination": "PADDLE_SANDBOX",
            "integrationCredentialsId": "5f0c6f7e-0000-4000-8000-000000000000",
        },
        format="json",
    )
    assert_error(response, 400, field="integrationCredentialsId")


def test_service_errors_point_at_the_config_data_field(api):
    response = api.post(
        LIST,
        {
            "name": "Checked by the service",
            "entityType": "Bill",
            "destination": "PADDLE",
            "configData": {"accountFilter": "currency ==", "accountIds": ["nope"]},
        },
        format="json",
    )
    body = assert_error(response, 400)
    fields = {error["field"]: error["message"] for error in body["errors"]}
    assert set(fields) == {"configData.accountFilter", "configData.accountIds"}
    assert "column" in fields["configData.accountFilter"]
    assert "nope" in fields["configData.accountIds"]
    assert "configData.accountFilter" in body["message"]


def test_unknown_config_data_options_and_wrong_types_are_field_errors(api):
    response = api.post(
        LIST,
        {
            "name": "X",
            "entityType": "Bill",
            "destination": "STRIPE",
            "configData": {
                "acountFilter": "x",
                "excludedLineItemTypes": ["USAGE", "BOGUS"],
                "onlySendBillOnApproval": "perhaps",
            },
        },
        format="json",
    )
    body = assert_error(response, 400)
    fields = {error["field"]: error["message"] for error in body["errors"]}
    assert "Did you mean accountFilter?" in fields["configData.acountFilter"]
    assert "PADDLE_SANDBOX" in fields["destination"]
    assert "MINIMUM_SPEND" in fields["configData.excludedLineItemTypes[1]"]
    assert "configData.onlySendBillOnApproval" in fields


def test_inline_credentials_are_refused_with_directions(api):
    response = api.post(
        LIST,
        {
            "name": "X",
            "entityType": "Bill",
            "destination": "PADDLE",
            "credentials": {"type": "PADDLE_AUTH"},
        },
        format="json",
    )
    assert_error(response, 400, field="credentials", contains="integrationcredentials")


def test_delete_answers_with_the_deleted_configuration(api):
    integration = IntegrationConfigurationFactory()
    response = api.delete(detail(integration.id))
    assert response.status_code == 200
    assert response.json()["id"] == str(integration.id)
    assert not IntegrationConfiguration.objects.exists()


def test_disable_and_enable(api):
    integration = IntegrationConfigurationFactory()

    disabled = api.post(detail(integration.id, "/disable")).json()
    integration.refresh_from_db()
    assert disabled["enabled"] is False
    assert "automation" in disabled["disabledReason"]
    assert integration.enabled is False

    enabled = api.post(detail(integration.id, "/enable")).json()
    assert enabled["enabled"] is True
    assert enabled["version"] == disabled["version"] + 1


def test_by_entity_type_answers_one_configuration_as_m3ter_does(api):
    credential = IntegrationCredentialFactory(destination=Destination.PADDLE)
    live = IntegrationConfigurationFactory(destination=Destination.PADDLE, credential=credential)
    sandbox = IntegrationConfigurationFactory(destination=Destination.PADDLE_SANDBOX)
    IntegrationConfigurationFactory(destination=Destination.PADDLE_SANDBOX, enabled=False)

    url = org_url("integrationconfigs/entity/Bill")
    latest = api.get(url).json()
    live_only = api.get(url, {"destination": "PADDLE"}).json()
    by_credential = api.get(url, {"destinationId": str(credential.id)}).json()

    assert latest["id"] == str(sandbox.id)  # the enabled one changed last
    assert live_only["id"] == by_credential["id"] == str(live.id)
    assert_error(api.get(org_url("integrationconfigs/entity/Notification")), 404)
    assert_error(api.get(url, {"destinationId": str(uuid.uuid4())}), 404)
    assert_error(api.get(url, {"destinationId": ""}), 400, field="destinationId")
    assert_error(api.get(url, {"destination": "STRIPE"}), 400, field="destination")


@pytest.mark.parametrize(
    ("config", "field", "says"),
    [
        ({"accountIds": ["a"] * 10_001}, "configData.accountIds", "10000"),
        (
            {"accountFilter": "(" * 300 + "currency == USD" + ")" * 300},
            "configData.accountFilter",
            "nest more than 32 deep",
        ),
        (
            {"accountFilter": "NOT " * 500 + "currency == USD"},
            "configData.accountFilter",
            "nest more than 32 deep",
        ),
    ],
)
def test_an_oversized_or_overnested_configuration_is_a_400_saying_the_limit(
    api, config, field, says
):
    response = api.post(
        org_url("integrationconfigs"),
        {
            "name": "Hostile",
            "destination": "PADDLE_SANDBOX",
            "entityType": "Bill",
            "configData": config,
        },
    )

    assert_error(response, 400, field=field, contains=says)


def test_integration_disabled_notification_users_in_config_data(api):
    User.objects.create_user(username="ops", email="ops@example.com")
    body = {"name": "Notified", "entityType": "Bill", "destination": "PADDLE_SANDBOX"}

    created = api.post(
        LIST,
        {**body, "configData": {"integrationDisabledNotificationUsers": ["ops"]}},
        format="json",
    )
    assert created.status_code == 200, created.content
    assert created.json()["configData"]["integrationDisabledNotificationUsers"] == ["ops"]
    listed = api.get(LIST).json()["data"]
    assert listed[0]["configData"]["integrationDisabledNotificationUsers"] == ["ops"]

    refused = api.post(
        LIST,
        {**body, "configData": {"integrationDisabledNotificationUsers": ["ghost"]}},
        format="json",
    )
    assert_error(refused, 400, field="configData.integrationDisabledNotificationUsers")


def test_a_name_is_required(api):
    response = api.post(
        LIST, {"entityType": "Bill", "destination": "PADDLE_SANDBOX"}, format="json"
    )

    assert_error(response, 400, field="name", contains="Give the integration a name.")
