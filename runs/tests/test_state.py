"""The one way a run moves: allowed moves only, and never over what happened meanwhile."""

import pytest

from runs.models import (
    RunStatus,
)
from runs.services import (
    InvalidRunTransition,
    RunChanged,
    run_transition,
)
from runs.tests.factories import (
    IntegrationRunFactory,
)
from runs.tests.helpers import refreshed

pytestmark = pytest.mark.django_db


def test_a_run_whose_lease_lapsed_cannot_overwrite_what_happened_since(integration):
    run = IntegrationRunFactory(integration=integration, status=RunStatus.STARTED)
    stale = refreshed(run)
    run_transition(run=run, to=RunStatus.AWAITING_RETRY)

    with pytest.raises(RunChanged):
        run_transition(run=stale, to=RunStatus.COMPLETE)
    with pytest.raises(InvalidRunTransition, match="cannot go from Complete to Waiting"):
        run_transition(run=IntegrationRunFactory(complete=True), to=RunStatus.WAITING)
