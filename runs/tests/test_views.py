import datetime
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from credentials.models import Destination
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import AccountFactory, BillFactory
from runs.models import AttemptOutcome, IntegrationRun, LogLevel, RunStatus, RunTrigger
from runs.tests.factories import (
    DeliveryFactory,
    IntegrationRunFactory,
    RunAttemptFactory,
    RunLogEntryFactory,
)

pytestmark = pytest.mark.django_db

VIEW = ["runs.view_integrationrun", "m3terdata.view_bill"]
ACT = [*VIEW, "runs.change_integrationrun"]


def user_with(permissions, username="person"):
    """A signed-up person holding exactly these "app_label.codename" permissions."""
    user = User.objects.create_user(username=username)
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def viewer_client(client):
    client.force_login(user_with(VIEW, "viewer"))
    return client


@pytest.fixture
def operator_client(client):
    client.force_login(user_with(ACT, "operator"))
    return client


def rows(response):
    return list(response.context["page"].object_list)


# History


def test_history_lists_runs_newest_first_with_their_bill_and_account(viewer_client):
    old = IntegrationRunFactory(bill__account__name="Old Co", complete=True)
    IntegrationRun.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )
    new = IntegrationRunFactory(bill__account__name="New Co", failed=True)

    response = viewer_client.get(reverse("runs:list"))

    assert response.status_code == 200
    assert rows(response) == [new, old]
    html = response.content.decode()
    assert html.index("New Co") < html.index("Old Co")
    assert reverse("runs:detail", args=[new.pk]) in html
    assert reverse("m3terdata:bill_detail", args=[new.entity_id]) in html
    assert old.external_id in html and old.url in html
    assert "2 runs" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=ERROR", {"failed"}),
        ("destination=PADDLE", {"live"}),
        ("account=acme", {"acme"}),
        ("bill=bill-acme", {"acme"}),
        ("date_from=2026-11-02", {"failed", "live"}),
        ("date_to=2026-11-01", {"acme"}),
        ("date_from=2026-11-02&date_to=2026-11-02", {"failed"}),
        ("status=ERROR&destination=PADDLE", set()),
    ],
)
def test_history_filters(viewer_client, query, expected):
    sandbox = IntegrationConfigurationFactory()
    runs = {
        "acme": IntegrationRunFactory(
            integration=sandbox,
            bill=BillFactory(m3ter_id="bill-acme", account=AccountFactory(code="acme")),
        ),
        "failed": IntegrationRunFactory(integration=sandbox, failed=True),
        "live": IntegrationRunFactory(
            integration=IntegrationConfigurationFactory(destination=Destination.PADDLE)
        ),
    }
    for day, run in enumerate(runs.values(), start=1):
        IntegrationRun.objects.filter(pk=run.pk).update(
            created_at=datetime.datetime(2026, 11, day, 12, tzinfo=datetime.UTC)
        )
    names = {run.pk: name for name, run in runs.items()}

    response = viewer_client.get(f"{reverse('runs:list')}?{query}")

    assert {names[run.pk] for run in rows(response)} == expected
    if not expected:
        assert "No run matches these filters." in response.content.decode()


def test_history_filters_by_integration(viewer_client):
    run = IntegrationRunFactory()
    IntegrationRunFactory()
    response = viewer_client.get(reverse("runs:list"), {"integration": run.integration_id})
    assert rows(response) == [run]


def test_history_says_what_is_wrong_with_a_filter_and_applies_the_rest(viewer_client):
    failed = IntegrationRunFactory(failed=True)
    IntegrationRunFactory()
    response = viewer_client.get(
        reverse("runs:list"),
        {"status": "ERROR", "date_from": "2000-01-02", "date_to": "2000-01-01"},
    )
    assert rows(response) == [failed]
    assert "Choose a date on or after the From date." in response.content.decode()
    response = viewer_client.get(reverse("runs:list"), {"status": "ERROR", "date_to": "soon"})
    assert rows(response) == [failed]
    assert "Enter a valid date." in response.content.decode()


def test_history_paginates_and_keeps_the_filters(viewer_client):
    IntegrationRunFactory.create_batch(51, status=RunStatus.WAITING)
    response = viewer_client.get(reverse("runs:list"), {"status": "WAITING"})
    assert len(rows(response)) == 50
    html = response.content.decode()
    assert "Page 1 of 2" in html
    assert "?status=WAITING&amp;page=2" in html
    second = viewer_client.get(reverse("runs:list"), {"status": "WAITING", "page": 2})
    assert len(rows(second)) == 1


def test_history_queries_do_not_grow_with_rows(viewer_client, django_assert_max_num_queries):
    integration = IntegrationConfigurationFactory()
    IntegrationRunFactory.create_batch(50, integration=integration, complete=True)
    # session, user, permissions, integrations for the filter, count, page
    with django_assert_max_num_queries(8):
        response = viewer_client.get(reverse("runs:list"), {"integration": integration.pk})
    assert len(rows(response)) == 50


# Permissions


@pytest.mark.parametrize("url_name", ["runs:list", "runs:detail", "runs:progress"])
def test_pages_need_a_login(client, url_name):
    run = IntegrationRunFactory()
    url = reverse(url_name) if url_name == "runs:list" else reverse(url_name, args=[run.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("url_name", ["runs:list", "runs:detail", "runs:progress"])
def test_pages_need_the_view_permission(client, url_name):
    client.force_login(user_with([], "nobody"))
    run = IntegrationRunFactory()
    url = reverse(url_name) if url_name == "runs:list" else reverse(url_name, args=[run.pk])
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url_name", ["runs:retry", "runs:replay"])
def test_a_viewer_cannot_retry_or_replay(viewer_client, url_name):
    run = IntegrationRunFactory(failed=True)
    response = viewer_client.post(reverse(url_name, args=[run.pk]))
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert IntegrationRun.objects.count() == 1


@pytest.mark.parametrize("url_name", ["runs:retry", "runs:replay"])
def test_actions_are_post_only(operator_client, url_name):
    run = IntegrationRunFactory(failed=True)
    assert operator_client.get(reverse(url_name, args=[run.pk])).status_code == 405


def test_actions_need_the_csrf_token(operator_client):
    operator_client.handler.enforce_csrf_checks = True
    run = IntegrationRunFactory(failed=True)
    assert operator_client.post(reverse("runs:retry", args=[run.pk])).status_code == 403


def test_an_unknown_run_is_404(viewer_client):
    assert viewer_client.get("/runs/00000000-0000-0000-0000-000000000000/").status_code == 404


# Details


def test_details_show_the_run_its_attempts_log_and_error(viewer_client):
    run = IntegrationRunFactory(
        failed=True,
        external_id="txn_01abc",
        url="https://sandbox-vendors.paddle.com/transactions-v2/txn_01abc",
    )
    RunAttemptFactory(
        run=run,
        number=1,
        duration_ms=1250,
        outcome=AttemptOutcome.INVALID,
        request_summary={
            "method": "POST",
            "path": "/transactions",
            "items": 3,
            "Authorization": "Bearer pdl_sdbx_apikey_leak",
        },
        response_summary={"status": 400, "code": "transaction_currency_code_not_valid_for_manual"},
    )
    RunLogEntryFactory(
        run=run, level=LogLevel.ERROR, message="Paddle said no.", data={"code": "bad"}
    )

    response = viewer_client.get(reverse("runs:detail", args=[run.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Error" in html and 'data-status="ERROR"' in html
    assert run.error in html and run.error_hint in html and "What to do" in html
    assert 'href="https://sandbox-vendors.paddle.com/transactions-v2/txn_01abc"' in html
    assert reverse("m3terdata:bill_detail", args=[run.entity_id]) in html
    assert run.account.name in html
    assert "1.250 s" in html and "Invalid request" in html
    assert "transaction_currency_code_not_valid_for_manual" in html
    assert "pdl_sdbx_apikey_leak" not in html
    assert "Paddle said no." in html and "&quot;code&quot;: &quot;bad&quot;" in html
    assert "Bill generated, recalculated or approved" in html


def test_details_query_count_is_fixed(viewer_client, django_assert_max_num_queries):
    run = IntegrationRunFactory(complete=True)
    RunAttemptFactory.create_batch(5, run=run)
    RunLogEntryFactory.create_batch(10, run=run)
    with django_assert_max_num_queries(10):
        assert viewer_client.get(reverse("runs:detail", args=[run.pk])).status_code == 200


def test_a_run_updating_a_known_transaction_names_it_instead_of_none_yet(viewer_client):
    run = IntegrationRunFactory(status=RunStatus.AWAITING_RETRY)
    DeliveryFactory(
        integration=run.integration, bill_m3ter_id=run.entity_id, external_id="txn_01known"
    )

    html = viewer_client.get(reverse("runs:detail", args=[run.pk])).content.decode()

    assert "txn_01known" in html and "which this run updates" in html
    assert "None yet" not in html


def test_details_of_a_run_whose_integration_and_bill_were_deleted(viewer_client):
    run = IntegrationRunFactory(complete=True, integration_name="Gone")
    IntegrationRun.objects.filter(pk=run.pk).update(integration=None, bill=None)
    html = viewer_client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "Gone" in html and "(deleted)" in html
    assert run.entity_id in html


def test_retry_shows_only_for_failed_final_runs_and_to_people_who_may_act(client):
    failed = IntegrationRunFactory(failed=True)
    done = IntegrationRunFactory(complete=True)
    client.force_login(user_with(ACT, "operator"))
    failed_html = client.get(reverse("runs:detail", args=[failed.pk])).content.decode()
    done_html = client.get(reverse("runs:detail", args=[done.pk])).content.decode()
    assert reverse("runs:retry", args=[failed.pk]) in failed_html
    assert reverse("runs:replay", args=[failed.pk]) in failed_html
    assert reverse("runs:retry", args=[done.pk]) not in done_html
    assert reverse("runs:replay", args=[done.pk]) in done_html

    client.force_login(user_with(VIEW, "viewer"))
    viewer_html = client.get(reverse("runs:detail", args=[failed.pk])).content.decode()
    assert reverse("runs:retry", args=[failed.pk]) not in viewer_html
    assert reverse("runs:replay", args=[failed.pk]) not in viewer_html


def test_parent_run_shows_progress_and_children(viewer_client):
    parent = IntegrationRunFactory(bill=None, trigger=RunTrigger.BACKFILL, status=RunStatus.STARTED)
    children = [
        IntegrationRunFactory(parent=parent, complete=True),
        IntegrationRunFactory(parent=parent, failed=True),
        IntegrationRunFactory(parent=parent),
    ]

    html = viewer_client.get(reverse("runs:detail", args=[parent.pk])).content.decode()

    assert "2 of 3 bill runs finished (66%)" in html
    assert 'data-complete="false"' in html
    assert reverse("runs:progress", args=[parent.pk]) in html
    assert "runs/progress.js" in html
    for child in children:
        assert reverse("runs:detail", args=[child.pk]) in html


def test_progress_fragment_reports_completion(viewer_client):
    parent = IntegrationRunFactory(bill=None, trigger=RunTrigger.BACKFILL)
    child = IntegrationRunFactory(parent=parent, status=RunStatus.STARTED)
    url = reverse("runs:progress", args=[parent.pk])

    assert 'data-complete="false"' in viewer_client.get(url).content.decode()
    IntegrationRun.objects.filter(pk=child.pk).update(status=RunStatus.COMPLETE)
    html = viewer_client.get(url).content.decode()
    assert 'data-complete="true"' in html
    assert "1 of 1 bill run finished (100%)" in html


def test_progress_polling_is_a_fixed_handful_of_queries(
    viewer_client, django_assert_max_num_queries
):
    parent = IntegrationRunFactory(bill=None, trigger=RunTrigger.BACKFILL)
    IntegrationRunFactory.create_batch(60, parent=parent, complete=True)
    # session, user, permissions (2), the parent, counts by status, the first children
    with django_assert_max_num_queries(7):
        response = viewer_client.get(reverse("runs:progress", args=[parent.pk]))
    assert "60 of 60 bill runs finished (100%)" in response.content.decode()


def test_a_completed_parent_does_not_poll(viewer_client):
    parent = IntegrationRunFactory(bill=None, trigger=RunTrigger.BACKFILL, complete=True)
    IntegrationRunFactory(parent=parent, complete=True)
    html = viewer_client.get(reverse("runs:detail", args=[parent.pk])).content.decode()
    assert "runs/progress.js" not in html
    assert "All done." in html


@pytest.mark.parametrize(
    ("status", "reloads"),
    [(RunStatus.WAITING, True), (RunStatus.STARTED, True), (RunStatus.ERROR, False)],
)
def test_a_single_run_page_reloads_until_a_worker_finishes_it(viewer_client, status, reloads):
    run = IntegrationRunFactory(status=status)
    html = viewer_client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert ('http-equiv="refresh"' in html) is reloads


def test_a_parent_run_page_polls_its_progress_instead_of_reloading(viewer_client):
    parent = IntegrationRunFactory(bill=None, trigger=RunTrigger.BACKFILL, status=RunStatus.STARTED)
    IntegrationRunFactory(parent=parent)
    html = viewer_client.get(reverse("runs:detail", args=[parent.pk])).content.decode()
    assert 'http-equiv="refresh"' not in html


# Retry and Replay


def test_retry_sends_a_failed_run_through_again(operator_client):
    run = IntegrationRunFactory(failed=True)

    response = operator_client.post(reverse("runs:retry", args=[run.pk]), follow=True)

    run.refresh_from_db()
    assert run.status == RunStatus.WAITING
    assert run.error == ""
    assert response.redirect_chain == [(reverse("runs:detail", args=[run.pk]), 302)]
    html = response.content.decode()
    assert "Retry queued" in html
    assert "Retried by operator." in html


def test_retry_of_a_complete_run_is_refused_with_the_reason(operator_client):
    run = IntegrationRunFactory(complete=True)

    response = operator_client.post(reverse("runs:retry", args=[run.pk]), follow=True)

    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETE
    assert "Only a run that failed can be retried" in response.content.decode()


def test_replay_starts_a_new_linked_run_and_opens_it(operator_client):
    run = IntegrationRunFactory(complete=True)

    response = operator_client.post(reverse("runs:replay", args=[run.pk]), follow=True)

    replay = IntegrationRun.objects.get(replayed_from=run)
    assert replay.trigger == RunTrigger.REPLAY
    assert replay.status == RunStatus.WAITING
    assert response.redirect_chain == [(reverse("runs:detail", args=[replay.pk]), 302)]
    html = response.content.decode()
    assert "Replay queued" in html
    assert reverse("runs:detail", args=[run.pk]) in html  # "Replay of"


def test_replay_of_a_run_whose_integration_was_deleted_is_refused(operator_client):
    run = IntegrationRunFactory(complete=True, integration_name="Gone")
    IntegrationRun.objects.filter(pk=run.pk).update(integration=None)

    response = operator_client.post(reverse("runs:replay", args=[run.pk]), follow=True)

    assert IntegrationRun.objects.count() == 1
    assert "was deleted" in response.content.decode()


# The integration's details page


def test_integration_page_shows_its_latest_runs_and_counts(client):
    integration = IntegrationConfigurationFactory()
    IntegrationRunFactory.create_batch(11, integration=integration, complete=True)
    latest = IntegrationRunFactory(integration=integration, failed=True)
    other = IntegrationRunFactory()
    url = reverse("integrations:detail", args=[integration.pk])

    client.force_login(user_with(["integrations.view_integrationconfiguration", *VIEW], "both"))
    html = client.get(url).content.decode()

    assert len(re.findall(r'href="/runs/[0-9a-f-]{36}/"', html)) == 10
    assert reverse("runs:detail", args=[latest.pk]) in html
    assert reverse("runs:detail", args=[other.pk]) not in html
    assert "All 12 runs" in html
    assert 'data-status="COMPLETE">Complete</span> 11' in html
    assert 'data-status="ERROR">Error</span> 1' in html
    assert f"?integration={integration.pk}&amp;status=ERROR" in html

    client.force_login(
        user_with(["integrations.view_integrationconfiguration"], "integrations-only")
    )
    assert 'data-testid="integration-runs"' not in client.get(url).content.decode()


def test_history_finds_runs_by_bill_id_prefix_and_account_name_and_shows_the_reason(
    viewer_client,
):
    failed = IntegrationRunFactory(
        bill__m3ter_id="b7e1c2d3-0000-4000-8000-000000000001",
        bill__account__name="Globex Corporation",
        failed=True,
    )
    IntegrationRunFactory(bill__account__name="Initech")

    by_prefix = viewer_client.get(reverse("runs:list"), {"bill": "b7e1c2d3"})
    by_name = viewer_client.get(reverse("runs:list"), {"account": "globex"})

    assert rows(by_prefix) == [failed]
    assert rows(by_name) == [failed]
    assert failed.error and failed.error[:40] in by_name.content.decode()


def test_history_from_after_to_is_an_error_on_the_form(viewer_client):
    response = viewer_client.get(
        reverse("runs:list"), {"date_from": "2026-11-10", "date_to": "2026-11-01"}
    )

    assert "Choose a date on or after the From date." in response.content.decode()


def test_retry_is_not_offered_when_it_could_only_fail_the_same_way(client):
    run = IntegrationRunFactory(failed=True)
    RunAttemptFactory(run=run, outcome=AttemptOutcome.UNSUPPORTED)
    client.force_login(user_with(ACT, "operator"))

    response = client.get(reverse("runs:detail", args=[run.pk]))

    assert response.context["can_retry"] is False
    assert "A retry would fail the same way" in response.content.decode()
    assert response.context["can_replay"] is True


def test_a_backfill_whose_failures_can_only_repeat_offers_no_retry_but_one_that_can_does(client):
    client.force_login(user_with(ACT, "operator"))
    parent = IntegrationRunFactory(bill=None, trigger=RunTrigger.BACKFILL, failed=True)
    for _ in range(2):
        child = IntegrationRunFactory(parent=parent, trigger=RunTrigger.BACKFILL, failed=True)
        RunAttemptFactory(run=child, outcome=AttemptOutcome.TRANSIENT)
        RunAttemptFactory(run=child, outcome=AttemptOutcome.UNSUPPORTED)
    IntegrationRunFactory(parent=parent, trigger=RunTrigger.BACKFILL, complete=True)

    only_repeats = client.get(reverse("runs:detail", args=[parent.pk]))
    RunAttemptFactory(run=child, outcome=AttemptOutcome.TRANSIENT)  # its last try: Paddle's 5xx
    one_can_succeed = client.get(reverse("runs:detail", args=[parent.pk]))

    assert only_repeats.context["can_retry"] is False
    assert "A retry would fail the same way" in only_repeats.content.decode()
    assert one_can_succeed.context["can_retry"] is True
