import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from credentials.models import Destination, IntegrationCredential
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.models import IntegrationConfiguration, SortLineItemsBy
from integrations.services import (
    KEEP,
    VersionConflict,
    integration_attach_credential,
    integration_create,
    integration_delete,
    integration_detach_credential,
    integration_disable,
    integration_enable,
    integration_replace,
    integration_update,
    integration_validate,
)
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import AccountFactory
from runs.models import IntegrationRun

pytestmark = pytest.mark.django_db


def errors_of(values):
    with pytest.raises(ValidationError) as caught:
        integration_validate(values=values)
    return caught.value.message_dict


def valid(**overrides):
    return {"name": "Sandbox", "destination": Destination.PADDLE_SANDBOX, **overrides}


def test_validate_cleans_and_applies_the_guides_defaults():
    account = AccountFactory()
    cleaned = integration_validate(
        values=valid(
            name="  Sandbox  ",
            account_ids=[account.m3ter_id, account.m3ter_id],
            excluded_line_item_types=["USAGE", "USAGE"],
            account_filter="  currency == USD ",
        )
    )
    assert cleaned["name"] == "Sandbox"
    assert cleaned["account_ids"] == [account.m3ter_id]
    assert cleaned["restricted_account_ids"] == []
    assert cleaned["excluded_line_item_types"] == ["USAGE"]
    assert cleaned["sort_line_items_by"] == SortLineItemsBy.NONE
    assert cleaned["account_filter"] == "currency == USD"
    assert cleaned["only_send_bill_on_approval"] is False
    assert cleaned["use_external_mapping_account_code"] is False


def test_validate_says_what_to_fix_for_each_field():
    errors = errors_of(
        {
            "name": " ",
            "entity_type": "Invoice",
            "destination": "STRIPE",
            "excluded_line_item_types": ["USAGE", "TIP"],
            "sort_line_items_by": "DATE",
            "account_filter": "currency ==",
        }
    )
    assert errors["name"] == ["Give the integration a name."]
    assert errors["entity_type"] == ["Entity type must be one of: Bill."]
    assert "Paddle or Paddle (Sandbox Mode)" in errors["destination"][0]
    assert errors["excluded_line_item_types"][0].startswith("Unknown line item types: TIP.")
    assert "NONE, SUBTOTAL, AGGREGATION_ID" in errors["sort_line_items_by"][0]
    assert errors["account_filter"] == ["column 12: expected a value after '=='"]


def test_invoice_options_default_to_net_amounts_standard_tax_refused_credits_and_business_fields():
    cleaned = integration_validate(values=valid())

    assert (cleaned["tax_mode"], cleaned["tax_category"]) == ("EXTERNAL", "standard")
    assert cleaned["negative_line_items"] == "REFUSE"
    assert (
        cleaned["business_name_field"],
        cleaned["tax_number_field"],
        cleaned["company_number_field"],
    ) == ("companyName", "taxNumber", "companyNumber")


def test_invoice_options_say_what_to_fix_and_blank_business_fields_turn_them_off():
    errors = errors_of(
        valid(
            tax_mode="NET",
            tax_category="food",
            negative_line_items="IGNORE",
            tax_number_field="x" * 101,
        )  # fmt: skip
    )
    cleaned = integration_validate(values=valid(business_name_field=" ", tax_number_field=" vat "))

    assert errors["tax_mode"] == ["Tax Mode must be one of: EXTERNAL, INTERNAL, ACCOUNT_SETTING."]
    assert "saas" in errors["tax_category"][0]
    assert errors["negative_line_items"] == ["Negative Line Items must be one of: REFUSE, CREDIT."]
    assert "at most 100 characters" in errors["tax_number_field"][0]
    assert (cleaned["business_name_field"], cleaned["tax_number_field"]) == ("", "vat")


def test_update_saves_the_invoice_options():
    integration = IntegrationConfigurationFactory()

    updated = integration_update(
        integration=integration, values={"tax_mode": "INTERNAL", "negative_line_items": "CREDIT"}
    )

    updated.refresh_from_db()
    assert (updated.tax_mode, updated.negative_line_items) == ("INTERNAL", "CREDIT")


def test_validate_limits_the_name_to_what_the_database_holds():
    errors = errors_of(valid(name="x" * 201))
    assert errors["name"] == ["Use at most 200 characters for the name (it has 201)."]


def test_validate_reports_unknown_accounts_in_each_list():
    errors = errors_of(valid(account_ids=["gone-1"], restricted_account_ids=["gone-2"]))
    assert errors["account_ids"] == ["No account with id: gone-1."]
    assert errors["restricted_account_ids"] == ["No account with id: gone-2."]


def test_validate_refuses_an_account_in_both_lists_by_name():
    account = AccountFactory(name="Initech")
    errors = errors_of(
        valid(account_ids=[account.m3ter_id], restricted_account_ids=[account.m3ter_id])
    )
    assert errors == {
        "restricted_account_ids": [
            f"An account cannot be both included and excluded: Initech ({account.m3ter_id}). "
            "Remove it from Account Ids or from Restricted Account Ids."
        ]
    }


def test_create_saves_the_configuration_and_who_made_it(django_user_model):
    user = django_user_model.objects.create_user("maker")
    integration = integration_create(values=valid(only_send_bill_on_approval=True), user=user)
    integration.refresh_from_db()
    assert integration.name == "Sandbox"
    assert integration.only_send_bill_on_approval is True
    assert integration.enabled and not integration.connected
    assert integration.created_by == user == integration.updated_by


def test_create_refuses_an_invalid_configuration():
    with pytest.raises(ValidationError):
        integration_create(values=valid(name=""))
    assert not IntegrationConfiguration.objects.exists()


def test_update_changes_the_configuration_and_the_version():
    integration = IntegrationConfigurationFactory(name="Before")
    updated = integration_update(
        integration=integration, values={"name": "After"}, expected_version=1
    )
    updated.refresh_from_db()
    assert (updated.name, updated.version) == ("After", 2)


def test_update_refuses_a_stale_version():
    integration = IntegrationConfigurationFactory(name="Before")
    IntegrationConfiguration.objects.filter(pk=integration.pk).update(version=3)
    with pytest.raises(VersionConflict) as caught:
        integration_update(integration=integration, values={"name": "Mine"}, expected_version=1)
    assert "now at version 3" in str(caught.value)
    integration.refresh_from_db()
    assert integration.name == "Before"


def test_update_refuses_a_new_destination_while_connected():
    integration = IntegrationConfigurationFactory(credential=IntegrationCredentialFactory())
    with pytest.raises(ValidationError) as caught:
        integration_update(integration=integration, values={"destination": Destination.PADDLE})
    assert caught.value.message_dict == {
        "destination": ["Disconnect the credential before changing the destination."]
    }


def test_update_validates_like_create():
    integration = IntegrationConfigurationFactory()
    with pytest.raises(ValidationError) as caught:
        integration_update(integration=integration, values={"account_filter": "NOT"})
    assert "account_filter" in caught.value.message_dict


def test_attach_connects_and_clears_auth_failures():
    credential = IntegrationCredentialFactory()
    integration = IntegrationConfigurationFactory(consecutive_auth_failures=2)
    integration_attach_credential(integration=integration, credential=credential)
    integration.refresh_from_db()
    assert integration.connected and integration.credential == credential
    assert integration.consecutive_auth_failures == 0
    assert integration.version == 2


def test_attach_refuses_a_credential_for_the_other_destination():
    credential = IntegrationCredentialFactory(name="Live", destination=Destination.PADDLE)
    integration = IntegrationConfigurationFactory(destination=Destination.PADDLE_SANDBOX)
    with pytest.raises(ValidationError) as caught:
        integration_attach_credential(integration=integration, credential=credential)
    assert caught.value.message_dict["credential"] == [
        "The credential 'Live' is for Paddle, but this integration sends to Paddle (Sandbox "
        "Mode). Choose a Paddle (Sandbox Mode) credential."
    ]
    integration.refresh_from_db()
    assert not integration.connected


def test_detach_disconnects_and_keeps_the_credential():
    credential = IntegrationCredentialFactory()
    integration = IntegrationConfigurationFactory(credential=credential)
    integration_detach_credential(integration=integration)
    integration.refresh_from_db()
    assert not integration.connected
    assert IntegrationCredential.objects.filter(pk=credential.pk).exists()


def test_disable_records_why_and_enable_clears_it():
    integration = IntegrationConfigurationFactory(consecutive_auth_failures=3)
    integration_disable(integration=integration, reason="Paddle refused the API key.")
    integration.refresh_from_db()
    assert not integration.enabled
    assert integration.disabled_reason == "Paddle refused the API key."

    integration_enable(integration=integration)
    integration.refresh_from_db()
    assert integration.enabled
    assert integration.disabled_reason == ""
    assert integration.consecutive_auth_failures == 0
    assert integration.version == 3


def test_delete_keeps_the_runs_for_review():
    integration = IntegrationConfigurationFactory(name="Gone")
    IntegrationRun.objects.create(
        integration=integration, integration_name="Gone", destination=integration.destination
    )
    integration_delete(integration=integration)
    assert not IntegrationConfiguration.objects.exists()
    run = IntegrationRun.objects.get()
    assert run.integration is None and run.integration_name == "Gone"


def test_replace_swaps_the_credential_and_the_destination_together():
    old = IntegrationCredentialFactory(destination=Destination.PADDLE_SANDBOX)
    new = IntegrationCredentialFactory(name="Live", destination=Destination.PADDLE)
    integration = IntegrationConfigurationFactory(credential=old)
    replaced = integration_replace(
        integration=integration,
        values={"destination": Destination.PADDLE},
        expected_version=integration.version,
        credential=new,
    )
    replaced.refresh_from_db()
    assert (replaced.destination, replaced.credential) == (Destination.PADDLE, new)


def test_replace_keeps_or_detaches_the_credential():
    credential = IntegrationCredentialFactory()
    integration = IntegrationConfigurationFactory(credential=credential)
    kept = integration_replace(
        integration=integration, values={"name": "Kept"}, expected_version=1, credential=KEEP
    )
    assert kept.credential == credential
    detached = integration_replace(
        integration=kept, values={}, expected_version=kept.version, credential=None
    )
    detached.refresh_from_db()
    assert detached.credential is None and not detached.connected


def test_replace_refuses_a_stale_version_and_changes_nothing():
    integration = IntegrationConfigurationFactory(
        name="Before", credential=IntegrationCredentialFactory()
    )
    IntegrationConfiguration.objects.filter(pk=integration.pk).update(version=3)
    with pytest.raises(VersionConflict):
        integration_replace(
            integration=integration, values={"name": "Mine"}, expected_version=1, credential=None
        )
    integration.refresh_from_db()
    assert integration.name == "Before" and integration.credential_id is not None


def test_replace_undoes_the_detach_when_the_new_values_are_invalid():
    credential = IntegrationCredentialFactory()
    integration = IntegrationConfigurationFactory(credential=credential)
    with pytest.raises(ValidationError):
        integration_replace(
            integration=integration,
            values={"account_filter": "NOT"},
            expected_version=1,
            credential=None,
        )
    integration.refresh_from_db()
    assert integration.credential == credential and integration.version == 1


def test_delete_keeps_the_paddle_mappings_for_every_integration_and_drops_delivery_records():
    from m3terdata.models import ExternalMapping
    from m3terdata.tests.factories import ExternalMappingFactory
    from runs.models import Delivery
    from runs.tests.factories import DeliveryFactory

    integration = IntegrationConfigurationFactory()
    ExternalMappingFactory(
        integration=integration, m3ter_id="acc-1", external_table="Customer", external_id="ctm_1"
    )
    ExternalMappingFactory(
        integration=integration, m3ter_id="acc-2", external_table="Address", external_id="add_1"
    )
    covered = ExternalMappingFactory(integration=integration, m3ter_id="acc-3")
    ExternalMappingFactory(
        integration=None,
        m3ter_entity=covered.m3ter_entity,
        m3ter_id="acc-3",
        external_system=covered.external_system,
        external_table=covered.external_table,
        external_id="for-every-integration",
    )
    DeliveryFactory(integration=integration)

    integration_delete(integration=integration)

    assert not Delivery.objects.exists()
    kept = ExternalMapping.objects.order_by("m3ter_id", "external_id")
    assert [(m.m3ter_id, m.external_id, m.integration_id) for m in kept] == [
        ("acc-1", "ctm_1", None),
        ("acc-2", "add_1", None),
        ("acc-3", "for-every-integration", None),
    ]


def test_notification_users_are_stored_by_username_and_must_have_an_email():
    ops = User.objects.create_user(username="ops", email="ops@example.com")
    User.objects.create_user(username="nomail")

    integration = integration_create(values=valid(users_to_notify=["ops"]))
    assert list(integration.users_to_notify.all()) == [ops]

    errors = errors_of(valid(users_to_notify=["nomail", "ghost"]))
    assert errors["users_to_notify"] == ["No active user named: ghost. Pick users of this hub."]
    assert "no e-mail address" in errors_of(valid(users_to_notify=["nomail"]))["users_to_notify"][0]

    integration = integration_update(integration=integration, values={"users_to_notify": []})
    assert not integration.users_to_notify.exists()


def test_an_update_that_does_not_name_notification_users_keeps_them():
    User.objects.create_user(username="ops", email="ops@example.com")
    integration = integration_create(values=valid(users_to_notify=["ops"]))

    integration = integration_update(integration=integration, values={"name": "Renamed"})

    assert [user.username for user in integration.users_to_notify.all()] == ["ops"]
