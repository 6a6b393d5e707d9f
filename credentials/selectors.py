"""Reads about credentials."""

from django.db.models import QuerySet

from credentials.models import IntegrationCredential


def credential_records() -> QuerySet[IntegrationCredential]:
    """Credentials with who made and last changed them (the REST API's lists)."""
    return IntegrationCredential.objects.select_related("created_by", "updated_by")


def credential_get(*, credential_id) -> IntegrationCredential | None:
    """The credential with this id, or None. A malformed id raises ValueError or
    ValidationError, so callers can tell it from an unknown one."""
    return credential_records().filter(pk=credential_id).first()
