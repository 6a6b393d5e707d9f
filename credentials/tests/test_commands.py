"""manage.py rotate_secrets."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from credentials.models import IntegrationCredential
from credentials.tests.factories import IntegrationCredentialFactory

pytestmark = pytest.mark.django_db


def test_rotate_secrets_moves_every_credential_to_the_first_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    credential = IntegrationCredentialFactory(api_key="pdl_sdbx_apikey_rotate_me")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()

    call_command("rotate_secrets", stdout=out)

    assert "credentials.IntegrationCredential.api_key_encrypted: 1 re-encrypted" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert IntegrationCredential.objects.get(pk=credential.pk).api_key() == (
        "pdl_sdbx_apikey_rotate_me"
    )


def test_rotate_secrets_fails_clearly_when_a_key_is_missing(settings):
    IntegrationCredentialFactory()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="Nothing was rotated"):
        call_command("rotate_secrets", stdout=StringIO())
