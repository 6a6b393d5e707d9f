"""Secrets at rest: round trip, rotation to a new first key, and a clear error for a wrong key."""

import pytest
from cryptography.fernet import Fernet

from credentials.crypto import (
    SecretDecryptionError,
    decrypt_secret,
    encrypt_secret,
    rotate_secret,
    secret_hint,
)

SECRET = "pdl_sdbx_apikey_01hv8xxw3etar07vaxsqbyqasy_abcdefghijklmnopqrstuv_xyz"


@pytest.fixture
def old_key(settings):
    key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [key]
    return key


def test_round_trip_never_stores_the_plaintext(old_key):
    token = encrypt_secret(SECRET)
    assert SECRET not in token
    assert decrypt_secret(token) == SECRET


def test_rotation_re_encrypts_with_the_new_first_key(settings, old_key):
    token = encrypt_secret(SECRET)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    rotated = rotate_secret(token)

    assert rotated != token
    assert Fernet(new_key.encode()).decrypt(rotated.encode()).decode() == SECRET
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key can go now
    assert decrypt_secret(rotated) == SECRET


def test_a_wrong_key_gives_a_clear_error_never_ciphertext(settings, old_key):
    token = encrypt_secret(SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(SecretDecryptionError) as caught:
        decrypt_secret(token)
    assert "FIELD_ENCRYPTION_KEYS" in str(caught.value)
    assert token not in str(caught.value)

    with pytest.raises(SecretDecryptionError):
        rotate_secret(token)


def test_the_hint_shows_only_the_last_four_characters():
    assert secret_hint(SECRET) == "…_xyz"
    assert secret_hint("abc") == "…"
