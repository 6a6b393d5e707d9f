"""Signing in: wrong passwords in a row lock the user name out from that address (django-axes)."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")


@pytest.fixture
def staff(settings):
    # A fast hash: these tests check counting, not hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return User.objects.create_user("ops", password="right-password-123", is_staff=True)


def sign_in(client, password, **extra):
    return client.post(LOGIN, {"username": "ops", "password": password}, **extra)


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, staff):
    answers = [sign_in(client, f"wrong-{n}").status_code for n in range(50)]

    assert answers[:4] == [200] * 4  # the form again, with its error
    assert set(answers[5:]) == {429}
    locked = sign_in(client, "right-password-123")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_starts_the_count_again(client, staff):
    for n in range(4):
        sign_in(client, f"wrong-{n}")
    assert sign_in(client, "right-password-123").status_code == 302
    client.logout()

    answers = [sign_in(client, f"wrong-again-{n}").status_code for n in range(4)]

    assert answers == [200] * 4
    assert sign_in(client, "right-password-123").status_code == 302


def test_the_lockout_is_per_address(client, staff):
    for n in range(6):
        sign_in(client, f"wrong-{n}", REMOTE_ADDR="203.0.113.9")

    assert sign_in(client, "right-password-123", REMOTE_ADDR="198.51.100.7").status_code == 302
