"""m3ter's integration credentials ↔ IntegrationCredential (a Paddle API key)."""

from rest_framework import serializers

from api.serializers.common import UsernameField, choice_field
from credentials.models import Destination

CREDENTIAL_TYPE = "PADDLE_AUTH"


class CredentialTypeField(serializers.ChoiceField):
    """m3ter's credential type; every credential the hub holds is a Paddle API key."""

    def get_attribute(self, instance):
        return CREDENTIAL_TYPE


class CredentialSerializer(serializers.Serializer):
    """A Paddle API key (m3ter's IntegrationCredentials of type PADDLE_AUTH). The key is
    write-only: answers show only its last characters (apiKeyHint)."""

    id = serializers.UUIDField(read_only=True)
    type = CredentialTypeField(
        choices=[CREDENTIAL_TYPE],
        default=CREDENTIAL_TYPE,
        error_messages={"invalid_choice": f"The hub holds {CREDENTIAL_TYPE} credentials only."},
    )
    name = serializers.CharField(max_length=200)
    destination = choice_field(Destination)
    apiKey = serializers.CharField(
        write_only=True,
        trim_whitespace=True,
        help_text="The Paddle API key. Never returned.",
    )
    apiKeyHint = serializers.CharField(source="api_key_hint", read_only=True)
    lastTestOk = serializers.BooleanField(source="last_test_ok", read_only=True, allow_null=True)
    lastTestMessage = serializers.CharField(source="last_test_message", read_only=True)
    dtLastTested = serializers.DateTimeField(
        source="last_tested_at", read_only=True, allow_null=True
    )
    dtCreated = serializers.DateTimeField(source="created_at", read_only=True)
    dtLastModified = serializers.DateTimeField(source="updated_at", read_only=True)
    createdBy = UsernameField(source="created_by")
    lastModifiedBy = UsernameField(source="updated_by")


class CredentialUpdateSerializer(CredentialSerializer):
    apiKey = serializers.CharField(
        write_only=True, required=False, help_text="A new Paddle API key; leave out to keep it."
    )
    destination = choice_field(Destination, required=False, help_text="Cannot change.")


CREDENTIAL_FIELD_PATHS = {"api_key": "apiKey"}
