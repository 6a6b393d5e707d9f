from paddle_destination.tests.fixtures import *  # noqa: F403
