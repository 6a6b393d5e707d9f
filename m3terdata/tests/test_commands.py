"""The demo's admin login: made once, never reset by a restart."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_demo_admin_is_made_with_the_printed_password(capsys):
    call_command("ensure_demo_admin")

    assert "Admin login: admin / m3terpaddle-demo" in capsys.readouterr().out
    user = authenticate(username="admin", password="m3terpaddle-demo")
    assert user is not None and user.is_superuser


def test_a_restart_keeps_the_password_the_admin_chose(capsys):
    call_command("ensure_demo_admin")
    user = User.objects.get(username="admin")
    user.set_password("chosen-by-me")
    user.save()

    call_command("ensure_demo_admin")

    assert "password unchanged" in capsys.readouterr().out
    assert authenticate(username="admin", password="chosen-by-me") is not None
    assert authenticate(username="admin", password="m3terpaddle-demo") is None
