"""Runs created by a bill event, one per integration that selects the bill."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.services import (
    runs_create_for_bill_event,
)
from runs.tests.factories import (
    bill_with_lines,
    connected_integration,
)

pytestmark = pytest.mark.django_db


def test_a_bill_event_costs_constant_queries_per_integration(integration):
    for _ in range(3):
        connected_integration()
    bill = bill_with_lines()
    with CaptureQueriesContext(connection) as captured:
        runs = runs_create_for_bill_event(bill=bill)
    assert len(runs) == 4
    assert len(captured) <= 2 + 2 * len(runs)
