"""The forms of the run and bill pages: date ranges, the bill filter, and which bills (and to
which integration) Send again and backfill send."""

from django import forms
from django.core.exceptions import ValidationError

from integrations.models import EntityType, IntegrationConfiguration
from m3terdata.models import BillStatus
from runs.models import InvoiceStatus


class DateInput(forms.DateInput):
    input_type = "date"


class DateRangeForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=DateInput)
    date_to = forms.DateField(required=False, label="To", widget=DateInput)

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("date_from")
            and cleaned.get("date_to")
            and cleaned["date_from"] > cleaned["date_to"]
        ):
            self.add_error("date_to", "Choose a date on or after the From date.")
        return cleaned


def invoice_status_field() -> forms.ChoiceField:
    """The invoice's status in Paddle as a filter, the same on the run and bill lists."""
    return forms.ChoiceField(
        choices=[("", "Any invoice status"), *InvoiceStatus.choices],
        required=False,
        label="Invoice in Paddle",
    )


def _bill_integrations():
    return IntegrationConfiguration.objects.filter(entity_type=EntityType.BILL).order_by("name")


class BillFilterForm(DateRangeForm):
    account = forms.CharField(required=False, help_text="Name, m3ter id or code", max_length=200)
    status = forms.ChoiceField(choices=[("", "All statuses"), *BillStatus.choices], required=False)
    bill_job_id = forms.CharField(required=False, label="Bill job", max_length=64)
    invoice_status = invoice_status_field()

    field_order = ["account", "status", "bill_job_id", "invoice_status"]

    def __init__(self, *args, with_invoice_status: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_invoice_status:
            # Where a bill was sent is for those who may view runs (as on the bill page).
            del self.fields["invoice_status"]

    def filters(self) -> dict:
        """The bill_rows arguments for what is valid; an invalid field filters nothing."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "account": data.get("account", "").strip(),
            "status": data.get("status", ""),
            "bill_job_id": data.get("bill_job_id", "").strip(),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "invoice_status": data.get("invoice_status", ""),
        }


class BillSelectionForm(DateRangeForm):
    """Which bills a backfill covers: a bill job, a bill date range, bills ticked in the list,
    or several of these together (a bill must meet all of them)."""

    bill_job_id = forms.CharField(required=False, label="Bill job", max_length=64)
    bill_ids = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def clean_bill_ids(self):
        return [i.strip() for i in self.cleaned_data["bill_ids"] or [] if i.strip()]

    def clean(self):
        cleaned = super().clean()
        chosen = ("bill_job_id", "date_from", "date_to", "bill_ids")
        if not self.errors and not any(cleaned.get(name) for name in chosen):
            raise ValidationError(
                "Say which bills to send: a bill job, a bill date range, or bills ticked in "
                "the bill list."
            )
        return cleaned

    def selection(self) -> dict:
        """The runs_backfill arguments (bill_list takes the same ones)."""
        data = self.cleaned_data
        return {
            "bill_job_id": data["bill_job_id"].strip() or None,
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "bill_ids": data["bill_ids"] or None,
        }


class SendAgainForm(forms.Form):
    integration = forms.ModelChoiceField(
        queryset=IntegrationConfiguration.objects.none(),
        required=False,
        label="Send to",
        empty_label="Every integration that selects the bill",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = _bill_integrations()


class BackfillForm(BillSelectionForm):
    integration = forms.ModelChoiceField(
        queryset=IntegrationConfiguration.objects.none(),
        empty_label="Choose an integration",
        help_text="Each bill goes only if this integration selects it (its account rules and "
        "Only Send Bill On Approval).",
    )

    field_order = ["integration", "bill_job_id", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = _bill_integrations()
