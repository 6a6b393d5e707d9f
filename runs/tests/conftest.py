"""Fixtures of the run engine's tests: an integration connected to the Paddle stand-in, and
bill events whose runs execute inline (Q_CLUSTER_SYNC). The bill pages are shown to the same
people as the run pages: their viewer and operator."""

import pytest

from paddle_destination.tests import fixtures
from runs.models import IntegrationRun
from runs.services import runs_create_for_bill_event
from runs.tests.factories import connected_integration
from runs.tests.test_views import operator_client, viewer_client

# The stand-in with settings pointed at it, and the sandbox key it accepts.
paddle, api_key = fixtures.paddle, fixtures.api_key

__all__ = ["operator_client", "viewer_client", "paddle", "api_key"]


@pytest.fixture
def integration(db, api_key):
    return connected_integration(api_key=api_key)


@pytest.fixture
def inline(django_capture_on_commit_callbacks):
    """Run what a block queues on commit: with Q_CLUSTER_SYNC the runs execute right there."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block


@pytest.fixture
def send(inline):
    """A bill event for `bill`, its runs executed; returns them fresh from the database."""

    def send_(bill):
        with inline():
            runs = runs_create_for_bill_event(bill=bill)
        return [IntegrationRun.objects.get(pk=run.pk) for run in runs]

    return send_
