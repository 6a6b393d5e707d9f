"""Admin forms for credentials. The key is a password input, never rendered back; the rules
(environment markers, encryption) are the services'."""

from django import forms
from django.core.exceptions import ValidationError

from credentials.models import Destination, IntegrationCredential
from credentials.services import credential_key_check

API_KEY_HELP = (
    "Create it in Paddle under Developer tools > Authentication > API keys (in the sandbox "
    "dashboard for Paddle (Sandbox Mode)). Live keys start pdl_live_apikey_, sandbox keys "
    "pdl_sdbx_apikey_. It is encrypted when saved and never shown again: only its last four "
    "characters are."
)


def _key_field(*, required: bool, label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        strip=True,
        help_text=API_KEY_HELP,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}
        ),
    )


class CredentialCreateForm(forms.ModelForm):
    api_key = _key_field(required=True, label="API key")

    class Meta:
        model = IntegrationCredential
        fields = ["name", "destination"]
        help_texts = {
            "name": "A name to recognise it by when attaching it to an integration.",
            "destination": "Paddle for live invoices; Paddle (Sandbox Mode) for testing.",
        }

    def clean(self):
        cleaned = super().clean()
        destination, key = cleaned.get("destination"), cleaned.get("api_key")
        if destination in Destination.values and key:
            try:
                credential_key_check(destination=destination, api_key=key)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class CredentialChangeForm(forms.ModelForm):
    new_api_key = _key_field(required=False, label="Replace API key")

    class Meta:
        model = IntegrationCredential
        fields = ["name"]

    def clean_new_api_key(self):
        key = self.cleaned_data.get("new_api_key")
        if key:
            try:
                credential_key_check(destination=self.instance.destination, api_key=key)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["api_key"]) from exc
        return key
