import pytest
from django.contrib.auth.models import User

from paddle_destination.tests.fixtures import *  # noqa: F403


@pytest.fixture
def admin_client(client, db):
    """pytest-django's admin_client without hashing a password (half a second per test)."""
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", password=None))
    return client
