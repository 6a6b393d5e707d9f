"""Credential use cases: the environment check, updates, guarded deletion, the connection test
against the Paddle stand-in, and secret rotation."""

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from credentials.crypto import SecretDecryptionError
from credentials.models import Destination, IntegrationCredential
from credentials.services import (
    credential_create,
    credential_delete,
    credential_key_check,
    credential_test_connection,
    credential_update,
    credentials_rotate,
    encrypted_field_register,
)
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from paddle_destination.errors import NEEDED_PERMISSIONS
from standins.paddle import make_api_key

pytestmark = pytest.mark.django_db

LIVE = "pdl_live_apikey_01hv8xxw3etar07vaxsqbyqasy_abcdefghijklmnopqrstuv_liv"
SANDBOX = "pdl_sdbx_apikey_01hv8xxw3etar07vaxsqbyqasy_abcdefghijklmnopqrstuv_sbx"
# A legacy key (made before May 2025): 50 letters and digits, no environment marker.
OLD_STYLE = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6Zz"


@pytest.mark.parametrize(
    ("destination", "key"),
    [
        (Destination.PADDLE, LIVE),
        (Destination.PADDLE_SANDBOX, SANDBOX),
        (Destination.PADDLE, OLD_STYLE),
        (Destination.PADDLE_SANDBOX, OLD_STYLE),
    ],
)
def test_keys_for_their_environment_and_old_keys_are_accepted(destination, key):
    credential = credential_create(name=" Main ", destination=destination, api_key=f" {key} ")
    credential.refresh_from_db()
    assert credential.name == "Main"
    assert credential.api_key() == key
    assert credential.api_key_hint == f"…{key[-4:]}"
    assert key not in credential.api_key_encrypted


def test_a_sandbox_key_is_refused_for_paddle_saying_which_key_is_needed():
    with pytest.raises(ValidationError) as caught:
        credential_create(name="Live", destination=Destination.PADDLE, api_key=SANDBOX)
    (message,) = caught.value.message_dict["api_key"]
    assert "sandbox key (pdl_sdbx_…)" in message
    assert "Paddle needs a live key (pdl_live_…)" in message
    assert not IntegrationCredential.objects.exists()


def test_a_live_key_is_refused_for_the_sandbox_saying_which_key_is_needed():
    with pytest.raises(ValidationError) as caught:
        credential_create(name="Sbx", destination=Destination.PADDLE_SANDBOX, api_key=LIVE)
    (message,) = caught.value.message_dict["api_key"]
    assert "Paddle (Sandbox Mode) needs a sandbox key (pdl_sdbx_…)" in message


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "Enter the API key"),
        ("pdl_sdbx_ab cd", "no spaces"),
        ("test_abc123", "client-side"),
        ("abc123", "This is not a Paddle API key. A sandbox key looks like pdl_sdbx_apikey_"),
        # Cut short when copied, or a key's id pasted instead of the key itself.
        (SANDBOX[:-4], "69 characters in all"),
        ("apikey_01hv8xxw3etar07vaxsqbyqasy", "Copy the whole key"),
        (OLD_STYLE[:-1], "keys made before May 2025 are 50 letters and digits"),
    ],
)
def test_keys_that_cannot_be_api_keys_are_refused(key, words):
    with pytest.raises(ValidationError) as caught:
        credential_key_check(destination=Destination.PADDLE_SANDBOX, api_key=key)
    assert words in caught.value.message_dict["api_key"][0]


def test_two_credentials_cannot_share_a_name():
    first = credential_create(name="Main", destination=Destination.PADDLE_SANDBOX, api_key=SANDBOX)
    other = credential_create(name="Other", destination=Destination.PADDLE, api_key=LIVE)

    with pytest.raises(ValidationError) as made:
        credential_create(name=" Main ", destination=Destination.PADDLE, api_key=LIVE)
    with pytest.raises(ValidationError) as renamed:
        credential_update(credential=other, name="Main")

    for caught in (made, renamed):
        (message,) = caught.value.message_dict["name"]
        assert message.startswith("A credential with this name already exists.")
    assert list(IntegrationCredential.objects.values_list("name", flat=True)) == ["Main", "Other"]
    credential_update(credential=first, name="Main")  # keeping its own name is fine


def test_update_renames_and_replaces_the_key_forgetting_the_last_test():
    user = User.objects.create_user("editor")
    credential = IntegrationCredentialFactory(
        api_key=SANDBOX, last_test_ok=True, last_test_message="fine"
    )

    credential_update(credential=credential, name="Renamed", user=user)
    credential.refresh_from_db()
    assert (credential.name, credential.api_key(), credential.last_test_ok) == (
        "Renamed",
        SANDBOX,
        True,
    )

    new_key = SANDBOX.replace("sbx", "new")
    credential_update(credential=credential, name="Renamed", api_key=new_key, user=user)
    credential.refresh_from_db()
    assert credential.api_key() == new_key
    assert credential.api_key_hint == "…_new"
    assert credential.last_test_ok is None and credential.last_test_message == ""
    assert credential.updated_by == user


def test_update_checks_the_new_key_against_the_destination():
    credential = IntegrationCredentialFactory(api_key=SANDBOX)
    with pytest.raises(ValidationError):
        credential_update(credential=credential, name="x", api_key=LIVE)
    credential.refresh_from_db()
    assert credential.api_key() == SANDBOX


def test_a_credential_in_use_cannot_be_deleted_and_the_error_names_the_integrations():
    credential = IntegrationCredentialFactory()
    IntegrationConfigurationFactory(name="Billing EU", credential=credential)
    IntegrationConfigurationFactory(name="Billing US", credential=credential)

    with pytest.raises(ValidationError) as caught:
        credential_delete(credential=credential)
    assert "'Billing EU', 'Billing US'" in caught.value.messages[0]
    assert "Detach it from those integrations first" in caught.value.messages[0]
    assert IntegrationCredential.objects.filter(pk=credential.pk).exists()


def test_an_unused_credential_is_deleted():
    credential = IntegrationCredentialFactory()
    credential_delete(credential=credential)
    assert not IntegrationCredential.objects.exists()


def test_connection_test_succeeds_and_is_recorded(paddle):
    credential = IntegrationCredentialFactory(api_key=make_api_key("sandbox"))

    result = credential_test_connection(credential=credential)

    assert result.ok is True
    assert "Paddle accepted the key, and it has every permission the integration needs" in (
        result.message
    )
    assert paddle.request_count("GET", "/transactions") == 1
    assert "per_page=1" in paddle.requests[0]["query"]
    # The permission probes change nothing in Paddle.
    state = paddle.dump()
    assert state["customers"] == state["addresses"] == state["businesses"] == []
    assert state["transactions"] == []
    credential.refresh_from_db()
    assert credential.last_test_ok is True and credential.last_tested_at is not None


def test_connection_test_names_the_permissions_the_key_lacks(paddle):
    key = make_api_key("sandbox")
    paddle.configure(key_permissions={key: ["transaction.read", "customer.read", "customer.write"]})
    credential = IntegrationCredentialFactory(api_key=key)

    result = credential_test_connection(credential=credential)

    assert result.ok is False
    assert "Paddle accepted the key, but the key lacks the permissions address.read, " in (
        result.message
    )
    assert (
        "address.write, business.read, business.write, transaction.write, which the integration "
        "needs"
    ) in result.message
    assert "Developer tools › Authentication" in result.message
    assert paddle.dump()["customers"] == []


@pytest.mark.parametrize("lacking", NEEDED_PERMISSIONS)
def test_connection_test_fails_for_a_key_without_any_one_needed_permission(paddle, lacking):
    # business.write among them: deliveries make the account's business from its company name
    # or tax number, and a key without it would pass here and fail every B2B bill.
    key = make_api_key("sandbox")
    paddle.configure(key_permissions={key: [p for p in NEEDED_PERMISSIONS if p != lacking]})

    result = credential_test_connection(credential=IntegrationCredentialFactory(api_key=key))

    assert result.ok is False
    assert f"the key lacks the permission {lacking}" in result.message
    assert (
        "customer.read, customer.write, address.read, address.write, business.read, "
        "business.write, transaction.read, transaction.write"
    ) in result.message


def test_connection_test_without_transaction_read_names_it(paddle):
    key = make_api_key("sandbox")
    paddle.configure(key_permissions={key: ["customer.read"]})

    result = credential_test_connection(credential=IntegrationCredentialFactory(api_key=key))

    assert result.ok is False
    assert "the key lacks the permission transaction.read" in result.message


def test_connection_test_reports_paddles_own_error_in_actionable_words(paddle):
    key = make_api_key("sandbox")
    paddle.configure(revoked_keys=[key])
    credential = IntegrationCredentialFactory(api_key=key)

    result = credential_test_connection(credential=credential)

    assert result.ok is False
    assert "403 invalid_token: Invalid or revoked API key." in result.message
    assert "Create a new key in Paddle" in result.message
    assert key not in result.message
    credential.refresh_from_db()
    assert credential.last_test_ok is False
    assert credential.last_test_message == result.message


def test_connection_test_with_a_key_for_the_other_environment(paddle):
    # A live key saved as an old-style key would pass our check; Paddle itself refuses it.
    paddle.configure(mode="production")
    credential = IntegrationCredentialFactory(api_key=make_api_key("sandbox"))

    result = credential_test_connection(credential=credential)

    assert result.ok is False
    assert "403 forbidden" in result.message and "other environment" in result.message


def test_connection_test_when_paddle_cannot_be_reached(settings):
    settings.PADDLE_SANDBOX_API_URL = "http://127.0.0.1:9"  # nothing listens there
    credential = IntegrationCredentialFactory()

    result = credential_test_connection(credential=credential)

    assert result.ok is False
    assert "connection to Paddle failed" in result.message


def test_connection_test_with_an_undecryptable_key(settings):
    credential = IntegrationCredentialFactory()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    result = credential_test_connection(credential=credential)

    assert result.ok is False
    assert "cannot be decrypted" in result.message


def test_rotation_re_encrypts_every_secret_to_the_first_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    credentials = [IntegrationCredentialFactory(api_key=k) for k in (SANDBOX, OLD_STYLE)]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    counts = credentials_rotate()

    assert counts["credentials.IntegrationCredential.api_key_encrypted"] == 2
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert [IntegrationCredential.objects.get(pk=c.pk).api_key() for c in credentials] == [
        SANDBOX,
        OLD_STYLE,
    ]


def test_rotation_changes_nothing_when_a_secret_cannot_be_read(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    readable = IntegrationCredentialFactory(api_key=SANDBOX)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # a key since lost
    unreadable = IntegrationCredentialFactory(api_key=LIVE, destination=Destination.PADDLE)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]

    with pytest.raises(SecretDecryptionError) as caught:
        credentials_rotate()

    assert str(unreadable.pk) in str(caught.value)
    assert str(readable.pk) not in str(caught.value)
    assert "Nothing was rotated" in str(caught.value)
    assert IntegrationCredential.objects.get(pk=readable.pk).api_key_encrypted == (
        readable.api_key_encrypted
    )


def test_another_encrypted_field_can_register_for_rotation():
    with pytest.raises(Exception, match="no field named"):
        encrypted_field_register(model=IntegrationCredential, field="nope")
    encrypted_field_register(model=IntegrationCredential, field="api_key_encrypted")  # idempotent
    rotated = list(credentials_rotate())
    assert rotated.count("credentials.IntegrationCredential.api_key_encrypted") == 1
