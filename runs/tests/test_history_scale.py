"""Run history stays a fixed handful of indexed queries with 100,000 runs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import BillFactory
from runs.models import IntegrationRun, RunStatus
from runs.tests.test_views import VIEW, user_with

RUNS = 100_000
STATUSES = [RunStatus.COMPLETE] * 8 + [RunStatus.ERROR, RunStatus.AWAITING_RETRY]


SEED_RUNS = 1_000
# A new primary key in SQL, in the form Django stores a UUIDField on each database.
NEW_UUID = {"sqlite": "lower(hex(randomblob(16)))", "postgresql": "gen_random_uuid()"}


def _copy_runs(limit: int) -> None:
    """Insert copies of existing runs with new ids: far faster than building 100k models."""
    columns = [f.column for f in IntegrationRun._meta.concrete_fields if not f.primary_key]
    table = IntegrationRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, {', '.join(columns)}) "
            f"SELECT {NEW_UUID[connection.vendor]}, {', '.join(columns)} FROM {table} LIMIT %s",
            [limit],
        )


@pytest.fixture
def many_runs(db):
    integrations = IntegrationConfigurationFactory.create_batch(4)
    bills = BillFactory.create_batch(20)
    IntegrationRun.objects.bulk_create(
        IntegrationRun(
            integration=integrations[i % 4],
            integration_name=integrations[i % 4].name,
            bill=bills[i % 20],
            entity_id=bills[i % 20].m3ter_id,
            account_id=bills[i % 20].account_id,
            destination=integrations[i % 4].destination,
            status=STATUSES[i % len(STATUSES)],
            external_id=f"txn_{i:026d}",
        )
        for i in range(SEED_RUNS)
    )
    while (count := IntegrationRun.objects.count()) < RUNS:
        _copy_runs(min(count, RUNS - count))
    assert IntegrationRun.objects.count() == RUNS
    return integrations, bills


@pytest.mark.slow
def test_history_pages_stay_fast_with_100k_runs(client, many_runs):
    integrations, bills = many_runs
    client.force_login(user_with(VIEW))
    url = reverse("runs:list")
    cases = [
        {},
        {"page": 1000},
        {"status": "ERROR"},
        {"integration": integrations[1].pk},
        {"account": bills[3].account.code},
        {"bill": bills[5].m3ter_id, "status": "COMPLETE"},
        {"date_from": "2026-01-01", "date_to": "2099-12-31", "destination": "PADDLE_SANDBOX"},
    ]
    for query in cases:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, query)
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == 50, query
        # session, user, permissions (2), the integration filter (check and choices), count, page
        assert len(queries) <= 8, (query, [q["sql"] for q in queries])
