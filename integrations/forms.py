"""Forms for the Create wizard and the Edit page. They only collect input: every rule lives in
integrations.services.integration_validate, whose errors are put back on the fields here."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from credentials.models import Destination, IntegrationCredential
from integrations.models import (
    EntityType,
    IntegrationConfiguration,
    NegativeLineItems,
    SortLineItemsBy,
    TaxCategory,
    TaxMode,
)
from integrations.selectors import account_choices, integration_notification_usernames
from integrations.services import NAME_MAX_LENGTH, NAME_REQUIRED, integration_validate
from m3terdata.models import LineItemType


def add_validation_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has that field,
    otherwise above the form. A field that already failed its own check keeps only that
    message, which already says what is wrong with it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    failed = set(form.errors)
    for field, messages in error.message_dict.items():
        if field not in failed:
            form.add_error(field if field in form.fields else None, messages)


def validate_configuration(form: forms.BaseForm, values: dict) -> dict | None:
    """integration_validate for a form's clean(): the cleaned configuration, or None with the
    errors put on the form."""
    try:
        return integration_validate(values=values)
    except ValidationError as error:
        add_validation_errors(form, error)
        return None


class EntityTypeForm(forms.Form):
    """Stage 1: Entity Type Settings."""

    entity_type = forms.ChoiceField(
        label="Entity Type",
        choices=EntityType.choices,
        initial=EntityType.BILL,
        widget=forms.RadioSelect,
        help_text="The m3ter entity the integration sends. Currently, only Bill is available.",
    )


class DestinationForm(forms.Form):
    """Stage 2: Destination Settings."""

    destination = forms.ChoiceField(
        label="Integration Destination",
        choices=Destination.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Paddle sends to your Paddle production environment; Paddle (Sandbox Mode) sends to "
            "your Paddle Sandbox environment. The configuration settings are the same for both."
        ),
    )


class AccountPicker(forms.Widget):
    """A searchable multi-select of accounts. Only the selected accounts are in the page; the
    search asks the server for one page of matches at a time (static/integrations/integrations.js),
    so it stays fast with thousands of accounts."""

    template_name = "integrations/widgets/account_picker.html"

    def format_value(self, value):
        return [str(v) for v in value or [] if v]

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        if isinstance(values, str):
            values = [values]
        return [v for v in values or [] if v]

    def value_omitted_from_data(self, data, files, name):
        # An empty multi-select posts nothing; that means "none selected", not "not sent".
        return False

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # The label, help text and error point at the search box; the styling goes on the box
        # around the chips and the search, which looks like one input.
        search_attrs = dict(context["widget"]["attrs"])
        context["container_class"] = search_attrs.pop("class", "")
        context["search_attrs"] = search_attrs
        context["selected"] = account_choices(account_ids=context["widget"]["value"])
        context["search_url"] = reverse("integrations:account_search")
        return context

    def render(self, name, value, attrs=None, renderer=None):
        # The project's template engine, so the widget template sits with the other templates.
        return render_to_string(self.template_name, self.get_context(name, value, attrs))


class AccountIdsField(forms.Field):
    widget = AccountPicker

    def to_python(self, value):
        return [str(v).strip() for v in value or [] if str(v).strip()]


HELP_TEXTS = {
    "account_ids": (
        "Select the Accounts you want to include - all selected Accounts are treated as allowed "
        "for the integration. To include all Accounts, leave both Account Ids and Restricted "
        "Account Ids empty."
    ),
    "restricted_account_ids": (
        "Select the Accounts you want to exclude - all selected Accounts are treated as "
        "disallowed for the integration."
    ),
    "users_to_notify": (
        "Select the users of your Organization you want to notify by e-mail when the "
        "integration is disabled automatically (for example, after Paddle refused its API key)."
    ),
    "only_send_bill_on_approval": (
        "Enable this if you only want Bills to be sent when they have been approved. If "
        "disabled, the Bill will be sent every time it is regenerated. Default is disabled."
    ),
    "use_external_mapping_account_code": (
        "Enable this if you want the integration to look in the External Mappings for the "
        "Account identifier code, which means you can use an external Id. If this is disabled, "
        "the m3ter Account Id is used. Default is disabled."
    ),
    "excluded_line_item_types": (
        "Optionally, filter the Bill line items you send to the destination system. For "
        "example, only send charges or credits and exclude all other line items."
    ),
    "sort_line_items_by": (
        "Optionally, select a property to sort line items by before they are sent out to the "
        "external system."
    ),
    "account_filter": (
        "Optionally, enter an expression that is run on the Account to determine whether or "
        "not the integration is run, for example: "
        "<code>customFields != null AND customFields.country == UK</code>. "
        "Fields: id, accountName, accountCode, currency, address.country (and the other "
        "address fields), customFields.&lt;name&gt;. Any filtering by Account Ids is in "
        "addition to this filter."
    ),
    "tax_mode": (
        "Whether m3ter's amounts include tax. <strong>External</strong> (the default): m3ter's "
        "amounts are net, Paddle adds the buyer's tax on top, so the customer pays the bill's "
        "total plus tax. <strong>Internal</strong>: m3ter's amounts already include tax; Paddle "
        "takes the tax out of them, so the customer pays exactly the bill's total. "
        "<strong>Account setting</strong>: whatever your Paddle account's tax setting says; if "
        "that is tax-inclusive, the customer pays the bill's total and you receive less."
    ),
    "tax_category": (
        "The Paddle tax category of the invoice's items; it decides the rate Paddle charges. "
        "Standard works on every Paddle account; the others (SaaS fits usage billing) must be "
        "approved for your account in Paddle first. Lines whose m3ter product is mapped to a "
        "Paddle product (external mapping Product → Paddle Product, pro_…) use that product's "
        "own category instead."
    ),
    "negative_line_items": (
        "m3ter's integration refuses a bill with negative line items (credits), and so does "
        "this one by default. <strong>Credit</strong> sends them as one discount on the invoice "
        "instead, so the customer's total before tax equals the bill's total; a bill whose "
        "credits exceed its charges is still refused."
    ),
    "business_name_field": (
        "The account custom field holding the buyer's company name. With a company name or tax "
        "number, the invoice is made out to that business in Paddle, so a B2B buyer is taxed as "
        "a business (for example, reverse-charged VAT in the EU) rather than as a consumer. "
        "Leave empty to use none."
    ),
    "tax_number_field": (
        "The account custom field holding the buyer's tax (VAT) number, printed on the invoice."
    ),
    "company_number_field": (
        "The account custom field holding the buyer's company registration number."
    ),
}


class ConfigurationForm(forms.Form):
    """Stage 3 (Configure and create) and the Edit page: Global and Entity Configuration.

    The entity type and destination are chosen earlier (or fixed, when editing) and passed in,
    so the whole configuration is validated together."""

    GLOBAL_FIELDS = ("name", "account_ids", "restricted_account_ids", "users_to_notify")
    ENTITY_FIELDS = (
        "only_send_bill_on_approval",
        "use_external_mapping_account_code",
        "excluded_line_item_types",
        "sort_line_items_by",
        "account_filter",
    )
    INVOICE_FIELDS = (
        "tax_mode",
        "tax_category",
        "negative_line_items",
        "business_name_field",
        "tax_number_field",
        "company_number_field",
    )

    # The service checks it too (the API's road); its message is the form's.
    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        error_messages={"required": NAME_REQUIRED},
    )
    account_ids = AccountIdsField(
        label="Account Ids", required=False, help_text=HELP_TEXTS["account_ids"]
    )
    restricted_account_ids = AccountIdsField(
        label="Restricted Account Ids",
        required=False,
        help_text=HELP_TEXTS["restricted_account_ids"],
    )
    users_to_notify = forms.ModelMultipleChoiceField(
        label="Integration disabled notification users",
        queryset=get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .order_by("username"),
        to_field_name="username",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=HELP_TEXTS["users_to_notify"],
    )
    only_send_bill_on_approval = forms.BooleanField(
        label="Only Send Bill On Approval",
        required=False,
        help_text=HELP_TEXTS["only_send_bill_on_approval"],
    )
    use_external_mapping_account_code = forms.BooleanField(
        label="Use External Mapping Account Code",
        required=False,
        help_text=HELP_TEXTS["use_external_mapping_account_code"],
    )
    excluded_line_item_types = forms.MultipleChoiceField(
        label="Excluded Line Item Types",
        choices=LineItemType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=HELP_TEXTS["excluded_line_item_types"],
    )
    # Optional as in m3ter's guide: the service reads a missing value as None.
    sort_line_items_by = forms.ChoiceField(
        label="Sort Line Items By",
        choices=SortLineItemsBy.choices,
        initial=SortLineItemsBy.NONE,
        required=False,
        help_text=HELP_TEXTS["sort_line_items_by"],
    )
    account_filter = forms.CharField(
        label="Account Filter",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "spellcheck": "false",
                "autocomplete": "off",
                "class": "font-monospace",
            }
        ),
        help_text=HELP_TEXTS["account_filter"],
    )

    tax_mode = forms.ChoiceField(
        label="Tax Mode",
        choices=TaxMode.choices,
        initial=TaxMode.EXTERNAL,
        required=False,
        help_text=HELP_TEXTS["tax_mode"],
    )
    tax_category = forms.ChoiceField(
        label="Tax Category",
        choices=TaxCategory.choices,
        initial=TaxCategory.STANDARD,
        required=False,
        help_text=HELP_TEXTS["tax_category"],
    )
    negative_line_items = forms.ChoiceField(
        label="Negative Line Items",
        choices=NegativeLineItems.choices,
        initial=NegativeLineItems.REFUSE,
        required=False,
        widget=forms.RadioSelect,
        help_text=HELP_TEXTS["negative_line_items"],
    )
    business_name_field = forms.CharField(
        label="Company Name Field",
        initial="companyName",
        required=False,
        help_text=HELP_TEXTS["business_name_field"],
    )
    tax_number_field = forms.CharField(
        label="Tax Number Field",
        initial="taxNumber",
        required=False,
        help_text=HELP_TEXTS["tax_number_field"],
    )
    company_number_field = forms.CharField(
        label="Company Number Field",
        initial="companyNumber",
        required=False,
        help_text=HELP_TEXTS["company_number_field"],
    )

    def __init__(self, *args, entity_type: str, destination: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.entity_type = entity_type
        self.destination = destination
        self.fields["account_filter"].widget.attrs["data-filter-check-url"] = reverse(
            "integrations:filter_check"
        )
        self.fields["account_filter"].widget.attrs["data-filter-test-url"] = reverse(
            "integrations:filter_test"
        )

    # Labels tolerate a value that is not (or no longer) a choice: validation reports it.
    @property
    def entity_type_label(self) -> str:
        return dict(EntityType.choices).get(self.entity_type, self.entity_type or "")

    @property
    def destination_label(self) -> str:
        return dict(Destination.choices).get(self.destination, self.destination or "")

    def clean(self):
        cleaned_data = super().clean()
        values = {
            "entity_type": self.entity_type,
            "destination": self.destination,
            **{name: cleaned_data.get(name) for name in (*self.GLOBAL_FIELDS, *self.ENTITY_FIELDS)},
            # A field the page did not post keeps the service's default (an empty business
            # field name, posted, turns that part off).
            **{
                name: cleaned_data.get(name)
                for name in self.INVOICE_FIELDS
                if self.add_prefix(name) in self.data
            },
        }
        self.configuration = validate_configuration(self, values)
        return cleaned_data

    @classmethod
    def initial_for(cls, integration: IntegrationConfiguration) -> dict:
        names = (*cls.GLOBAL_FIELDS, *cls.ENTITY_FIELDS, *cls.INVOICE_FIELDS)
        initial = {name: getattr(integration, name) for name in names if name != "users_to_notify"}
        initial["users_to_notify"] = integration_notification_usernames(integration=integration)
        return initial


class EditConfigurationForm(ConfigurationForm):
    """The Edit page also carries the version it was loaded at, so a concurrent change is refused
    instead of overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class CredentialChoiceField(forms.ModelChoiceField):
    # The modal already says which destination every choice is for.
    def label_from_instance(self, obj):
        return f"{obj.name} (API key {obj.api_key_hint})"


class CredentialChoiceForm(forms.Form):
    """The Select One Integration Credential modal: only credentials for the integration's
    destination are offered."""

    credential = CredentialChoiceField(
        queryset=IntegrationCredential.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Select a credential.",
            "invalid_choice": (
                "That credential is not available for this integration's destination; "
                "select one from the list."
            ),
        },
    )

    def __init__(self, *args, integration: IntegrationConfiguration, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credential"].queryset = IntegrationCredential.objects.filter(
            destination=integration.destination
        ).order_by("name")
