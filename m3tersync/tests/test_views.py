"""The pulls page, "Pull now", and the connection admin with its "Test connection" button."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from m3terdata.models import Bill
from m3tersync.models import M3terConnection, M3terPull, PullStatus, PullTrigger
from standins.m3ter.pytest_plugin import m3ter_account, m3ter_bill

pytestmark = pytest.mark.django_db

PULLS = reverse("m3tersync:pulls")


def user_with(*codenames):
    user = User.objects.create_user("viewer", password="x")
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_the_pulls_page_needs_a_login(client):
    response = client.get(PULLS)
    assert response.status_code == 302 and "login" in response.url


def test_the_pulls_page_needs_the_view_permission(client):
    client.force_login(user_with())
    assert client.get(PULLS).status_code == 403


def test_the_pulls_page_shows_connections_and_pulls_with_their_errors(client, m3ter_connection):
    M3terPull.objects.create(
        connection=m3ter_connection,
        trigger=PullTrigger.SCHEDULE,
        status=PullStatus.FAILED,
        error="m3ter had a server error (503). The next pull resumes where this stopped.",
        problems=[{"collection": "bills", "id": "b1", "message": "bills (id 'b1'): bad currency"}],
        records_skipped=1,
    )
    client.force_login(user_with("view_m3terpull"))

    response = client.get(PULLS)

    page = response.content.decode()
    assert response.status_code == 200
    assert m3ter_connection.name in page and m3ter_connection.org_id in page
    assert "server error (503)" in page and "bad currency" in page
    assert "Pull now" not in page  # needs the change permission


def test_pull_now_pulls_and_shows_the_result(
    client, m3ter_standin, m3ter_connection, django_capture_on_commit_callbacks
):
    account = m3ter_standin.put_account(m3ter_account())
    m3ter_standin.put_bill(m3ter_bill(account))
    user = user_with("view_m3terpull", "change_m3terconnection")
    client.force_login(user)
    assert "Pull now" in client.get(PULLS).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("m3tersync:pull-now", args=[m3ter_connection.pk]))

    assert response.status_code == 302 and response.url == PULLS
    pull = M3terPull.objects.get()
    assert (pull.trigger, pull.requested_by, pull.status) == (
        PullTrigger.MANUAL,
        user,
        PullStatus.SUCCEEDED,
    )
    assert Bill.objects.count() == 1
    page = client.get(PULLS).content.decode()
    assert "Succeeded" in page and "queued" in page


def test_pull_now_returns_to_a_local_page_only(client, m3ter_connection):
    client.force_login(user_with("view_m3terpull", "change_m3terconnection"))
    url = reverse("m3tersync:pull-now", args=[m3ter_connection.pk])
    back = f"{PULLS}?connection={m3ter_connection.pk}"

    assert client.post(url, {"next": back}).url == back
    assert client.post(url, {"next": "https://evil.example.com/"}).url == PULLS


def test_pull_now_needs_the_change_permission(client, m3ter_connection):
    client.force_login(user_with("view_m3terpull"))
    response = client.post(reverse("m3tersync:pull-now", args=[m3ter_connection.pk]))
    assert response.status_code == 403
    assert not M3terPull.objects.exists()


# --- admin -------------------------------------------------------------------------------------


def test_a_connection_is_added_in_the_admin_and_its_secrets_are_never_shown(
    admin_client, m3ter_standin
):
    response = admin_client.post(
        reverse("admin:m3tersync_m3terconnection_add"),
        {
            "name": "Production",
            "enabled": "on",
            "org_id": m3ter_standin.org_id,
            "api_key_id": m3ter_standin.api_key,
            "api_secret": m3ter_standin.api_secret,
            "base_url": m3ter_standin.url,
            "webhook_api_key": "hook-key",
            "webhook_secret": "hook-secret-value",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    connection = M3terConnection.objects.get(name="Production")
    assert connection.api_secret() == m3ter_standin.api_secret
    assert connection.webhook_secret() == "hook-secret-value"
    change = admin_client.get(
        reverse("admin:m3tersync_m3terconnection_change", args=[connection.pk])
    ).content.decode()
    for secret in (m3ter_standin.api_secret, "hook-secret-value"):
        assert secret not in change
    assert connection.api_secret_encrypted not in change
    assert connection.api_secret_hint in change
    assert f"/m3ter/webhooks/{connection.pk}/" in change


def test_the_api_secret_is_required_when_adding_and_kept_when_left_blank(
    admin_client, m3ter_connection
):
    add = admin_client.post(
        reverse("admin:m3tersync_m3terconnection_add"),
        {"name": "x", "org_id": "o", "api_key_id": "k", "base_url": "https://api.m3ter.com"},
    )
    assert add.status_code == 200 and "The API secret is required." in add.content.decode()

    before = m3ter_connection.api_secret_encrypted
    edit = admin_client.post(
        reverse("admin:m3tersync_m3terconnection_change", args=[m3ter_connection.pk]),
        {
            "name": "Renamed",
            "enabled": "on",
            "org_id": m3ter_connection.org_id,
            "api_key_id": m3ter_connection.api_key_id,
            "base_url": m3ter_connection.base_url,
            "webhook_api_key": m3ter_connection.webhook_api_key,
        },
    )
    assert edit.status_code == 302
    m3ter_connection.refresh_from_db()
    assert m3ter_connection.name == "Renamed"
    assert m3ter_connection.api_secret_encrypted == before
    assert m3ter_connection.accepts_webhooks


def test_the_test_connection_button_shows_success_or_m3ters_error(
    admin_client, m3ter_standin, m3ter_connection
):
    test_url = reverse("admin:m3tersync_m3terconnection_test", args=[m3ter_connection.pk])
    change_url = reverse("admin:m3tersync_m3terconnection_change", args=[m3ter_connection.pk])
    assert test_url in admin_client.get(change_url).content.decode()

    ok = admin_client.post(test_url, follow=True).content.decode()
    m3ter_standin.api_secret = "rotated-in-m3ter"
    refused = admin_client.post(test_url, follow=True).content.decode()

    assert f"Connected to organization {m3ter_standin.org_id}" in ok
    assert "m3ter refused the API key id and secret (401)" in refused


def test_the_test_connection_action_checks_each_selected_connection(admin_client, m3ter_connection):
    response = admin_client.post(
        reverse("admin:m3tersync_m3terconnection_changelist"),
        {"action": "test_connections", "_selected_action": [m3ter_connection.pk]},
        follow=True,
    )
    assert "Connected to organization" in response.content.decode()
