import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from api.models import ServiceUser
from api.tests.conftest import basic

pytestmark = pytest.mark.django_db


def test_create_service_user_prints_a_working_key_and_secret():
    out = io.StringIO()
    call_command(
        "create_service_user",
        "ci-bot",
        "--permissions",
        "integrations.view_integrationconfiguration",
        "runs.*",
        stdout=out,
        stderr=io.StringIO(),
    )

    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    assert set(lines) == {"M3TER_API_KEY", "M3TER_API_SECRET"}
    user = ServiceUser.objects.get().user
    assert user.has_perm("integrations.view_integrationconfiguration")
    assert user.has_perm("runs.change_integrationrun")
    assert not user.has_perm("integrations.change_integrationconfiguration")
    response = APIClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(lines["M3TER_API_KEY"], lines["M3TER_API_SECRET"]),
    )
    assert response.status_code == 200


def test_unknown_permissions_stop_the_command_and_create_nothing():
    with pytest.raises(CommandError, match="integrations.fly, nowhere.\\*"):
        call_command(
            "create_service_user",
            "x",
            "--permissions",
            "integrations.fly",
            "nowhere.*",
            "bad",
            stdout=io.StringIO(),
        )
    assert not ServiceUser.objects.exists()


def test_a_taken_name_stops_the_command(admin_user):
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_service_user", admin_user.username, stdout=io.StringIO())
