"""A local stand-in for Paddle Billing's API; see server.py for what it does and how to drive it."""

from .ids import make_api_key, new_id
from .sdk import client_for, environment_for
from .server import Config, Fault, PaddleStandin

__all__ = [
    "Config",
    "Fault",
    "PaddleStandin",
    "client_for",
    "environment_for",
    "make_api_key",
    "new_id",
]
