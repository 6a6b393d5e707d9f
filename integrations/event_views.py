"""The Integration events page (m3ter's Integrations › Integration events): what to follow up,
each with the button that leads to the fix, and Mark actioned."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from integrations.events import integration_event_action
from integrations.models import IntegrationEvent, IntegrationEventName
from integrations.selectors import integration_event_get, integration_events
from m3terpaddle.text import sentences
from m3terpaddle.views_common import filtered_page, requires
from paddle_destination.parties import ACCOUNT_ENTITY, CUSTOMER_TABLE, PADDLE_SYSTEM

VIEW_PERMISSION = "integrations.view_integrationevent"
ACT_PERMISSION = "integrations.change_integrationevent"

# The mapping the delivery looks up for an account's Paddle customer.
MAPPING_PREFILL = {
    "m3ter_entity": ACCOUNT_ENTITY,
    "external_system": PADDLE_SYSTEM,
    "external_table": CUSTOMER_TABLE,
}


class EventFilterForm(forms.Form):
    show = forms.ChoiceField(
        choices=[("", "Not actioned"), ("all", "All, actioned too")], required=False, label="Show"
    )
    name = forms.ChoiceField(
        choices=[("", "All events"), *IntegrationEventName.choices], required=False, label="Event"
    )

    def filters(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {"include_actioned": data.get("show") == "all", "name": data.get("name", "")}


def event_follow_up(event: IntegrationEvent) -> tuple[str, str] | None:
    """(label, url) of the page where a person fixes what the event is about."""
    if event.name == IntegrationEventName.MISSING_ACCOUNT_MAPPING and event.account_m3ter_id:
        prefill = {
            **MAPPING_PREFILL,
            "m3ter_id": event.account_m3ter_id,
            "integration": event.integration_id or "",
        }
        return (
            "Create external mapping",
            f"{reverse('admin:m3terdata_externalmapping_add')}?{urlencode(prefill)}",
        )
    if (
        event.name in (IntegrationEventName.AUTHENTICATION, IntegrationEventName.DISABLED)
        and event.integration_id
    ):
        return (
            "Go to authentication",
            reverse("integrations:detail", args=[event.integration_id]) + "#authentication",
        )
    if event.run_id:
        return "Go to the run", reverse("runs:detail", args=[event.run_id])
    return None


@require_GET
@requires(VIEW_PERMISSION)
def event_list_view(request):
    context = filtered_page(request, EventFilterForm, integration_events)
    context["rows"] = [(event, event_follow_up(event)) for event in context["page"].object_list]
    context["can_act"] = request.user.has_perm(ACT_PERMISSION)
    return render(request, "integrations/event_list.html", context)


@require_POST
@requires(ACT_PERMISSION)
def event_action_view(request, pk):
    event = integration_event_get(event_id=pk)
    if event is None:
        raise Http404("No event with this id.")
    try:
        integration_event_action(event=event, user=request.user)
    except ValidationError as error:
        messages.error(request, sentences(*error.messages))
    else:
        messages.success(request, f"Marked actioned: {event.get_name_display()}.")
    return redirect("integrations:events")
