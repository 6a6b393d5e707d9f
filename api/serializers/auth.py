"""The OAuth 2.0 client-credentials token request and answer."""

from rest_framework import serializers


class TokenRequestSerializer(serializers.Serializer):
    grant_type = serializers.ChoiceField(
        choices=["client_credentials"],
        error_messages={
            "invalid_choice": 'Only grant_type "client_credentials" is supported.',
            "required": 'Send grant_type "client_credentials".',
        },
    )
    scope = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    client_id = serializers.CharField(
        required=False, help_text="The API key id, when not sent with HTTP Basic auth."
    )
    client_secret = serializers.CharField(
        required=False, help_text="The API secret, when not sent with HTTP Basic auth."
    )


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the token expires.")
