"""Run history, run details with Retry and Replay, and a parent run's live progress."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from credentials.models import Destination
from integrations.models import IntegrationConfiguration
from m3terpaddle.text import sentences
from m3terpaddle.views_common import filtered_page, object_or_404, requires
from runs import services
from runs.forms import DateRangeForm, invoice_status_field
from runs.models import IntegrationRun, RunStatus
from runs.selectors import (
    backfill_failures_repeat,
    run_detail,
    run_failure_repeats,
    run_known_transaction_id,
    run_list,
    run_progress,
)

VIEW_PERMISSION = "runs.view_integrationrun"
ACT_PERMISSION = "runs.change_integrationrun"
# A parent's page lists this many children; the history page, filtered by parent, lists them all.
CHILDREN_SHOWN = 50


can_view = requires(VIEW_PERMISSION)
can_act = requires(ACT_PERMISSION)


class RunFilterForm(DateRangeForm):
    integration = forms.ModelChoiceField(
        queryset=IntegrationConfiguration.objects.only("id", "name").order_by("name"),
        required=False,
        empty_label="All integrations",
    )
    status = forms.ChoiceField(choices=[("", "All statuses"), *RunStatus.choices], required=False)
    destination = forms.ChoiceField(
        choices=[("", "All destinations"), *Destination.choices], required=False
    )
    account = forms.CharField(
        required=False, label="Account", help_text="Name, m3ter id or code", max_length=200
    )
    bill = forms.CharField(
        required=False, label="Bill", help_text="m3ter id or its first characters", max_length=64
    )
    invoice_status = invoice_status_field()
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)

    field_order = ["integration", "status", "destination", "account", "bill", "invoice_status"]

    def filters(self) -> dict:
        """The run_list arguments for what is valid; an invalid field filters nothing."""
        self.is_valid()
        data = self.cleaned_data
        integration = data.get("integration")
        return {
            "integration_id": integration.pk if integration else None,
            "status": data.get("status", ""),
            "destination": data.get("destination", ""),
            "account": data.get("account", "").strip(),
            "bill": data.get("bill", "").strip(),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "parent_id": data.get("parent"),
            "invoice_status": data.get("invoice_status", ""),
        }


@require_GET
@can_view
def run_list_view(request):
    context = filtered_page(request, RunFilterForm, run_list)
    context["parent_id"] = context["filters"].get("parent_id")
    return render(request, "runs/list.html", context)


def _run_or_404(run_id) -> IntegrationRun:
    return object_or_404(run_detail, "No run with this id.", run_id=run_id)


def _progress_context(run: IntegrationRun) -> dict:
    progress = run_progress(run=run)
    children = list(run_list(parent_id=run.pk)[:CHILDREN_SHOWN]) if progress.total else []
    return {
        "run": run,
        "progress": progress,
        "children": children,
        "children_shown": CHILDREN_SHOWN,
    }


@require_GET
@can_view
def run_detail_view(request, run_id):
    run = _run_or_404(run_id)
    may_act = request.user.has_perm(ACT_PERMISSION)
    attempts = list(run.attempts.all())
    failed = run.status in services.PERSON_RETRYABLE_STATUSES
    if run.is_backfill_parent:
        repeats = failed and backfill_failures_repeat(
            parent=run, failed_statuses=services.PERSON_RETRYABLE_STATUSES
        )
    else:
        repeats = failed and run_failure_repeats(
            last_outcome=attempts[-1].outcome if attempts else None
        )
    return render(
        request,
        "runs/detail.html",
        {
            **_progress_context(run),
            "attempts": attempts,
            "log_entries": run.log_entries.all(),
            "can_retry": may_act
            and run.status in services.PERSON_RETRYABLE_STATUSES
            and not repeats,
            "failure_repeats": run.status in services.PERSON_RETRYABLE_STATUSES and repeats,
            "can_replay": may_act and run.integration_id is not None,
            "known_transaction_id": run_known_transaction_id(run=run),
        },
    )


@require_GET
@can_view
def run_progress_view(request, run_id):
    """The progress bar and children of a parent run, polled by static/runs/progress.js."""
    run = get_object_or_404(IntegrationRun.objects.only("id", "status"), pk=run_id)
    return render(request, "runs/_progress.html", _progress_context(run))


def _act(request, run_id, action, done_message):
    run = _run_or_404(run_id)
    try:
        result = action(run=run, user=request.user)
    except ValidationError as refused:  # runs.services.RunRefused says what to do instead
        messages.error(request, sentences(*refused.messages))
        return redirect("runs:detail", run_id=run.pk)
    messages.success(request, done_message)
    return redirect("runs:detail", run_id=result.pk)


@require_POST
@can_act
def run_retry_view(request, run_id):
    return _act(
        request, run_id, services.run_retry, "Retry queued: the run is waiting for a worker."
    )


@require_POST
@can_act
def run_replay_view(request, run_id):
    return _act(
        request,
        run_id,
        services.run_replay,
        "Replay queued: this new run sends the bill's current data.",
    )
