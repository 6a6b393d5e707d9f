"""The bill pages: the list, one bill with its runs and where it goes, Send again and backfill."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.models import EntityType, IntegrationConfiguration
from m3terdata.models import Bill, BillStatus
from m3terdata.selectors import bill_detail, bill_list
from m3terpaddle.views_common import filtered_page, object_or_404, requires
from runs import services as run_services
from runs.selectors import bill_integration_rows, run_list
from runs.views import ACT_PERMISSION, DateRangeForm

VIEW_PERMISSION = "m3terdata.view_bill"
RUNS_SHOWN = 20


can_view = requires(VIEW_PERMISSION)
can_act = requires(VIEW_PERMISSION, ACT_PERMISSION)


def _bill_integrations():
    return IntegrationConfiguration.objects.filter(entity_type=EntityType.BILL).order_by("name")


class BillFilterForm(DateRangeForm):
    account = forms.CharField(required=False, help_text="m3ter id or code", max_length=200)
    status = forms.ChoiceField(choices=[("", "All statuses"), *BillStatus.choices], required=False)
    bill_job_id = forms.CharField(required=False, label="Bill job", max_length=64)

    field_order = ["account", "status", "bill_job_id"]

    def filters(self) -> dict:
        """The bill_list arguments for what is valid; an invalid field filters nothing."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "account": data.get("account", "").strip(),
            "status": data.get("status", ""),
            "bill_job_id": data.get("bill_job_id", "").strip(),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
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


@require_GET
@can_view
def bill_list_view(request):
    return render(
        request,
        "m3terdata/bill_list.html",
        {
            **filtered_page(request, BillFilterForm, bill_list),
            "can_act": request.user.has_perm(ACT_PERMISSION),
        },
    )


def _bill_or_404(m3ter_id) -> Bill:
    return object_or_404(bill_detail, "No bill with this m3ter id.", m3ter_id=m3ter_id)


@require_GET
@can_view
def bill_detail_view(request, m3ter_id):
    bill = _bill_or_404(m3ter_id)
    can_act = request.user.has_perm(ACT_PERMISSION)
    return render(
        request,
        "m3terdata/bill_detail.html",
        {
            "bill": bill,
            "line_items": bill.line_items.all(),
            "integration_rows": bill_integration_rows(bill=bill),
            "runs": run_list(bill=bill.m3ter_id)[:RUNS_SHOWN],
            "runs_shown": RUNS_SHOWN,
            "can_act": can_act,
            "send_again_form": SendAgainForm() if can_act else None,
            "backfill_form": BackfillForm(initial={"bill_job_id": bill.bill_job_id})
            if can_act and bill.bill_job_id
            else None,
        },
    )


@require_POST
@can_act
def bill_send_again_view(request, m3ter_id):
    bill = _bill_or_404(m3ter_id)
    form = SendAgainForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That integration no longer exists; choose another.")
        return redirect("m3terdata:bill_detail", m3ter_id=bill.m3ter_id)
    try:
        runs = run_services.bill_send_again(
            bill=bill, integration=form.cleaned_data["integration"], user=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("m3terdata:bill_detail", m3ter_id=bill.m3ter_id)
    if not runs:
        messages.warning(
            request,
            "No integration selects this bill, so nothing was sent. The table below says why.",
        )
    elif len(runs) == 1:
        messages.success(request, f"Sending the bill again to {runs[0].integration_name}.")
        return redirect("runs:detail", run_id=runs[0].pk)
    else:
        names = ", ".join(run.integration_name for run in runs)
        messages.success(request, f"Sending the bill again to {names}.")
    return redirect("m3terdata:bill_detail", m3ter_id=bill.m3ter_id)


@require_http_methods(["GET", "POST"])
@can_act
def backfill_view(request):
    """Send the selected bills to one integration as one parent run, whose page shows the
    children's progress. A GET (from the bill list or a bill page) fills the form in."""
    if request.method == "POST":
        form = selection = BackfillForm(request.POST)
        if form.is_valid():
            try:
                parent = run_services.runs_backfill(
                    integration=form.cleaned_data["integration"],
                    user=request.user,
                    **form.selection(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Backfill started: its runs are listed below.")
                return redirect("runs:detail", run_id=parent.pk)
    else:
        selection = BillSelectionForm(request.GET)
        form = BackfillForm(
            initial={**request.GET.dict(), "bill_ids": request.GET.getlist("bill_ids")}
        )
    matching = bill_list(**selection.selection()).count() if selection.is_valid() else None
    return render(request, "m3terdata/backfill.html", {"form": form, "matching": matching})
