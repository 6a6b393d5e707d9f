"""LOG_FORMAT=json: one JSON object a line, the run's id on every line of a delivery."""

import copy
import io
import json
import logging.config

import pytest

from paddle_destination.tests import fixtures
from runs.models import IntegrationRun, RunStatus
from runs.tasks import run_execute_task
from runs.tests.factories import IntegrationRunFactory, bill_with_lines, connected_integration

pytestmark = pytest.mark.django_db
paddle, api_key = fixtures.paddle, fixtures.api_key


@pytest.fixture
def json_log(settings):
    """The settings' logging with LOG_FORMAT=json, writing into a buffer."""
    buffer = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"].update(formatter="json", stream=buffer)
    logging.config.dictConfig(config)
    yield buffer
    logging.config.dictConfig(settings.LOGGING)


def test_every_line_of_a_delivery_carries_the_run_id(paddle, api_key, json_log):
    integration = connected_integration(api_key=api_key)
    run = IntegrationRunFactory(integration=integration, bill=bill_with_lines("10.00"))
    paddle.push_fault("http_500", method="POST", path="/transactions")
    logging.getLogger("elsewhere").info("Before the delivery.")

    run_execute_task(str(run.pk))

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    before, *delivery = lines
    assert "run_id" not in before
    assert len(delivery) >= 3  # customer, address, the refused transaction, the outcome
    assert {line["run_id"] for line in delivery} == {str(run.pk)}
    assert any(
        line["message"].startswith("Paddle POST /transactions answered 500") for line in delivery
    )
    assert delivery[-1]["level"] == "INFO"
    assert IntegrationRun.objects.get(pk=run.pk).status == RunStatus.AWAITING_RETRY


def test_log_format_must_be_plain_or_json(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import m3terpaddle.settings as module

    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT must be plain or json"):
        importlib.reload(module)
    monkeypatch.delenv("LOG_FORMAT")
    importlib.reload(module)
