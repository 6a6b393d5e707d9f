"""A new credential made from an integration's page: the integration's destination is fixed,
and on saving the integration is connected with it (one step instead of four through the
credentials admin)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.generic import FormView
from django.views.generic.detail import SingleObjectMixin

from credentials.forms import CredentialCreateForm
from integrations.forms import add_validation_errors
from integrations.models import IntegrationConfiguration
from integrations.services import integration_credential_add
from integrations.views import CHANGE_PERMISSION, SignedInWithPermission


class IntegrationCredentialAddView(SignedInWithPermission, SingleObjectMixin, FormView):
    permission_required = (CHANGE_PERMISSION, "credentials.add_integrationcredential")
    model = IntegrationConfiguration
    context_object_name = "integration"
    template_name = "integrations/credential_add.html"

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)

    def get_initial(self):
        return {"destination": self.object.destination}

    def get_form(self, form_class=None):
        form = CredentialCreateForm(**self.get_form_kwargs())
        # A credential for another destination could not connect this integration.
        form.fields["destination"].disabled = True
        return form

    def form_valid(self, form):
        try:
            credential = integration_credential_add(
                integration=self.object,
                name=form.cleaned_data["name"],
                api_key=form.cleaned_data["api_key"],
                user=self.request.user,
            )
        except ValidationError as error:
            add_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Connected to {self.object.get_destination_display()} with the new credential "
            f"“{credential.name}”.",
        )
        return redirect("integrations:detail", pk=self.object.pk)
