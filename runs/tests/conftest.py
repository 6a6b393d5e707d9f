"""The bill pages are shown to the same people as the run pages: their viewer and operator."""

from runs.tests.test_views import operator_client, viewer_client

__all__ = ["operator_client", "viewer_client"]
