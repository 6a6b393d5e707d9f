"""Use cases for credentials: create, update, delete, test the connection, rotate secrets."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django_q.tasks import async_task

from credentials.crypto import SecretDecryptionError, encrypt_secret, rotate_secret, secret_hint
from credentials.models import Destination, IntegrationCredential
from paddle_destination.client import (
    paddle_api_url,
    paddle_client,
    paddle_connection_check,
    paddle_permissions_missing,
)
from paddle_destination.errors import NEEDED_PERMISSIONS, PaddleProblem, paddle_errors
from paddle_destination.notifications import notifications_remove

logger = logging.getLogger(__name__)

LIVE_MARKER = "pdl_live_"
SANDBOX_MARKER = "pdl_sdbx_"
_KEY_KIND = {
    Destination.PADDLE: ("a live key", LIVE_MARKER, Destination.PADDLE_SANDBOX),
    Destination.PADDLE_SANDBOX: ("a sandbox key", SANDBOX_MARKER, Destination.PADDLE),
}
# The shapes of Paddle's API keys (developer.paddle.com "API keys" and its 2025-05-06 changelog;
# the OpenAPI spec's api_key pattern): since 6 May 2025, pdl_ + live_/sdbx_ + apikey_ + a
# 26-character id + _ + 22 letters and digits + _ + 3 more; keys made before then ("legacy"
# keys) are 50 random letters and digits with no marker, and still work.
_KEY_SHAPE = re.compile(r"pdl_(live|sdbx)_apikey_[a-z\d]{26}_[a-zA-Z\d]{22}_[a-zA-Z\d]{3}")
_LEGACY_KEY_SHAPE = re.compile(r"[a-zA-Z\d]{50}")
_TEST_MESSAGE_MAX = IntegrationCredential._meta.get_field("last_test_message").max_length


def credential_key_check(*, destination: str, api_key: str) -> str:
    """The key, stripped, if it can work with `destination`; raises ValidationError (on the
    `api_key` field) saying which kind of key is needed, or what a Paddle key looks like.
    Legacy keys (no environment marker) are accepted for either environment."""
    key = (api_key or "").strip()
    if not key:
        raise ValidationError({"api_key": "Enter the API key from Paddle."})
    if any(c.isspace() for c in key):
        raise ValidationError({"api_key": "An API key has no spaces in it; paste it again."})
    if key.startswith(("test_", "live_")):
        raise ValidationError(
            {
                "api_key": "This is a client-side token (for Paddle.js), not an API key. Create "
                "an API key in Paddle under Developer tools > Authentication > API keys."
            }
        )
    needed, marker, other = _KEY_KIND[Destination(destination)]
    other_marker = _KEY_KIND[other][1]
    if other_marker in key and marker not in key:
        label = Destination(destination).label
        raise ValidationError(
            {
                "api_key": f"This is {_KEY_KIND[other][0]} ({other_marker}…), but {label} needs "
                f"{needed} ({marker}…). Use this key with a {other.label} credential, or create "
                f"{needed} in the matching Paddle dashboard."
            }
        )
    if not (_KEY_SHAPE.fullmatch(key) or _LEGACY_KEY_SHAPE.fullmatch(key)):
        raise ValidationError(
            {
                "api_key": f"This is not a Paddle API key. {needed.capitalize()} looks like "
                f"{marker}apikey_ followed by a 26-character id and two more parts, 69 "
                "characters in all (keys made before May 2025 are 50 letters and digits). Copy "
                "the whole key from Paddle > Developer tools > Authentication > API keys."
            }
        )
    return key


def credential_create(
    *, name: str, destination: str, api_key: str, user=None
) -> IntegrationCredential:
    key = credential_key_check(destination=destination, api_key=api_key)
    credential = IntegrationCredential(
        name=name.strip(),
        destination=destination,
        api_key_encrypted=encrypt_secret(key),
        api_key_hint=secret_hint(key),
        created_by=user,
        updated_by=user,
    )
    credential.full_clean()
    credential.save()
    transaction.on_commit(
        lambda: async_task("paddle_destination.tasks.notifications_set_up_task", str(credential.pk))
    )
    return credential


def credential_update(
    *, credential: IntegrationCredential, name: str, api_key: str | None = None, user=None
) -> IntegrationCredential:
    """Rename; with `api_key`, replace the key (its last test no longer says anything)."""
    credential.name = name.strip()
    credential.updated_by = user
    fields = ["name", "updated_by", "updated_at"]
    if api_key:
        key = credential_key_check(destination=credential.destination, api_key=api_key)
        credential.api_key_encrypted = encrypt_secret(key)
        credential.api_key_hint = secret_hint(key)
        credential.last_tested_at = None
        credential.last_test_ok = None
        credential.last_test_message = ""
        fields += ["api_key_encrypted", "api_key_hint", "last_tested_at", "last_test_ok",
                   "last_test_message"]  # fmt: skip
    credential.full_clean()
    credential.save(update_fields=fields)
    return credential


def credential_delete(*, credential: IntegrationCredential) -> None:
    """Delete a credential no integration uses; otherwise ValidationError naming them."""
    names = list(credential.integrations.order_by("name").values_list("name", flat=True))
    if names:
        raise ValidationError(
            f"The credential {credential.name!r} is used by "
            f"{', '.join(repr(n) for n in names)}. Detach it from "
            f"{'that integration' if len(names) == 1 else 'those integrations'} first."
        )
    try:
        notifications_remove(credential=credential)
    except PaddleProblem as problem:
        # The key may be revoked already: the credential goes all the same, and the person is
        # told (in the log) which setting to delete in Paddle's dashboard.
        logger.warning(
            "Deleted credential %s, but its Paddle notification setting could not be removed "
            "(%s); delete it under Developer tools > Notifications in Paddle.",
            credential.pk,
            problem.message,
        )
    credential.delete()


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    message: str


def credential_test_connection(*, credential: IntegrationCredential) -> ConnectionTestResult:
    """One cheap authenticated call to the credential's Paddle environment; the outcome, in
    words a person can act on, is stored on the credential."""
    label = credential.get_destination_display()
    try:
        client = paddle_client(credential=credential)
        with paddle_errors(f"testing the connection to {label}"):
            paddle_connection_check(client)
        missing = paddle_permissions_missing(client)
        connected = (
            f"Connected to {label} ({paddle_api_url(credential.destination)}): Paddle accepted "
            "the key"
        )
        result = (
            ConnectionTestResult(
                False,
                f"{connected}, but the key lacks the permission{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}, which the integration needs. In Paddle › Developer tools › "
                "Authentication, give the key (or a new one) the permissions "
                f"{', '.join(NEEDED_PERMISSIONS)}, and replace it on the credential.",
            )
            if missing
            else ConnectionTestResult(
                True,
                f"{connected}, and it has every permission the integration needs "
                f"({', '.join(NEEDED_PERMISSIONS)}).",
            )
        )
    except PaddleProblem as problem:
        result = ConnectionTestResult(False, problem.text)
    credential.last_tested_at = timezone.now()
    credential.last_test_ok = result.ok
    credential.last_test_message = result.message[:_TEST_MESSAGE_MAX]
    credential.save(update_fields=["last_tested_at", "last_test_ok", "last_test_message"])
    return result


def credential_paddle_answered(*, credential_id, ok: bool, message: str) -> None:
    """A delivery's answer from Paddle is the credential's latest health: a refused key shows as
    failed, as a failed test would, until Paddle accepts it again."""
    credentials = IntegrationCredential.objects.filter(pk=credential_id)
    if ok:
        # Only a change is written: deliveries with a healthy key cost no extra write.
        credentials = credentials.exclude(last_test_ok=True)
    credentials.update(
        last_tested_at=timezone.now(),
        last_test_ok=ok,
        last_test_message=message[:_TEST_MESSAGE_MAX],
    )


# --- secret rotation ----------------------------------------------------------------------------

# Every encrypted column, as (model, field name). Another app with an encrypted field adds its
# own in its AppConfig.ready(): encrypted_field_register(model=M3terConnection, field="...").
_ENCRYPTED_FIELDS: list[tuple[type[models.Model], str]] = [
    (IntegrationCredential, "api_key_encrypted")
]


def encrypted_field_register(*, model: type[models.Model], field: str) -> None:
    model._meta.get_field(field)  # fails now, not during a rotation, if the name is wrong
    if (model, field) not in _ENCRYPTED_FIELDS:
        _ENCRYPTED_FIELDS.append((model, field))


def credentials_rotate() -> dict[str, int]:
    """Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS.

    All or nothing: if any secret cannot be decrypted with the configured keys, nothing is
    changed and SecretDecryptionError names every such row. Returns the count per field.
    """
    counts: dict[str, int] = {}
    with transaction.atomic():
        pending, unreadable = [], []
        for model, field in _ENCRYPTED_FIELDS:
            label = f"{model._meta.label}.{field}"
            rows = list(model.objects.select_for_update().exclude(**{field: ""}).only("pk", field))
            for row in rows:
                try:
                    setattr(row, field, rotate_secret(getattr(row, field)))
                except SecretDecryptionError:
                    unreadable.append(f"{label} of {row.pk}")
            pending.append((model, field, rows))
            counts[label] = len(rows)
        if unreadable:
            raise SecretDecryptionError(
                "Nothing was rotated: these secrets cannot be decrypted with any key in "
                f"FIELD_ENCRYPTION_KEYS: {', '.join(unreadable)}. Add the key they were "
                "encrypted with to FIELD_ENCRYPTION_KEYS (after the new first key) and run the "
                "rotation again, or replace those secrets."
            )
        for model, field, rows in pending:
            model.objects.bulk_update(rows, [field], batch_size=500)
    return counts
