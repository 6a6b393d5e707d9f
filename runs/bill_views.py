"""The bill pages: the list, one bill with its runs and where it goes, Send again and backfill.
They live with the runs because most of what they show and do is about runs; their URL names
keep the m3terdata namespace (see m3terpaddle/urls.py)."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m3terdata.models import Bill
from m3terdata.selectors import bill_detail, bill_line_items, bill_list
from m3terpaddle.text import sentences
from m3terpaddle.views_common import filtered_page, object_or_404, page_of, requires
from runs import services as run_services
from runs.forms import BackfillForm, BillFilterForm, BillSelectionForm, SendAgainForm
from runs.selectors import bill_integration_rows, bill_rows, run_list
from runs.views import ACT_PERMISSION
from runs.views import VIEW_PERMISSION as RUNS_VIEW_PERMISSION

VIEW_PERMISSION = "m3terdata.view_bill"
RUNS_SHOWN = 20


can_view = requires(VIEW_PERMISSION)
can_act = requires(VIEW_PERMISSION, ACT_PERMISSION)


@require_GET
@can_view
def bill_list_view(request):
    # The invoice in Paddle is part of where a bill was sent: for those who may view runs.
    can_see_runs = request.user.has_perm(RUNS_VIEW_PERMISSION)
    form_class = partial(BillFilterForm, with_invoice_status=can_see_runs)
    return render(
        request,
        "runs/bill_list.html",
        {
            **filtered_page(request, form_class, bill_rows),
            "can_act": request.user.has_perm(ACT_PERMISSION),
            "can_see_runs": can_see_runs,
        },
    )


def _bill_or_404(m3ter_id) -> Bill:
    return object_or_404(bill_detail, "No bill with this m3ter id.", m3ter_id=m3ter_id)


@require_GET
@can_view
def bill_detail_view(request, m3ter_id):
    bill = _bill_or_404(m3ter_id)
    can_act = request.user.has_perm(ACT_PERMISSION)
    # Where the bill went (runs, Paddle transactions) is for those who may see the runs; the
    # template leaves out each integration's delivery for the others.
    can_see_runs = request.user.has_perm(RUNS_VIEW_PERMISSION)
    return render(
        request,
        "runs/bill_detail.html",
        {
            "bill": bill,
            "line_items": page_of(request, bill_line_items(bill=bill)),
            "can_see_runs": can_see_runs,
            "integration_rows": bill_integration_rows(bill=bill),
            "runs": run_list(bill=bill.m3ter_id)[:RUNS_SHOWN] if can_see_runs else [],
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
        messages.error(request, sentences(*error.messages))
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
    return render(request, "runs/backfill.html", {"form": form, "matching": matching})
