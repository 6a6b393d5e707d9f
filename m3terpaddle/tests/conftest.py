"""The Paddle stand-in with the product's settings pointed at it, for the tests of the whole
product that make real runs."""

from paddle_destination.tests.fixtures import api_key, paddle

__all__ = ["api_key", "paddle"]
