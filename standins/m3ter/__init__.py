"""A local stand-in for m3ter's API; see server.py for what it does and how to drive it."""

from .server import DEFAULT_ORG_ID, Fault, M3terStandin
from .store import Store

__all__ = ["DEFAULT_ORG_ID", "Fault", "M3terStandin", "Store"]
