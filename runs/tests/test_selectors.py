import datetime

import pytest
from django.utils import timezone

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import AccountFactory, BillFactory
from runs.models import IntegrationRun, RunStatus
from runs.selectors import (
    bill_integration_rows,
    integration_runs_summary,
    run_detail,
    run_list,
    run_progress,
    run_status_tone,
)
from runs.tests.factories import DeliveryFactory, IntegrationRunFactory

pytestmark = pytest.mark.django_db


def _created(run, when):
    IntegrationRun.objects.filter(pk=run.pk).update(created_at=when)


def test_run_list_is_newest_first():
    old, new = IntegrationRunFactory(), IntegrationRunFactory()
    _created(old, timezone.now() - datetime.timedelta(days=1))
    assert list(run_list()) == [new, old]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"a", "b", "c"}),
        ({"status": RunStatus.ERROR}, {"b"}),
        ({"destination": Destination.PADDLE}, {"c"}),
        ({"account": "acme"}, {"a", "b"}),
        ({"date_from": datetime.date(2026, 11, 2)}, {"b", "c"}),
        ({"date_to": datetime.date(2026, 11, 2)}, {"a", "b"}),
        ({"date_from": datetime.date(2026, 11, 2), "date_to": datetime.date(2026, 11, 2)}, {"b"}),
        ({"status": RunStatus.ERROR, "account": "other"}, set()),
    ],
)
def test_run_list_filters(filters, expected):
    acme = AccountFactory(code="acme")
    sandbox = IntegrationConfigurationFactory()
    live = IntegrationConfigurationFactory(destination=Destination.PADDLE)
    runs = {
        "a": IntegrationRunFactory(integration=sandbox, bill=BillFactory(account=acme)),
        "b": IntegrationRunFactory(
            integration=sandbox, bill=BillFactory(account=acme), failed=True
        ),
        "c": IntegrationRunFactory(integration=live),
    }
    for day, name in zip((1, 2, 3), "abc", strict=True):
        _created(runs[name], datetime.datetime(2026, 11, day, 23, 59, tzinfo=datetime.UTC))
    names = {run.pk: name for name, run in runs.items()}
    assert {names[run.pk] for run in run_list(**filters)} == expected


def test_run_list_by_integration_bill_account_id_and_parent():
    run = IntegrationRunFactory()
    parent = IntegrationRunFactory(bill=None)
    child = IntegrationRunFactory(parent=parent)
    assert list(run_list(integration_id=run.integration_id)) == [run]
    assert list(run_list(bill=run.entity_id)) == [run]
    assert list(run_list(account=run.account.m3ter_id)) == [run]
    assert list(run_list(parent_id=parent.pk)) == [child]


def test_run_list_is_one_query_for_a_page(django_assert_num_queries):
    IntegrationRunFactory.create_batch(5)
    with django_assert_num_queries(1):
        rows = [(run.account.name, run.integration_name, run.status) for run in run_list()[:50]]
    assert len(rows) == 5


def test_run_detail_loads_attempts_and_log_in_fixed_queries(django_assert_num_queries):
    run = IntegrationRunFactory(complete=True)
    run.attempts.create(number=1, started_at=timezone.now(), outcome="SUCCESS")
    run.log_entries.create(message="Created.")
    with django_assert_num_queries(4):  # the run and its relations, attempts, log, replays
        loaded = run_detail(run_id=run.pk)
        assert [a.number for a in loaded.attempts.all()] == [1]
        assert [e.message for e in loaded.log_entries.all()] == ["Created."]
        assert list(loaded.replays.all()) == []
        assert loaded.bill.m3ter_id == run.entity_id
        assert loaded.integration.name == run.integration_name


@pytest.mark.parametrize(
    ("status", "tone"),
    [
        (RunStatus.COMPLETE, "success"),
        (RunStatus.INVOICE_ALREADY_PAID, "info"),
        (RunStatus.ERROR, "danger"),
        (RunStatus.RATE_LIMIT_RETRY, "warning"),
        (RunStatus.STARTED, "primary"),
        (RunStatus.WAITING, "secondary"),
    ],
)
def test_status_tone(status, tone):
    assert run_status_tone(status) == tone


def test_progress_counts_children_by_status():
    parent = IntegrationRunFactory(bill=None)
    IntegrationRunFactory.create_batch(2, parent=parent, complete=True)
    IntegrationRunFactory(parent=parent, failed=True)
    IntegrationRunFactory(parent=parent)
    IntegrationRunFactory()  # not a child

    progress = run_progress(run=parent)

    assert (progress.total, progress.done, progress.percent) == (4, 3, 75)
    assert not progress.complete
    assert [(c.status, c.count) for c in progress.counts] == [
        (RunStatus.WAITING, 1),
        (RunStatus.COMPLETE, 2),
        (RunStatus.ERROR, 1),
    ]
    assert [share for _, share in progress.segments()] == [25, 50, 25]
    assert progress.as_dict()["counts"] == {"WAITING": 1, "COMPLETE": 2, "ERROR": 1}


def test_progress_is_complete_when_every_child_is_final():
    parent = IntegrationRunFactory(bill=None)
    IntegrationRunFactory(parent=parent, complete=True)
    IntegrationRunFactory(parent=parent, failed=True)
    assert run_progress(run=parent).complete


def test_integration_summary_has_latest_runs_and_counts(django_assert_num_queries):
    integration = IntegrationConfigurationFactory()
    runs = IntegrationRunFactory.create_batch(12, integration=integration, complete=True)
    IntegrationRunFactory(integration=integration, failed=True)
    IntegrationRunFactory()  # another integration's

    with django_assert_num_queries(2):
        summary = integration_runs_summary(integration=integration)

    assert len(summary.latest) == 10
    assert summary.latest[0].status == RunStatus.ERROR
    assert summary.latest[1] == runs[-1]
    assert [(c.status, c.count) for c in summary.counts] == [
        (RunStatus.COMPLETE, 12),
        (RunStatus.ERROR, 1),
    ]
    assert summary.total == 13


def test_bill_rows_say_where_the_bill_goes_and_what_was_delivered():
    bill = BillFactory(content_hash="abc")
    IntegrationConfigurationFactory(name="A connected", credential=IntegrationCredentialFactory())
    delivered = IntegrationConfigurationFactory(
        name="B delivered", credential=IntegrationCredentialFactory()
    )
    IntegrationConfigurationFactory(name="C not connected")
    delivery = DeliveryFactory(
        integration=delivered, bill_m3ter_id=bill.m3ter_id, delivered_hash="abc"
    )

    rows = bill_integration_rows(bill=bill)

    assert [(r.decision.integration.name, r.decision.send) for r in rows] == [
        ("A connected", True),
        ("B delivered", False),
        ("C not connected", False),
    ]
    assert rows[1].delivery == delivery
    assert "not changed" in rows[1].decision.reason
    assert "no credential" in rows[2].decision.reason
    assert rows[0].delivery is None
