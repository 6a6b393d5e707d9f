import uuid

from django.db import models

from credentials.crypto import decrypt_secret
from m3terpaddle.model_fields import user_field


class Destination(models.TextChoices):
    PADDLE = "PADDLE", "Paddle"
    PADDLE_SANDBOX = "PADDLE_SANDBOX", "Paddle (Sandbox Mode)"


class IntegrationCredential(models.Model):
    """A Paddle API key. Written once (encrypted at rest), never shown again but for its hint."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Unique: integrations pick a credential by its name, and two alike would be a coin toss.
    name = models.CharField(
        max_length=200,
        unique=True,
        error_messages={
            "unique": "A credential with this name already exists. Choose another name, or "
            "use the existing credential."
        },
    )
    destination = models.CharField(max_length=32, choices=Destination.choices)
    api_key_encrypted = models.TextField(editable=False)
    api_key_hint = models.CharField("API key", max_length=16, editable=False)
    last_tested_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    last_test_message = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = user_field(editable=False)
    updated_by = user_field(editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(destination__in=Destination.values),
                name="credential_destination_valid",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.get_destination_display()}, {self.api_key_hint})"

    def api_key(self) -> str:
        """The clear key, for the Paddle client only. Raises SecretDecryptionError, never
        returns ciphertext."""
        return decrypt_secret(self.api_key_encrypted)
