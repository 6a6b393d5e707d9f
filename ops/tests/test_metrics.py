"""What a delivery counts for Prometheus: Paddle requests by endpoint and status, 429s, the
delivery's duration."""

from urllib.parse import urlsplit

import pytest
from prometheus_client import REGISTRY

from ops.metrics import paddle_endpoint
from paddle_destination.tests import fixtures
from runs.tasks import run_execute_task
from runs.tests.factories import IntegrationRunFactory, bill_with_lines, connected_integration

pytestmark = pytest.mark.django_db
paddle, api_key = fixtures.paddle, fixtures.api_key


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


def test_paddle_ids_in_paths_become_one_endpoint():
    assert paddle_endpoint("/transactions/txn_01hv8x2abc") == "/transactions/{id}"
    assert paddle_endpoint("/customers/ctm_01ab/addresses") == "/customers/{id}/addresses"
    assert paddle_endpoint("/transactions") == "/transactions"


def test_a_delivery_counts_its_paddle_requests_429s_and_duration(paddle, api_key, client, settings):
    settings.METRICS_ACCESS = "open"
    host = urlsplit(paddle.url).hostname
    run = IntegrationRunFactory(
        integration=connected_integration(api_key=api_key), bill=bill_with_lines("10.00")
    )
    paddle.push_fault("rate_limit", method="POST", path="/transactions", retry_after=1)
    requests_429 = dict(host=host, method="POST", endpoint="/transactions", status="429")
    before = (
        sample("m3terpaddle_paddle_requests_total", **requests_429),
        sample("m3terpaddle_paddle_rate_limited_total", host=host),
        sample("m3terpaddle_delivery_duration_seconds_count", status="RATE_LIMIT_RETRY"),
    )

    run_execute_task(str(run.pk))

    after = (
        sample("m3terpaddle_paddle_requests_total", **requests_429),
        sample("m3terpaddle_paddle_rate_limited_total", host=host),
        sample("m3terpaddle_delivery_duration_seconds_count", status="RATE_LIMIT_RETRY"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    text = client.get("/metrics").content.decode()
    assert 'm3terpaddle_paddle_requests_total{endpoint="/transactions",host=' in text
    assert "m3terpaddle_rate_limit_wait_seconds_bucket" in text
