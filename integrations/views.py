"""Browser pages for integration configurations. Thin: forms collect input, services change
state, selectors read."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.datastructures import MultiValueDict
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django.views.generic.detail import SingleObjectMixin
from formtools.wizard.views import SessionWizardView

from integrations.account_filter import AccountFilterError
from integrations.forms import (
    ConfigurationForm,
    CredentialChoiceForm,
    DestinationForm,
    EditConfigurationForm,
    EntityTypeForm,
    add_validation_errors,
)
from integrations.models import IntegrationConfiguration
from integrations.selectors import (
    account_choices,
    account_filter_matches,
    account_search,
)
from integrations.services import (
    VersionConflict,
    integration_attach_credential,
    integration_create,
    integration_delete,
    integration_detach_credential,
    integration_disable,
    integration_enable,
    integration_update,
)
from m3terdata.models import LineItemType
from runs.selectors import integration_list, integration_runs_summary

VIEW_PERMISSION = "integrations.view_integrationconfiguration"
ADD_PERMISSION = "integrations.add_integrationconfiguration"
CHANGE_PERMISSION = "integrations.change_integrationconfiguration"
DELETE_PERMISSION = "integrations.delete_integrationconfiguration"

# The runs app's panel for the details page: latest runs and counts by status.
RUNS_PANEL_TEMPLATE = "runs/_integration_runs.html"

ACCOUNT_SEARCH_PAGE_SIZE = 20
FILTER_TEST_SAMPLE_SIZE = 5


class SignedInWithPermission(LoginRequiredMixin, PermissionRequiredMixin):
    """Anonymous people go to the login page; signed-in people without the permission get 403."""


class IntegrationListView(SignedInWithPermission, ListView):
    permission_required = VIEW_PERMISSION
    template_name = "integrations/integration_list.html"
    context_object_name = "integrations"
    paginate_by = 25

    def get_queryset(self):
        return integration_list()


WIZARD_STAGES = (
    ("entity", EntityTypeForm, "Select entity type"),
    ("destination", DestinationForm, "Select destination"),
    ("configure", ConfigurationForm, "Configure and create"),
)


class IntegrationCreateWizard(SignedInWithPermission, SessionWizardView):
    """The three-stage Create page. Back keeps what was typed on the stage being left, even when
    it is not valid yet; Create Integration re-validates every stage."""

    permission_required = ADD_PERMISSION
    form_list = [(step, form) for step, form, _ in WIZARD_STAGES]
    template_name = "integrations/integration_create.html"
    drafts_key = "back_drafts"

    def get_form_kwargs(self, step=None):
        if step != "configure":
            return {}
        entity = self.get_cleaned_data_for_step("entity") or {}
        destination = self.get_cleaned_data_for_step("destination") or {}
        return {
            "entity_type": entity.get("entity_type"),
            "destination": destination.get("destination"),
        }

    def get_form_initial(self, step):
        draft = self.storage.extra_data.get(self.drafts_key, {}).get(step)
        if draft is None:
            return super().get_form_initial(step)
        data = MultiValueDict(draft)
        form_class = self.get_form_list()[step]
        return {
            name: field.widget.value_from_datadict(data, None, f"{step}-{name}")
            for name, field in form_class.base_fields.items()
        }

    def render_goto_step(self, goto_step, **kwargs):
        current = self.steps.current
        form = self.get_form(data=self.request.POST, files=self.request.FILES)
        drafts = dict(self.storage.extra_data.get(self.drafts_key, {}))
        if form.is_valid():
            self.storage.set_step_data(current, self.process_step(form))
            drafts.pop(current, None)
        else:
            # Shown again as initial values (not as a bound form) so returning to the stage
            # does not greet the person with errors for a stage they had not finished.
            self.storage.set_step_data(current, None)
            prefix = f"{current}-"
            drafts[current] = {
                key: values for key, values in self.request.POST.lists() if key.startswith(prefix)
            }
        self.storage.extra_data = {**self.storage.extra_data, self.drafts_key: drafts}
        return super().render_goto_step(goto_step, **kwargs)

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        current = self.steps.index
        context["stages"] = [
            {"number": i + 1, "title": title, "done": i < current, "current": i == current}
            for i, (_, _, title) in enumerate(WIZARD_STAGES)
        ]
        context["stage_title"] = WIZARD_STAGES[current][2]
        return context

    def done(self, form_list, form_dict, **kwargs):
        integration = integration_create(
            values=form_dict["configure"].configuration, user=self.request.user
        )
        messages.success(
            self.request,
            f"Created the integration “{integration.name}”. Add a credential to connect it to "
            f"{integration.get_destination_display()}.",
        )
        return redirect("integrations:detail", pk=integration.pk)


class IntegrationDetailView(SignedInWithPermission, DetailView):
    permission_required = VIEW_PERMISSION
    template_name = "integrations/integration_detail.html"
    context_object_name = "integration"

    def get_queryset(self):
        return IntegrationConfiguration.objects.select_related(
            "credential", "created_by", "updated_by"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        integration = self.object
        choices = account_choices(
            account_ids=[*integration.account_ids, *integration.restricted_account_ids]
        )
        labels = {choice.id: choice.label for choice in choices}
        context.update(
            accounts=[labels[i] for i in integration.account_ids],
            restricted_accounts=[labels[i] for i in integration.restricted_account_ids],
            excluded_line_item_types=[
                LineItemType(t).label if t in LineItemType.values else t
                for t in integration.excluded_line_item_types
            ],
            credential_form=CredentialChoiceForm(
                integration=integration, initial={"credential": integration.credential_id}
            ),
            runs_panel_template=RUNS_PANEL_TEMPLATE,
            runs_summary=integration_runs_summary(integration=integration),
        )
        return context


class IntegrationEditView(SignedInWithPermission, SingleObjectMixin, FormView):
    permission_required = CHANGE_PERMISSION
    template_name = "integrations/integration_edit.html"
    form_class = EditConfigurationForm
    model = IntegrationConfiguration
    context_object_name = "integration"

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "entity_type": self.object.entity_type,
            "destination": self.object.destination,
        }

    def get_initial(self):
        return {
            **ConfigurationForm.initial_for(self.object),
            "version": self.object.version,
        }

    def form_valid(self, form):
        try:
            integration = integration_update(
                integration=self.object,
                values=form.configuration,
                user=self.request.user,
                expected_version=form.cleaned_data["version"],
            )
        except VersionConflict as conflict:
            form.add_error(None, str(conflict))
            return self.form_invalid(form)
        except ValidationError as error:
            add_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Saved the integration “{integration.name}”.")
        return redirect("integrations:detail", pk=integration.pk)


class IntegrationActionView(SignedInWithPermission, SingleObjectMixin, View):
    """A POST-only button on the details page: do one thing, say what happened, go back."""

    permission_required = CHANGE_PERMISSION
    model = IntegrationConfiguration
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        try:
            message = self.act(self.object)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(request, message)
        return redirect("integrations:detail", pk=self.object.pk)

    def act(self, integration) -> str:
        raise NotImplementedError


class IntegrationEnableView(IntegrationActionView):
    def act(self, integration):
        integration_enable(integration=integration, user=self.request.user)
        return "Enabled the integration: new and changed bills will be sent."


class IntegrationDisableView(IntegrationActionView):
    def act(self, integration):
        integration_disable(
            integration=integration,
            user=self.request.user,
            reason=f"Disabled by {self.request.user.get_username()}.",
        )
        return "Disabled the integration: no bills will be sent until it is enabled again."


class IntegrationAttachCredentialView(IntegrationActionView):
    def act(self, integration):
        form = CredentialChoiceForm(self.request.POST, integration=integration)
        if not form.is_valid():
            raise ValidationError(form.errors["credential"])
        credential = form.cleaned_data["credential"]
        integration_attach_credential(
            integration=integration, credential=credential, user=self.request.user
        )
        return (
            f"Connected to {integration.get_destination_display()} with the credential "
            f"“{credential.name}”."
        )


class IntegrationDetachCredentialView(IntegrationActionView):
    def act(self, integration):
        integration_detach_credential(integration=integration, user=self.request.user)
        return (
            f"Disconnected: the integration no longer sends bills to "
            f"{integration.get_destination_display()} until a credential is added."
        )


class IntegrationDeleteView(SignedInWithPermission, DetailView):
    """GET asks for confirmation (the details page asks in a modal); POST deletes."""

    permission_required = DELETE_PERMISSION
    model = IntegrationConfiguration
    template_name = "integrations/integration_confirm_delete.html"
    context_object_name = "integration"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "run_count": self.object.runs.count()}

    def post(self, request, *args, **kwargs):
        integration = self.get_object()
        name = integration.name
        integration_delete(integration=integration)
        messages.success(
            request, f"Deleted the integration “{name}”. Its runs stay on the Runs page."
        )
        return redirect("integrations:list")


class AccountSearchView(SignedInWithPermission, View):
    """JSON for the Account Ids pickers: one page of accounts matching ?q=, ?page= from 1."""

    permission_required = VIEW_PERMISSION

    def get(self, request):
        try:
            page = max(int(request.GET.get("page", 1)), 1)
        except ValueError:
            page = 1
        choices, has_more = account_search(
            query=request.GET.get("q", ""),
            offset=(page - 1) * ACCOUNT_SEARCH_PAGE_SIZE,
            limit=ACCOUNT_SEARCH_PAGE_SIZE,
        )
        return JsonResponse(
            {
                "results": [{"id": c.id, "label": c.label} for c in choices],
                "page": page,
                "has_more": has_more,
            }
        )


class FilterCheckView(SignedInWithPermission, View):
    """JSON for the Account Filter as it is typed: the error and its column, or ok and how many
    accounts match. The Test filter action adds the first few matching accounts."""

    permission_required = VIEW_PERMISSION
    sample_size = 0

    def get(self, request):
        text = request.GET.get("account_filter", "")
        try:
            found = account_filter_matches(text=text, sample_size=self.sample_size)
        except AccountFilterError as error:
            return JsonResponse(
                {"ok": False, "error": str(error), "message": error.message, "column": error.column}
            )
        if not text.strip():
            summary = f"No filter: the integration runs for all {found.total} accounts."
        else:
            summary = f"Valid filter: matches {found.matched} of {found.total} accounts."
        return JsonResponse(
            {
                "ok": True,
                "matched": found.matched,
                "total": found.total,
                "summary": summary,
                "sample": [{"id": c.id, "label": c.label} for c in found.sample],
            }
        )


class FilterTestView(FilterCheckView):
    sample_size = FILTER_TEST_SAMPLE_SIZE
