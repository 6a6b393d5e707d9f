"""A local stand-in for Paddle Billing's API; see server.py for what it does and how to drive it.

SDK clients pointed at it (which need Django) are in `standins.paddle.sdk`.
"""

from .ids import make_api_key, new_id
from .server import Config, Fault, PaddleStandin

__all__ = [
    "Config",
    "Fault",
    "PaddleStandin",
    "make_api_key",
    "new_id",
]
