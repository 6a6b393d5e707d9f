import pytest
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.admin import IntegrationConfigurationAdminForm
from integrations.forms import (
    AccountPicker,
    ConfigurationForm,
    CredentialChoiceForm,
    DestinationForm,
    EntityTypeForm,
    add_validation_errors,
)
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def configuration_form(data=None, destination=Destination.PADDLE_SANDBOX, **kwargs):
    return ConfigurationForm(data, entity_type="Bill", destination=destination, **kwargs)


def test_stage_1_offers_only_bill():
    form = EntityTypeForm()
    assert form.fields["entity_type"].label == "Entity Type"
    assert list(form.fields["entity_type"].choices) == [("Bill", "Bill")]
    assert EntityTypeForm({"entity_type": "Bill"}).is_valid()
    assert not EntityTypeForm({"entity_type": "Invoice"}).is_valid()


def test_stage_2_offers_paddle_and_its_sandbox_and_needs_an_answer():
    form = DestinationForm()
    assert [label for _, label in form.fields["destination"].choices] == [
        "Paddle",
        "Paddle (Sandbox Mode)",
    ]
    assert DestinationForm({}).errors == {"destination": ["This field is required."]}


def test_stage_3_uses_the_guides_labels_and_help():
    form = configuration_form()
    labels = {name: field.label for name, field in form.fields.items()}
    assert labels == {
        "name": "Name",
        "account_ids": "Account Ids",
        "restricted_account_ids": "Restricted Account Ids",
        "users_to_notify": "Integration disabled notification users",
        "only_send_bill_on_approval": "Only Send Bill On Approval",
        "use_external_mapping_account_code": "Use External Mapping Account Code",
        "excluded_line_item_types": "Excluded Line Item Types",
        "sort_line_items_by": "Sort Line Items By",
        "account_filter": "Account Filter",
        "tax_mode": "Tax Mode",
        "tax_category": "Tax Category",
        "negative_line_items": "Negative Line Items",
        "business_name_field": "Company Name Field",
        "tax_number_field": "Tax Number Field",
        "company_number_field": "Company Number Field",
    }
    help_texts = {name: field.help_text for name, field in form.fields.items()}
    assert "treated as allowed for the integration" in help_texts["account_ids"]
    assert "treated as disallowed for the integration" in help_texts["restricted_account_ids"]
    assert "disabled automatically" in help_texts["users_to_notify"]
    assert form.fields["name"].required  # the star; the service checks it on every road
    assert "sent every time it is regenerated" in help_texts["only_send_bill_on_approval"]
    assert "the m3ter Account Id is used" in help_texts["use_external_mapping_account_code"]
    assert "only send charges or credits" in help_texts["excluded_line_item_types"]
    assert "sort line items by before they are sent" in help_texts["sort_line_items_by"]
    assert "customFields != null AND customFields.country == UK" in help_texts["account_filter"]
    assert "the customer pays the bill's total plus tax" in help_texts["tax_mode"]
    assert "approved for your account in Paddle" in help_texts["tax_category"]
    assert "equals the bill's total" in help_texts["negative_line_items"]
    assert "taxed as a business" in help_texts["business_name_field"]
    assert form.entity_type_label == "Bill"
    assert form.destination_label == "Paddle (Sandbox Mode)"


def test_stage_3_hands_the_whole_configuration_to_the_service():
    account = AccountFactory()
    form = configuration_form(
        {
            "name": "EU",
            "account_ids": [account.m3ter_id],
            "use_external_mapping_account_code": "on",
            "excluded_line_item_types": ["AD_HOC"],
            "sort_line_items_by": "AGGREGATION_ID",
            "account_filter": "address.country IN (DE, FR)",
        },
        destination=Destination.PADDLE,
    )
    assert form.is_valid(), form.errors
    assert form.configuration == {
        "entity_type": "Bill",
        "destination": Destination.PADDLE,
        "name": "EU",
        "account_ids": [account.m3ter_id],
        "restricted_account_ids": [],
        "users_to_notify": [],
        "only_send_bill_on_approval": False,
        "use_external_mapping_account_code": True,
        "excluded_line_item_types": ["AD_HOC"],
        "sort_line_items_by": "AGGREGATION_ID",
        "account_filter": "address.country IN (DE, FR)",
        "tax_mode": "EXTERNAL",
        "tax_category": "standard",
        "negative_line_items": "REFUSE",
        "business_name_field": "companyName",
        "tax_number_field": "taxNumber",
        "company_number_field": "companyNumber",
    }


def test_stage_3_puts_the_service_errors_on_their_fields():
    account = AccountFactory(name="Initech")
    form = configuration_form(
        {
            "name": "Both",
            "account_ids": [account.m3ter_id],
            "restricted_account_ids": [account.m3ter_id],
            "sort_line_items_by": "NONE",
            "account_filter": "customFields.country = = UK",
        }
    )
    assert not form.is_valid()
    assert "Initech" in form.errors["restricted_account_ids"][0]
    assert form.errors["account_filter"] == ["column 22: write '==' to compare (found '= =')"]


def test_a_field_that_fails_its_own_check_shows_one_message():
    form = configuration_form({"name": "X", "sort_line_items_by": "DATE"})
    assert not form.is_valid()
    assert len(form.errors["sort_line_items_by"]) == 1
    assert "Select a valid choice" in form.errors["sort_line_items_by"][0]


def test_a_bad_choice_from_an_earlier_stage_is_reported_above_the_form():
    form = ConfigurationForm(
        {"name": "X", "sort_line_items_by": "NONE"}, entity_type="Bill", destination="STRIPE"
    )
    assert not form.is_valid()
    assert "Paddle or Paddle (Sandbox Mode)" in form.non_field_errors()[0]
    assert form.destination_label == "STRIPE"


def test_add_validation_errors_puts_unknown_fields_and_plain_errors_above_the_form():
    form = configuration_form({"name": "X", "sort_line_items_by": "NONE"})
    form.is_valid()
    add_validation_errors(form, ValidationError({"credential": "Pick one."}))
    add_validation_errors(form, ValidationError("Try again."))
    assert form.non_field_errors() == ["Pick one.", "Try again."]


def test_account_picker_renders_only_the_selected_accounts():
    chosen = AccountFactory(name="Chosen", code="CH")
    AccountFactory(name="Not chosen", code="NO")
    html = configuration_form(initial={"account_ids": [chosen.m3ter_id, "gone"]})[
        "account_ids"
    ].as_widget()
    assert f'<option value="{chosen.m3ter_id}" selected>Chosen (CH)</option>' in html
    assert '<option value="gone" selected>gone</option>' in html
    assert "Not chosen" not in html
    assert 'id="id_account_ids"' in html  # the label points at the search box
    assert 'data-search-url="/integrations/accounts/search/"' in html


def test_account_picker_reads_every_chosen_value():
    data = MultiValueDict({"ids": ["a", "", "b"]})
    assert AccountPicker().value_from_datadict(data, {}, "ids") == ["a", "b"]
    assert AccountPicker().value_omitted_from_data(data, {}, "other") is False


def test_credential_choice_offers_only_the_integrations_destination():
    sandbox = IntegrationCredentialFactory(destination=Destination.PADDLE_SANDBOX)
    live = IntegrationCredentialFactory(destination=Destination.PADDLE)
    integration = IntegrationConfigurationFactory(destination=Destination.PADDLE_SANDBOX)
    form = CredentialChoiceForm(integration=integration)
    assert list(form.fields["credential"].queryset) == [sandbox]

    refused = CredentialChoiceForm({"credential": live.pk}, integration=integration)
    assert not refused.is_valid()
    assert "not available for this integration's destination" in refused.errors["credential"][0]
    assert CredentialChoiceForm({}, integration=integration).errors == {
        "credential": ["Select a credential."]
    }


def test_the_admin_form_checks_with_the_same_rules():
    account = AccountFactory(name="Initech")
    integration = IntegrationConfigurationFactory()
    form = IntegrationConfigurationAdminForm(
        {
            "name": "Admin edit",
            "entity_type": "Bill",
            "destination": integration.destination,
            "account_ids": f'["{account.m3ter_id}"]',
            "restricted_account_ids": f'["{account.m3ter_id}"]',
            "excluded_line_item_types": "[]",
            "sort_line_items_by": "NONE",
            "account_filter": "",
            "enabled": "on",
        },
        instance=integration,
    )
    assert not form.is_valid()
    assert "Initech" in form.errors["restricted_account_ids"][0]
