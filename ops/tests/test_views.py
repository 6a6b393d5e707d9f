"""/healthz, /readyz and /metrics as a load balancer, an orchestrator and Prometheus call them:
by IP address, without a session."""

import pytest

from ops.tests.factories import ready_beats
from paddle_destination.models import CircuitState, PaddleCircuit
from runs.models import RunStatus
from runs.tests.factories import IntegrationRunFactory

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_a_known_host_header(client):
    response = client.get("/healthz", HTTP_HOST="10.1.2.3")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_with_a_fresh_worker_heartbeat_and_sweep(client):
    ready_beats(worker_age=5, sweep_age=50)

    response = client.get("/readyz", HTTP_HOST="10.1.2.3")

    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert set(body["checks"]) == {"database", "broker", "worker", "sweep"}
    assert body["checks"]["broker"]["queue_depth"] == 0


def test_readyz_is_503_when_the_worker_heartbeat_is_stale(client):
    ready_beats(worker_age=61, sweep_age=5)

    response = client.get("/readyz")

    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker["ok"] is False
    assert "more than 60 s" in worker["error"]


def test_readyz_is_503_before_any_worker_has_started(client):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["error"] == "No worker heartbeat has been seen yet."


def test_readyz_is_503_when_the_sweep_has_not_run_for_long(client, settings):
    settings.READY_SWEEP_MAX_AGE_SECONDS = 120
    ready_beats(worker_age=1, sweep_age=200)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["sweep"]["ok"] is False


def test_metrics_show_runs_by_status_and_integration_and_the_oldest_waiting_run(client, settings):
    settings.METRICS_ACCESS = "open"
    IntegrationRunFactory.create_batch(2, status=RunStatus.COMPLETE, integration_name="Sandbox")
    IntegrationRunFactory(status=RunStatus.AWAITING_RETRY, integration_name="Sandbox")
    PaddleCircuit.objects.create(
        host="https://api.paddle.com", state=CircuitState.OPEN, consecutive_failures=12
    )

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 200
    text = response.content.decode()
    assert 'm3terpaddle_runs{integration="Sandbox",status="COMPLETE"} 2.0' in text
    assert 'm3terpaddle_runs{integration="Sandbox",status="AWAITING_RETRY"} 1.0' in text
    assert "m3terpaddle_oldest_waiting_run_seconds " in text
    assert "m3terpaddle_queue_depth 0.0" in text
    assert 'm3terpaddle_paddle_circuit_open{host="https://api.paddle.com"} 1.0' in text
    assert 'm3terpaddle_paddle_circuit_failures{host="https://api.paddle.com"} 12.0' in text
    assert "# TYPE m3terpaddle_delivery_duration_seconds histogram" in text
    assert "# TYPE m3terpaddle_webhook_events_received_total counter" in text


def test_metrics_with_token_access_need_the_token(client, settings):
    settings.METRICS_ACCESS, settings.METRICS_TOKEN = "token", "s3cret-scrape-token"

    refused = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")

    assert refused.status_code == wrong.status_code == 401
    assert "METRICS_TOKEN" in refused.content.decode()
    assert "s3cret" not in refused.content.decode()
    assert allowed.status_code == 200


def test_metrics_with_network_access_refuse_other_addresses(client, settings):
    settings.METRICS_ACCESS = "network"

    inside = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    outside = client.get("/metrics", REMOTE_ADDR="198.51.100.7")

    assert inside.status_code == 200
    assert outside.status_code == 403
    assert "198.51.100.7" in outside.content.decode()
