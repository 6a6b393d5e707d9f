"""Field declarations several apps' models share."""

from django.conf import settings
from django.db import models


def user_field(*, editable: bool = True) -> models.ForeignKey:
    """The person who did something (created, changed, asked for it): optional, emptied when that
    user is deleted so the record stays, and with no reverse accessor on the user."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=editable,
    )
