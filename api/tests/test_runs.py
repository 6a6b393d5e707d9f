import base64
import datetime

import pytest
from django.utils import timezone

from api.tests.conftest import assert_error, org_url
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import BillFactory
from runs.models import IntegrationRun, RunStatus, RunTrigger
from runs.tests.factories import IntegrationRunFactory, RunLogEntryFactory

pytestmark = pytest.mark.django_db


def aged(run, minutes):
    IntegrationRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )
    return run


def ids(response):
    assert response.status_code == 200, response.content
    return [run["id"] for run in response.json()["data"]]


def test_a_run_in_m3ters_shape(api):
    run = IntegrationRunFactory(complete=True)

    body = api.get(org_url(f"integrationruns/{run.id}")).json()

    assert body["id"] == str(run.id)
    assert body["entityType"] == "Bill"
    assert body["entityId"] == run.bill.m3ter_id
    assert body["status"] == "COMPLETE"
    assert body["externalId"] == run.external_id
    assert body["url"] == run.url
    assert body["parentIntegrationRunId"] is None
    assert body["integrationConfigId"] == str(run.integration_id)
    assert {"dtStarted", "dtCompleted", "destination", "destinationId", "error"} <= set(body)


def test_a_run_that_sent_a_different_total_says_so(api):
    run = IntegrationRunFactory(complete=True, total_note="USD 10.00 less, because …")

    body = api.get(org_url(f"integrationruns/{run.id}")).json()

    assert body["totalNote"] == "USD 10.00 less, because …"
    assert (
        api.get(org_url(f"integrationruns/{IntegrationRunFactory().id}")).json()["totalNote"] == ""
    )


def test_runs_of_an_entity_newest_first_or_oldest_first(api):
    bill = BillFactory()
    old = aged(IntegrationRunFactory(bill=bill), 10)
    new = IntegrationRunFactory(bill=bill, failed=True)
    IntegrationRunFactory()
    url = org_url(f"integrationruns/Bill/{bill.m3ter_id}")

    assert ids(api.get(url)) == [str(new.id), str(old.id)]
    assert ids(api.get(url, {"order": "ASC"})) == [str(old.id), str(new.id)]
    assert ids(api.get(url, {"status": "ERROR"})) == [str(new.id)]
    since = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()
    assert ids(api.get(url, {"startDate": since})) == [str(new.id)]
    assert_error(api.get(url, {"status": "LOST"}), 400, field="status", contains="WAITING")
    assert_error(api.get(url, {"startDate": "yesterday"}), 400, field="startDate")


def test_pages_of_runs_follow_the_order(api):
    bill = BillFactory()
    runs = [aged(IntegrationRunFactory(bill=bill), minutes) for minutes in (5, 4, 3, 2, 1)]
    url = org_url(f"integrationruns/Bill/{bill.m3ter_id}")

    first = api.get(url, {"pageSize": 3, "order": "ASC"}).json()
    rest = api.get(url, {"pageSize": 3, "order": "ASC", "nextToken": first["nextToken"]}).json()

    assert [r["id"] for r in first["data"] + rest["data"]] == [str(r.id) for r in runs]


def test_every_run_filtered_by_integration(api):
    integration = IntegrationConfigurationFactory()
    mine = IntegrationRunFactory(integration=integration)
    IntegrationRunFactory()

    response = api.get(org_url("integrationruns"), {"integrationConfigId": str(integration.id)})

    assert ids(response) == [str(mine.id)]


def test_runs_by_destination_id(api):
    credential = IntegrationCredentialFactory()
    mine = IntegrationRunFactory(destination_id=str(credential.id))
    IntegrationRunFactory()

    response = api.get(org_url(f"integrationruns/destinations/{credential.id}"))

    assert ids(response) == [str(mine.id)]


def test_latest_run_of_an_entity(api):
    bill = BillFactory()
    aged(IntegrationRunFactory(bill=bill), 5)
    latest = IntegrationRunFactory(bill=bill)

    body = api.get(org_url(f"integrationruns/Bill/latest/{bill.m3ter_id}")).json()

    assert body["id"] == str(latest.id)
    assert_error(api.get(org_url("integrationruns/Bill/latest/no-such-bill")), 404)


def test_latest_runs_of_several_entities(api):
    first, second = BillFactory(), BillFactory()
    aged(IntegrationRunFactory(bill=first), 5)
    latest_first = IntegrationRunFactory(bill=first)
    latest_second = IntegrationRunFactory(bill=second)

    response = api.get(
        org_url("integrationruns/Bill/latest"), {"ids": f"{first.m3ter_id},{second.m3ter_id},x"}
    )

    assert sorted(ids(response)) == sorted([str(latest_first.id), str(latest_second.id)])
    assert_error(api.get(org_url("integrationruns/Bill/latest")), 400, field="ids")


def test_the_log_as_m3ter_payload_and_as_entries(api):
    run = IntegrationRunFactory()
    RunLogEntryFactory(run=run, message="Created draft transaction txn_1.")

    body = api.get(org_url(f"integrationruns/logs/{run.id}")).json()

    assert "Created draft transaction txn_1." in base64.b64decode(body["Payload"]).decode()
    assert body["entries"][-1]["message"] == "Created draft transaction txn_1."
    assert body["entries"][-1]["level"] == "INFO"


def test_retry_sends_a_failed_run_again(api):
    run = IntegrationRunFactory(failed=True)

    body = api.post(org_url(f"integrationruns/{run.id}/retry")).json()

    assert body["id"] == str(run.id)
    assert body["status"] == "WAITING"
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING


def test_retry_of_a_completed_run_is_refused_with_the_reason(api):
    run = IntegrationRunFactory(complete=True)
    assert_error(api.post(org_url(f"integrationruns/{run.id}/retry")), 409, contains="Replay")


def test_replay_makes_a_new_run_linked_to_the_old(api):
    run = IntegrationRunFactory(complete=True)

    body = api.post(org_url(f"integrationruns/{run.id}/replay")).json()

    assert body["id"] != str(run.id)
    assert body["replayedFromIntegrationRunId"] == str(run.id)
    assert IntegrationRun.objects.get(pk=body["id"]).trigger == RunTrigger.REPLAY


def test_run_actions_need_run_permissions(client_for):
    run = IntegrationRunFactory(failed=True)
    viewer = client_for(permissions=["runs.view_integrationrun"])

    assert_error(viewer.post(org_url(f"integrationruns/{run.id}/retry")), 403)
    assert_error(viewer.post(org_url(f"integrationruns/{run.id}/replay")), 403)
    assert viewer.get(org_url(f"integrationruns/{run.id}")).status_code == 200


@pytest.mark.parametrize("path", ["integrationruns/{}", "integrationruns/logs/{}"])
@pytest.mark.parametrize("bad_id", ["nope", "5f0c6f7e-0000-4000-8000-000000000000"])
def test_unknown_runs_are_404(api, path, bad_id):
    assert_error(api.get(org_url(path.format(bad_id))), 404)


def test_replay_needs_the_same_permission_as_on_the_page(client_for):
    run = IntegrationRunFactory(complete=True)
    adder = client_for(permissions=["runs.view_integrationrun", "runs.add_integrationrun"])
    changer = client_for(
        permissions=["runs.view_integrationrun", "runs.change_integrationrun"], name="changer"
    )

    refused = adder.post(org_url(f"integrationruns/{run.id}/replay"))
    replayed = changer.post(org_url(f"integrationruns/{run.id}/replay"))

    assert_error(refused, 403, contains="runs.change_integrationrun")
    assert replayed.status_code == 200
