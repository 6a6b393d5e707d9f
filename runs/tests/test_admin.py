import pytest
from django.urls import reverse

from runs.models import RunStatus
from runs.tests.factories import (
    DeliveryFactory,
    IntegrationRunFactory,
    RunAttemptFactory,
    RunLogEntryFactory,
)

pytestmark = pytest.mark.django_db


def test_run_admin_is_read_only_and_links_to_the_review_page(admin_client):
    run = IntegrationRunFactory(complete=True)
    RunAttemptFactory(run=run)
    RunLogEntryFactory(run=run, message="Created draft transaction txn_1.")

    changelist = admin_client.get(reverse("admin:runs_integrationrun_changelist"))
    change = admin_client.get(reverse("admin:runs_integrationrun_change", args=[run.pk]))

    assert changelist.status_code == change.status_code == 200
    html = change.content.decode()
    assert reverse("runs:detail", args=[run.pk]) in html
    assert "Created draft transaction txn_1." in html
    assert 'name="_save"' not in html
    assert admin_client.get(reverse("admin:runs_integrationrun_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:runs_integrationrun_delete", args=[run.pk])).status_code
        == 403
    )


@pytest.mark.parametrize("model", ["runattempt", "runlogentry", "delivery"])
def test_related_admin_pages_load(admin_client, model):
    RunAttemptFactory()
    RunLogEntryFactory()
    DeliveryFactory()
    response = admin_client.get(reverse(f"admin:runs_{model}_changelist"))
    assert response.status_code == 200
    assert admin_client.get(reverse(f"admin:runs_{model}_add")).status_code == 403


def test_admin_retries_the_selected_failed_runs_only(admin_client):
    failed, done = IntegrationRunFactory(failed=True), IntegrationRunFactory(complete=True)

    response = admin_client.post(
        reverse("admin:runs_integrationrun_changelist"),
        {"action": "retry_runs", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )

    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.status, done.status) == (RunStatus.WAITING, RunStatus.COMPLETE)
    assert "Retried 1 run(s); 1 had not failed and were left alone." in response.content.decode()
