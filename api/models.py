"""Machine clients of the REST API, authenticated the way m3ter's API is: a service user holds API
keys (a public key id and a secret shown once), trades one for a bearer token at POST /oauth/token
and sends that token with every request. Service users are Django users, so the same permissions
that govern people govern them."""

import hashlib
import hmac

from django.conf import settings
from django.db import models

from m3terpaddle.model_fields import user_field


def secret_digest(secret: str) -> str:
    """SHA-256 of a generated secret or token. These are 256-bit random strings, not passwords, so
    a slow password hash would add nothing but a delay on every token request."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ServiceUser(models.Model):
    """The API identity of an automated client. Its Django user has no usable password, so it can
    only act through API keys, and it holds permissions like any other user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_user"
    )
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = user_field(editable=False)

    class Meta:
        ordering = ["user__username"]

    def __str__(self):
        return self.user.username


class ApiKey(models.Model):
    """An access key of a service user: key_id is public (like a user name), the secret is stored
    only as a digest and shown once, when the key is made."""

    service_user = models.ForeignKey(ServiceUser, on_delete=models.CASCADE, related_name="api_keys")
    key_id = models.CharField("key id", max_length=64, unique=True, editable=False)
    secret_digest = models.CharField(max_length=64, editable=False)
    secret_hint = models.CharField(max_length=16, editable=False)
    active = models.BooleanField(
        default=True, help_text="Untick to revoke the key; its tokens stop working at once."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["service_user", "-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.key_id} ({self.service_user})"

    def secret_matches(self, secret: str) -> bool:
        return hmac.compare_digest(secret_digest(secret), self.secret_digest)


class AccessToken(models.Model):
    """A bearer token issued for an API key; only its digest is kept."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="access_tokens")
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Token for {self.api_key.key_id}, expires {self.expires_at:%Y-%m-%d %H:%M}"
