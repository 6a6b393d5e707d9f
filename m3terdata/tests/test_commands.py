"""The demo's admin login: made once, never reset by a restart; printed with the organization
id the API needs."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def sign_in(username, password):
    """As the admin's login form does: with the request (django-axes counts failures by it)."""
    request = RequestFactory().post("/admin/login/")
    return authenticate(request, username=username, password=password)


def test_the_demo_admin_is_made_with_the_printed_password(capsys):
    call_command("ensure_demo_admin")

    assert "Admin login: admin / m3terpaddle-demo" in capsys.readouterr().out
    user = sign_in("admin", "m3terpaddle-demo")
    assert user is not None and user.is_superuser


@pytest.mark.parametrize("restart", [False, True])
def test_the_demo_prints_the_organization_id_to_export_for_the_api(capsys, settings, restart):
    settings.M3TER_ORG_ID = "5b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
    if restart:
        call_command("ensure_demo_admin")
        capsys.readouterr()

    call_command("ensure_demo_admin")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Admin login: admin")
    assert "export M3TER_ORG_ID=5b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3" in lines


def test_a_restart_keeps_the_password_the_admin_chose(capsys):
    call_command("ensure_demo_admin")
    user = User.objects.get(username="admin")
    user.set_password("chosen-by-me")
    user.save()

    call_command("ensure_demo_admin")

    assert "password unchanged" in capsys.readouterr().out
    assert sign_in("admin", "chosen-by-me") is not None
    assert sign_in("admin", "m3terpaddle-demo") is None
