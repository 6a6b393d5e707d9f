"""The circuit breaker per Paddle host, through the real SDK against the stand-in."""

import time

import pytest
from paddle_billing.Resources.Shared.Operations import Pager
from paddle_billing.Resources.Transactions.Operations import ListTransactions

from credentials.models import Destination
from paddle_destination.circuit import destinations_waiting
from paddle_destination.client import paddle_client
from paddle_destination.errors import PaddleProblem, PaddleProblemKind, paddle_errors
from paddle_destination.hosts import destination_host
from paddle_destination.models import CircuitState, PaddleCircuit
from paddle_destination.tests import fixtures

pytestmark = pytest.mark.django_db
paddle, api_key, credential = fixtures.paddle, fixtures.api_key, fixtures.credential


@pytest.fixture
def circuit_settings(settings, paddle):
    settings.PADDLE_CIRCUIT_FAILURES = 3
    settings.PADDLE_CIRCUIT_PROBE_SECONDS = 0.5
    return settings


def list_one(client):
    with paddle_errors("listing transactions"):
        return client.transactions.list(ListTransactions(pager=Pager(per_page=1)))


def test_failures_in_a_row_open_the_circuit_and_requests_stop_reaching_paddle(
    circuit_settings, paddle, credential
):
    paddle.push_fault("http_500", status=503, times=None)
    client = paddle_client(credential=credential)

    kinds = []
    for _ in range(5):
        with pytest.raises(PaddleProblem) as failed:
            list_one(client)
        kinds.append(failed.value.kind)

    # Two plain failures, the third opens the circuit, then nothing more is sent.
    assert kinds == [PaddleProblemKind.TRANSIENT] * 2 + [PaddleProblemKind.UNAVAILABLE] * 3
    assert paddle.request_count("GET", "/transactions") == 3
    circuit = PaddleCircuit.objects.get(host=destination_host(Destination.PADDLE_SANDBOX))
    assert circuit.state == CircuitState.OPEN
    assert circuit.last_failure == "HTTP 503"
    assert "Paddle is unavailable since" in failed.value.message
    assert "checks every 0.5 s" in failed.value.message
    assert 0 < failed.value.retry_after <= 0.5


def test_a_probe_that_paddle_answers_closes_the_circuit(circuit_settings, paddle, credential):
    paddle.push_fault("http_500", status=502, times=3)
    client = paddle_client(credential=credential)
    for _ in range(3):
        with pytest.raises(PaddleProblem):
            list_one(client)
    assert destinations_waiting()[0] == list(Destination.values)

    time.sleep(0.55)
    assert destinations_waiting()[1] == list(Destination.values)
    list_one(client)  # the probe: Paddle answers again

    circuit = PaddleCircuit.objects.get()
    assert (circuit.state, circuit.consecutive_failures) == (CircuitState.CLOSED, 0)
    assert destinations_waiting() == ([], [])
    list_one(client)
    assert paddle.request_count("GET", "/transactions") == 5


def test_a_failed_probe_keeps_it_open_for_another_interval(circuit_settings, paddle, credential):
    paddle.push_fault("http_500", times=None)
    client = paddle_client(credential=credential)
    for _ in range(3):
        with pytest.raises(PaddleProblem):
            list_one(client)
    time.sleep(0.55)

    with pytest.raises(PaddleProblem) as probe:
        list_one(client)
    with pytest.raises(PaddleProblem):
        list_one(client)

    assert probe.value.kind == PaddleProblemKind.UNAVAILABLE
    assert paddle.request_count("GET", "/transactions") == 4  # three failures and the probe
    assert PaddleCircuit.objects.get().state == CircuitState.OPEN


def test_answers_that_are_not_5xx_keep_it_closed(circuit_settings, paddle, credential):
    client = paddle_client(credential=credential)
    paddle.push_fault("http_500", times=2)
    for _ in range(2):
        with pytest.raises(PaddleProblem):
            list_one(client)
    paddle.push_fault("rate_limit", retry_after=0)
    with pytest.raises(PaddleProblem) as limited:
        list_one(client)
    paddle.push_fault("http_500", times=2)
    for _ in range(2):
        with pytest.raises(PaddleProblem):
            list_one(client)

    assert limited.value.kind == PaddleProblemKind.RATE_LIMITED
    assert PaddleCircuit.objects.get().state == CircuitState.CLOSED
