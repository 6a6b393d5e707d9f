"""A bill in m3ter reaches Paddle as a draft invoice with nobody touching anything: pulled on
schedule, or pushed by a signed webhook. The official m3ter SDK talks to the m3ter stand-in, the
official Paddle SDK to the Paddle stand-in, and django-q2 runs every task inline."""

import json
import uuid

import pytest
from django.urls import reverse

from m3tersync.services import pulls_enqueue_due
from m3tersync.tests.signed import sign
from paddle_destination.tests import fixtures
from runs.models import IntegrationRun, RunStatus
from runs.tests.factories import connected_integration
from standins.m3ter.pytest_plugin import WEBHOOK_API_KEY, WEBHOOK_SECRET, m3ter_account, m3ter_bill

pytestmark = pytest.mark.django_db

paddle, api_key = fixtures.paddle, fixtures.api_key


@pytest.fixture
def integration(db, api_key):
    return connected_integration(api_key=api_key)


def the_draft(paddle, bill_id):
    run = IntegrationRun.objects.get(entity_id=bill_id)
    (transaction,) = paddle.dump()["transactions"]
    return run, transaction


def test_a_bill_pulled_on_schedule_becomes_a_run_and_a_paddle_draft(
    paddle, integration, m3ter_standin, m3ter_connection, django_capture_on_commit_callbacks
):
    account = m3ter_standin.put_account(m3ter_account())
    bill = m3ter_standin.put_bill(m3ter_bill(account))

    with django_capture_on_commit_callbacks(execute=True):
        pulls_enqueue_due()  # the schedule's tick

    run, transaction = the_draft(paddle, bill["id"])
    assert run.status == RunStatus.COMPLETE, run.error
    assert run.integration == integration and run.bill_version == 1
    assert run.external_id == transaction["id"]
    assert transaction["status"] in ("draft", "ready")
    assert transaction["collection_mode"] == "manual"
    [item] = transaction["items"]
    assert item["price"]["unit_price"] == {"amount": "12550", "currency_code": "USD"}


def test_a_bill_posted_by_a_signed_webhook_becomes_a_run_and_a_paddle_draft(
    client, paddle, integration, m3ter_standin, m3ter_connection, django_capture_on_commit_callbacks
):
    account = m3ter_standin.put_account(m3ter_account())
    bill = {"id": str(uuid.uuid4()), "version": 1, **m3ter_bill(account)}
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "eventName": "billing.bill.created",
            "eventTime": "2026-11-24T10:00:00.000Z",
            "m3terEvent": {"eventData": {"newDto": bill}},
        }
    ).encode()
    url = reverse("m3tersync:webhook", args=[m3ter_connection.pk])
    headers = sign(
        secret=WEBHOOK_SECRET, url=f"http://testserver{url}", api_key=WEBHOOK_API_KEY, body=body
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data=body, content_type="application/json", headers=headers)

    assert response.status_code == 202
    run, transaction = the_draft(paddle, bill["id"])
    assert run.status == RunStatus.COMPLETE, run.error
    assert run.external_id == transaction["id"]
    assert transaction["status"] in ("draft", "ready")
