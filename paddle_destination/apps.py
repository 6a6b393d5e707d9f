from django.apps import AppConfig


class PaddleDestinationConfig(AppConfig):
    name = "paddle_destination"
    verbose_name = "Paddle"

    def ready(self):
        # `rotate_secrets` re-encrypts the webhook secrets with the API keys.
        from credentials.services import encrypted_field_register
        from paddle_destination.models import PaddleStatusSync

        encrypted_field_register(model=PaddleStatusSync, field="endpoint_secret_key_encrypted")
