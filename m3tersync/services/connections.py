"""m3ter connections: their secrets, an m3ter SDK client for one, and the connection test."""

import base64
import datetime
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import m3ter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from credentials.crypto import SecretDecryptionError, encrypt_secret, secret_hint
from m3terpaddle.text import sentence, sentences
from m3tersync.models import (
    DEFAULT_BASE_URL,
    M3terConnection,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


# --- connections ----------------------------------------------------------------------------------


def webhook_credentials_check(*, webhook_api_key: str, has_secret: bool) -> None:
    if bool(webhook_api_key) != has_secret:
        raise ValidationError(
            "Give both the webhook API key and the webhook API secret (as entered on m3ter's "
            "Outgoing webhook), or neither."
        )


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def base_url_check(base_url: str) -> None:
    """m3ter is reached over https only: the service user's secret travels with every request.
    Plain http is for development (DEBUG) and for a stand-in on this machine in tests."""
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and (
        settings.DEBUG
        or (settings.M3TER_HTTP_LOOPBACK_ALLOWED and parts.hostname in LOOPBACK_HOSTS)
    ):
        return
    raise ValidationError(
        {"base_url": f"The base URL must start with https:// (m3ter's is {DEFAULT_BASE_URL})."}
    )


def connection_target_check(*, connection: M3terConnection, base_url: str, api_secret: str) -> None:
    """A stored secret goes only where it was entered for: moving an existing connection to
    another base URL needs its API secret typed again."""
    base_url_check(base_url)
    moved = base_url.rstrip("/") != connection.base_url.rstrip("/")
    if not connection._state.adding and moved and not api_secret:
        raise ValidationError(
            {
                "api_secret": "Enter the API secret again to change the base URL: the stored "
                "secret is only ever sent to the address it was entered for."
            }
        )


def connection_create(
    *,
    name: str,
    org_id: str,
    api_key_id: str,
    api_secret: str,
    base_url: str = DEFAULT_BASE_URL,
    enabled: bool = True,
    webhook_api_key: str = "",
    webhook_secret: str = "",
) -> M3terConnection:
    if not api_secret:
        raise ValidationError("The API secret is required.")
    fields = {
        "name": name,
        "org_id": org_id,
        "api_key_id": api_key_id,
        "base_url": base_url,
        "enabled": enabled,
        "webhook_api_key": webhook_api_key,
    }
    return _connection_save(
        M3terConnection(), fields, api_secret=api_secret, webhook_secret=webhook_secret
    )


def connection_update(
    *, connection: M3terConnection, api_secret: str = "", webhook_secret: str = "", **fields
) -> M3terConnection:
    """Change a connection; a blank secret keeps the stored one."""
    if fields.get("webhook_api_key") == "":
        connection.webhook_secret_encrypted = connection.webhook_secret_hint = ""
    return _connection_save(
        connection, fields, api_secret=api_secret, webhook_secret=webhook_secret
    )


def _connection_save(
    connection: M3terConnection, fields: dict, *, api_secret: str, webhook_secret: str
) -> M3terConnection:
    connection_target_check(
        connection=connection,
        base_url=fields.get("base_url", connection.base_url),
        api_secret=api_secret,
    )
    for name, value in fields.items():
        # Pasted ids lose surrounding spaces; the base URL loses a trailing slash.
        if name in ("org_id", "api_key_id", "webhook_api_key"):
            value = value.strip()
        if name == "base_url":
            value = value.rstrip("/")
        setattr(connection, name, value)
    _set_secrets(connection, api_secret=api_secret, webhook_secret=webhook_secret)
    webhook_credentials_check(
        webhook_api_key=connection.webhook_api_key,
        has_secret=bool(connection.webhook_secret_encrypted),
    )
    connection.save()
    return connection


def _set_secrets(connection, *, api_secret: str, webhook_secret: str):
    if api_secret:
        connection.api_secret_encrypted = encrypt_secret(api_secret)
        connection.api_secret_hint = secret_hint(api_secret)
    if webhook_secret:
        connection.webhook_secret_encrypted = encrypt_secret(webhook_secret)
        connection.webhook_secret_hint = secret_hint(webhook_secret)


def m3ter_client(*, connection: M3terConnection, max_retries: int | None = None) -> m3ter.M3ter:
    """The official SDK client for the connection, already signed in."""
    client = m3ter.M3ter(
        api_key=connection.api_key_id,
        api_secret=connection.decrypted_api_secret(),
        org_id=connection.org_id,
        base_url=connection.base_url,
        max_retries=settings.M3TER_MAX_RETRIES if max_retries is None else max_retries,
        timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
    )
    # m3ter 0.9 records a token's expiry as datetime.fromtimestamp(expires_in - 300), a moment in
    # 1970, so left alone it fetches a new token before every request and doubles the calls that
    # count against m3ter's rate limit. Sign in once here and record the real expiry.
    basic = base64.b64encode(f"{client.api_key}:{client.api_secret}".encode()).decode()
    token = client.authentication.get_bearer_token(
        grant_type="client_credentials", extra_headers={"Authorization": f"Basic {basic}"}
    )
    client.token = token.access_token
    # Naive local time, as the SDK compares it with datetime.now().
    client.token_expiry = datetime.datetime.now() + datetime.timedelta(
        seconds=max(token.expires_in - 300, 0)
    )
    return client


def m3ter_error_message(error: Exception, *, connection: M3terConnection) -> str:
    """What went wrong talking to m3ter, in words a person can act on."""
    if isinstance(error, SecretDecryptionError):
        return str(error)
    if isinstance(error, m3ter.APITimeoutError):
        return f"m3ter at {connection.base_url} did not answer within {READ_TIMEOUT:g} seconds."
    if isinstance(error, m3ter.APIConnectionError):
        return sentence(
            f"Could not reach m3ter at {connection.base_url}: {error.__cause__ or error}"
        )
    if not isinstance(error, m3ter.APIStatusError):
        return sentence(f"Unexpected error: {error}")
    said = error.body.get("message") if isinstance(error.body, dict) else None
    said = f"m3ter said: {said}" if said else ""
    status = error.status_code
    if status == 401:
        return sentences(
            "m3ter refused the API key id and secret (401)",
            said,
            "Check the service user's access key id and secret",
        )
    if status == 403:
        return sentences(
            "m3ter refused access (403)",
            said,
            f"Check that the service user belongs to organization {connection.org_id} and may "
            "read accounts, bills and external mappings",
        )
    if status == 404:
        return sentences("Not found (404)", said, "Check the organization id and the base URL")
    if status == 429:
        return sentences(
            "m3ter's rate limit was exceeded (429) and did not clear while retrying", said
        )
    if status >= 500:
        return sentences(f"m3ter had a server error ({status})", said)
    return sentences(f"m3ter answered {status}", said)


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    message: str


def connection_test(*, connection: M3terConnection) -> ConnectionTest:
    """Sign in and make one cheap authenticated call (the first account); records the result."""
    try:
        client = m3ter_client(connection=connection, max_retries=0)
        client.accounts.list(page_size=1)
    except (m3ter.APIError, SecretDecryptionError) as error:
        result = ConnectionTest(False, m3ter_error_message(error, connection=connection))
    else:
        result = ConnectionTest(
            True, f"Connected to organization {connection.org_id} as {connection.api_key_id}."
        )
    M3terConnection.objects.filter(pk=connection.pk).update(
        last_tested_at=timezone.now(),
        last_test_ok=result.ok,
        last_test_message=result.message[:500],
    )
    return result
