"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (the first key encrypts, every key
decrypts), so keys can be rotated without losing what is stored."""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretDecryptionError(Exception):
    """A stored secret cannot be read with the configured keys."""


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes "
            "each); make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def _fernet() -> MultiFernet:
    keys = tuple(k for k in settings.FIELD_ENCRYPTION_KEYS if k.strip())
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: give at least one Fernet key.")
    return _fernet_for(keys)


def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "A stored secret cannot be decrypted with the keys in FIELD_ENCRYPTION_KEYS. Put the "
            "key it was encrypted with back into the list (after the new first key), then run "
            "`python manage.py rotate_secrets`."
        ) from exc


def rotate_secret(token: str) -> str:
    """Re-encrypt with the first key; raises SecretDecryptionError like decrypt_secret."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS, so it "
            "cannot be rotated."
        ) from exc


def secret_hint(plaintext: str) -> str:
    """The last four characters, the only part of a secret ever shown again."""
    return f"…{plaintext[-4:]}" if len(plaintext) > 4 else "…"
