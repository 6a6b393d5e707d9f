"""The pull and the connection check, through the official SDK against the m3ter stand-in."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.models import Bill, ExternalMapping
from m3tersync.models import M3terConnection, M3terPull, PullStatus, PullTrigger
from m3tersync.services import (
    CURSOR_OVERLAP,
    connection_create,
    connection_test,
    connection_update,
    pull_run,
    pulls_enqueue_due,
)
from standins.m3ter.pytest_plugin import m3ter_account, m3ter_bill, m3ter_line_item

pytestmark = pytest.mark.django_db


def seed(standin, *, bills=1):
    account = standin.put_account(m3ter_account())
    stored = [standin.put_bill(m3ter_bill(account)) for _ in range(bills)]
    return account, stored


def search_offsets(standin, route="search_bills"):
    return [
        dict(part.split("=") for part in entry["query"].split("&"))["fromDocument"]
        for entry in standin.requests
        if entry["route"] == route and entry["status"] == 200
    ]


# --- a pull ------------------------------------------------------------------------------------


def test_a_pull_stores_accounts_mappings_and_bills_from_m3ter(m3ter_standin, m3ter_connection):
    account, [bill] = seed(m3ter_standin)
    m3ter_standin.put_external_mapping(
        {
            "m3terEntity": "Account",
            "m3terId": account["id"],
            "externalSystem": "Paddle",
            "externalTable": "Customer",
            "externalId": "ctm_01hv0000000000000000000000",
        }
    )

    pull = pull_run(connection=m3ter_connection)

    assert pull.status == PullStatus.SUCCEEDED, pull.error
    stored = Bill.objects.get(m3ter_id=bill["id"])
    assert stored.account.m3ter_id == account["id"]
    assert stored.account.address["country"] == "US"
    assert stored.total == Decimal("125.5")
    assert [item.subtotal for item in stored.line_items.all()] == [Decimal("125.5")]
    assert ExternalMapping.objects.get(m3ter_id=account["id"]).external_id.startswith("ctm_")
    assert (pull.accounts_changed, pull.external_mappings_changed, pull.bills_changed) == (1, 1, 1)
    m3ter_connection.refresh_from_db()
    assert m3ter_connection.last_pull_status == PullStatus.SUCCEEDED
    assert m3ter_connection.bills_cursor.isoformat().startswith(bill["dtLastModified"][:19])
    assert m3ter_connection.pull_progress == {}
    assert m3ter_connection.pull_lease_until is None


def test_the_pull_signs_in_once_however_many_calls_it_makes(m3ter_standin, m3ter_connection):
    seed(m3ter_standin, bills=5)

    pull_run(connection=m3ter_connection, page_size=2)

    assert m3ter_standin.request_count("token") == 1
    assert m3ter_standin.request_count() > 5


def test_bills_are_read_page_by_page(m3ter_standin, m3ter_connection):
    _, bills = seed(m3ter_standin, bills=5)

    pull = pull_run(connection=m3ter_connection, page_size=2)

    assert pull.bills_changed == 5
    assert Bill.objects.count() == 5
    assert search_offsets(m3ter_standin) == ["0", "2", "4"]
    # Search results lack line items: each page's bills are read again in one call.
    assert m3ter_standin.request_count("list_bills") == 3


def test_the_next_pull_reads_only_what_changed_since_the_cursor(m3ter_standin, m3ter_connection):
    account, bills = seed(m3ter_standin, bills=6)
    pull_run(connection=m3ter_connection, page_size=2)
    before = len(m3ter_standin.requests)
    changed = m3ter_standin.put_bill(
        {**bills[1], "status": "APPROVED", "lineItems": [m3ter_line_item(subtotal=99)]}
    )
    # Old enough to fall before the cursor (less the overlap): these must not be read again.
    M3terConnection.objects.filter(pk=m3ter_connection.pk).update(
        bills_cursor=timezone.now() - datetime.timedelta(seconds=1)
    )

    pull = pull_run(connection=m3ter_connection, page_size=2)

    assert pull.status == PullStatus.SUCCEEDED
    assert pull.bills_changed == 1
    bill = Bill.objects.get(m3ter_id=changed["id"])
    assert (bill.version, bill.status) == (2, "APPROVED")
    assert bill.line_items.get().subtotal == Decimal("99")
    # Every record sits within the overlap here, so the sweep reads them, but unchanged versions
    # are not fetched again: only the changed bill is.
    later = m3ter_standin.requests[before:]
    assert [e["query"] for e in later if e["route"] == "list_bills"] == [
        f"ids={changed['id']}&pageSize=1"
    ]


def test_the_sweep_stops_at_the_first_page_older_than_the_cursor(m3ter_standin, m3ter_connection):
    seed(m3ter_standin, bills=6)
    pull_run(connection=m3ter_connection, page_size=2)
    # As if the last pull were long after every change (beyond the overlap).
    later = timezone.now() + CURSOR_OVERLAP + datetime.timedelta(minutes=1)
    M3terConnection.objects.filter(pk=m3ter_connection.pk).update(
        bills_cursor=later, accounts_cursor=later
    )
    before = len(search_offsets(m3ter_standin))

    pull = pull_run(connection=m3ter_connection, page_size=2)

    assert pull.status == PullStatus.SUCCEEDED and pull.bills_fetched == 0
    assert search_offsets(m3ter_standin)[before:] == ["0"]


def test_if_search_does_not_sort_newest_first_everything_is_read_and_that_is_reported(
    m3ter_standin, m3ter_connection
):
    _, bills = seed(m3ter_standin, bills=5)
    pull_run(connection=m3ter_connection, page_size=2)
    # Every bill so far is older than the floor; the one changed next is newer.
    newest = max(parse_datetime(bill["dtLastModified"]) for bill in bills)
    M3terConnection.objects.filter(pk=m3ter_connection.pk).update(
        bills_cursor=newest + datetime.timedelta(milliseconds=1) + CURSOR_OVERLAP
    )
    m3ter_standin.search_sorts = False  # oldest created first: the changed bill comes last
    changed = m3ter_standin.put_bill({**bills[4], "status": "APPROVED"})
    before = len(search_offsets(m3ter_standin))

    pull = pull_run(connection=m3ter_connection, page_size=2)

    assert search_offsets(m3ter_standin)[before:] == ["0", "2", "4"]
    assert "did not return bills newest first" in pull.problems[-1]["message"]
    assert Bill.objects.get(m3ter_id=changed["id"]).status == "APPROVED"


def test_a_failed_pull_is_recorded_and_the_next_resumes_after_the_last_stored_page(
    m3ter_standin, m3ter_connection, settings
):
    settings.M3TER_MAX_RETRIES = 0
    seed(m3ter_standin, bills=5)
    search = f"/organizations/{m3ter_standin.org_id}/bills/search"
    outage = m3ter_standin.push_fault("http_500", path=search, after=1, times=None, status=503)

    failed = pull_run(connection=m3ter_connection, page_size=2)

    assert failed.status == PullStatus.FAILED
    assert "server error (503)" in failed.error and "resumes" in failed.error
    assert failed.bills_changed == 2 and Bill.objects.count() == 2
    m3ter_connection.refresh_from_db()
    assert m3ter_connection.last_pull_status == PullStatus.FAILED
    assert m3ter_connection.last_pull_error == failed.error
    assert m3ter_connection.pull_progress["bills"]["offset"] == 2
    assert m3ter_connection.bills_cursor is None

    assert outage.fired == 1  # M3TER_MAX_RETRIES = 0: one try
    m3ter_standin.clear_faults()
    resumed = pull_run(connection=m3ter_connection, page_size=2)

    assert resumed.status == PullStatus.SUCCEEDED
    assert search_offsets(m3ter_standin) == ["0", "2", "4"]
    assert resumed.bills_changed == 3 and Bill.objects.count() == 5
    m3ter_connection.refresh_from_db()
    assert m3ter_connection.bills_cursor is not None
    assert "bills" not in m3ter_connection.pull_progress


def test_rate_limits_are_waited_out(m3ter_standin, m3ter_connection, settings):
    settings.M3TER_MAX_RETRIES = 3
    seed(m3ter_standin, bills=2)
    m3ter_standin.push_fault("rate_limit", path="/organizations", times=3, retry_after=0.01)

    pull = pull_run(connection=m3ter_connection)

    assert pull.status == PullStatus.SUCCEEDED
    assert m3ter_standin.request_count(status=429) == 3
    assert Bill.objects.count() == 2


def test_a_rate_limit_that_does_not_clear_fails_the_pull_in_plain_words(
    m3ter_standin, m3ter_connection, settings
):
    settings.M3TER_MAX_RETRIES = 1
    seed(m3ter_standin)
    m3ter_standin.push_fault("rate_limit", path="/organizations", times=None, retry_after=0.01)

    pull = pull_run(connection=m3ter_connection)

    assert pull.status == PullStatus.FAILED
    assert "rate limit was exceeded (429)" in pull.error and "resumes" in pull.error
    assert m3ter_standin.request_count(status=429) == 2


def test_a_pull_out_of_time_stops_and_the_next_carries_on(m3ter_standin, m3ter_connection):
    seed(m3ter_standin, bills=3)

    stopped = pull_run(connection=m3ter_connection, time_budget=0)
    carried_on = pull_run(connection=m3ter_connection)

    assert stopped.status == PullStatus.PARTIAL and stopped.error == ""
    assert carried_on.status == PullStatus.SUCCEEDED and Bill.objects.count() == 3


def test_a_bad_record_is_skipped_and_reported_and_the_rest_is_stored(
    m3ter_standin, m3ter_connection
):
    account, [good] = seed(m3ter_standin)
    bad = m3ter_standin.put_bill(m3ter_bill(account, currency="DOLLARS"))

    pull = pull_run(connection=m3ter_connection)

    assert pull.status == PullStatus.SUCCEEDED
    assert list(Bill.objects.values_list("m3ter_id", flat=True)) == [good["id"]]
    assert pull.records_skipped == 1
    [problem] = pull.problems
    assert problem["id"] == bad["id"] and "currency" in problem["message"]


def test_a_bill_whose_account_was_not_pulled_yet_brings_its_account(
    m3ter_standin, m3ter_connection
):
    M3terConnection.objects.filter(pk=m3ter_connection.pk).update(
        accounts_cursor=timezone.now() + datetime.timedelta(days=1)
    )
    account, [bill] = seed(m3ter_standin)

    pull = pull_run(connection=m3ter_connection)

    assert pull.accounts_changed == 0  # the accounts sweep saw nothing new
    assert Bill.objects.get(m3ter_id=bill["id"]).account.m3ter_id == account["id"]


def test_a_mapping_for_an_integration_unknown_here_is_skipped_and_reported(
    m3ter_standin, m3ter_connection
):
    known = IntegrationConfigurationFactory()
    account = m3ter_standin.put_account(m3ter_account())
    for integration_id in (str(known.pk), "7a4b0f3e-0000-4000-8000-000000000000"):
        m3ter_standin.put_external_mapping(
            {
                "m3terEntity": "Account",
                "m3terId": account["id"],
                "externalSystem": "Paddle",
                "externalTable": "Customer",
                "externalId": "ctm_01hv0000000000000000000001",
                "integrationConfigId": integration_id,
            }
        )
    m3ter_standin.put_external_mapping(
        {
            "m3terEntity": "Account",
            "m3terId": account["id"],
            "externalSystem": "Salesforce",
            "externalTable": "Account",
            "externalId": "001xx",
        }
    )

    pull = pull_run(connection=m3ter_connection)

    assert list(ExternalMapping.objects.values_list("integration_id", flat=True)) == [known.pk]
    assert pull.external_mappings_fetched == 2  # Salesforce's are not even listed
    assert "not an integration of this hub" in pull.problems[0]["message"]


def test_external_mappings_are_paged_and_only_recent_ones_written(m3ter_standin, m3ter_connection):
    accounts = [m3ter_standin.put_account(m3ter_account()) for _ in range(3)]
    for account in accounts:
        m3ter_standin.put_external_mapping(
            {
                "m3terEntity": "Account",
                "m3terId": account["id"],
                "externalSystem": "Paddle",
                "externalTable": "Customer",
                "externalId": f"ctm_{account['code']}",
            }
        )

    first = pull_run(connection=m3ter_connection, page_size=2)
    M3terConnection.objects.filter(pk=m3ter_connection.pk).update(
        external_mappings_cursor=timezone.now() + datetime.timedelta(days=1)
    )
    second = pull_run(connection=m3ter_connection, page_size=2)

    assert first.external_mappings_changed == 3 and ExternalMapping.objects.count() == 3
    assert m3ter_standin.request_count("list_external_mappings") == 4
    assert second.external_mappings_fetched == 0


def test_only_one_pull_of_a_connection_runs_at_a_time(m3ter_standin, m3ter_connection):
    M3terConnection.objects.filter(pk=m3ter_connection.pk).update(
        pull_lease_until=timezone.now() + datetime.timedelta(minutes=1)
    )

    assert pull_run(connection=m3ter_connection) is None
    assert not M3terPull.objects.exists()


def test_a_pull_left_running_by_a_dead_worker_is_closed_as_interrupted(
    m3ter_standin, m3ter_connection
):
    dead = M3terPull.objects.create(connection=m3ter_connection, trigger=PullTrigger.SCHEDULE)
    M3terConnection.objects.filter(pk=m3ter_connection.pk).update(
        pull_lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )

    pull_run(connection=m3ter_connection)

    dead.refresh_from_db()
    assert dead.status == PullStatus.FAILED and "Interrupted" in dead.error


def test_a_pull_with_refused_credentials_fails_saying_so(m3ter_standin, m3ter_connection):
    connection_update(connection=m3ter_connection, api_secret="not-the-secret")

    pull = pull_run(connection=m3ter_connection)

    assert pull.status == PullStatus.FAILED
    assert "refused the API key id and secret (401)" in pull.error


# --- the schedule ------------------------------------------------------------------------------


def test_the_schedule_is_installed_by_migrate():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="m3tersync: pull")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "m3tersync.tasks.pulls_due_task",
        Schedule.MINUTES,
        1,
    )


def test_each_tick_pulls_the_enabled_connections_that_are_due(
    m3ter_standin, m3ter_connection, settings
):
    settings.M3TER_PULL_INTERVAL_MINUTES = 10
    seed(m3ter_standin)
    disabled = connection_create(
        name="Off", org_id="x", api_key_id="k", api_secret="s", base_url=m3ter_standin.url
    )
    connection_update(connection=disabled, enabled=False)

    assert pulls_enqueue_due() == [m3ter_connection.pk]  # never pulled: due (runs inline)
    assert pulls_enqueue_due() == []  # just pulled: not due
    assert pulls_enqueue_due(now=timezone.now() + datetime.timedelta(minutes=11)) == [
        m3ter_connection.pk
    ]
    pull = M3terPull.objects.filter(connection=m3ter_connection).first()
    assert pull.trigger == PullTrigger.SCHEDULE and Bill.objects.count() == 1
    assert not disabled.pulls.exists()


def test_a_pull_that_stopped_early_is_due_at_the_next_tick(m3ter_connection, settings):
    settings.M3TER_PULL_INTERVAL_MINUTES = 10
    M3terConnection.objects.filter(pk=m3ter_connection.pk).update(
        last_pull_at=timezone.now(), last_pull_status=PullStatus.PARTIAL
    )
    assert pulls_enqueue_due() == [m3ter_connection.pk]


def test_an_interval_of_zero_turns_scheduled_pulls_off(m3ter_connection, settings):
    settings.M3TER_PULL_INTERVAL_MINUTES = 0
    assert pulls_enqueue_due() == []


# --- connections -------------------------------------------------------------------------------


def test_the_api_secret_is_stored_encrypted_with_only_a_hint_readable(m3ter_standin):
    connection = connection_create(
        name="Prod",
        org_id=m3ter_standin.org_id,
        api_key_id="key",
        api_secret="a-very-secret-value",
        base_url="https://api.m3ter.com/",
    )
    assert "a-very-secret-value" not in connection.api_secret_encrypted
    assert connection.api_secret_hint == "…alue"
    assert connection.decrypted_api_secret() == "a-very-secret-value"
    assert connection.base_url == "https://api.m3ter.com"


def test_webhook_credentials_come_in_pairs():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="both"):
        connection_create(
            name="x", org_id="o", api_key_id="k", api_secret="s", webhook_api_key="only-a-key"
        )


def test_test_connection_succeeds_against_the_right_organisation(m3ter_standin, m3ter_connection):
    result = connection_test(connection=m3ter_connection)

    assert result.ok and m3ter_standin.org_id in result.message
    m3ter_connection.refresh_from_db()
    assert m3ter_connection.last_test_ok is True and m3ter_connection.last_tested_at


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"api_secret": "wrong"}, "refused the API key id and secret (401)"),
        ({"org_id": "00000000-0000-0000-0000-000000000000"}, "refused access (403)"),
        (
            {"base_url": "http://127.0.0.1:9", "api_secret": "standin-api-secret"},
            "Could not reach m3ter at http://127.0.0.1:9",
        ),
    ],
)
def test_test_connection_reports_m3ters_refusal_in_plain_words(
    m3ter_standin, m3ter_connection, change, expected
):
    connection_update(connection=m3ter_connection, **change)

    result = connection_test(connection=m3ter_connection)

    assert not result.ok and expected in result.message
    m3ter_connection.refresh_from_db()
    assert m3ter_connection.last_test_ok is False
    assert expected in m3ter_connection.last_test_message


def test_rotating_the_encryption_keys_re_encrypts_the_connections_secrets(
    m3ter_connection, settings
):
    from cryptography.fernet import Fernet

    from credentials.services import credentials_rotate

    old = m3ter_connection.api_secret_encrypted
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]

    counts = credentials_rotate()

    m3ter_connection.refresh_from_db()
    assert counts["m3tersync.M3terConnection.api_secret_encrypted"] == 1
    assert counts["m3tersync.M3terConnection.webhook_secret_encrypted"] == 1
    assert m3ter_connection.api_secret_encrypted != old
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the new key alone
    assert m3ter_connection.decrypted_webhook_secret() == "m3ter-webhook-secret-value"


@pytest.mark.parametrize("debug", [False, True])
def test_plain_http_is_for_development_or_a_local_stand_in(settings, debug):
    from django.core.exceptions import ValidationError

    from m3tersync.services import base_url_check

    settings.DEBUG = debug
    settings.M3TER_HTTP_LOOPBACK_ALLOWED = False
    base_url_check("https://api.m3ter.com")
    if debug:
        base_url_check("http://m3ter.internal")
    else:
        with pytest.raises(ValidationError, match="https://"):
            base_url_check("http://127.0.0.1:8000")
    settings.M3TER_HTTP_LOOPBACK_ALLOWED = True
    base_url_check("http://127.0.0.1:8000")


def test_the_stored_secret_is_never_sent_to_a_new_address_without_being_typed_again(
    m3ter_connection,
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Enter the API secret again"):
        connection_update(connection=m3ter_connection, base_url="https://elsewhere.example")
